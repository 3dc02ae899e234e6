#!/usr/bin/env bash
# Start-up to ready on an already seeded data directory (`bangfu seed --products 1000000`), for
# each binary in turn: prints the server's peak RSS when the catalog index is built, the CPU
# seconds it used, and the build's own time from its progress line.
#   usage: Benchmarks/startup.sh DATA_DIR BINARY...
set -euo pipefail
DATA=$1; shift
PORT=${BANGFU_BENCH_PORT:-18450}
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
for BIN in "$@"; do
  "$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level info --rate-limit 0 > "$LOG" 2>&1 &
  PID=$!
  while ! grep -qa "built the" "$LOG"; do sleep 0.3; kill -0 $PID 2>/dev/null || { echo "$BIN died"; break; }; done
  echo "$BIN $(grep VmHWM /proc/$PID/status | tr -s " ") $(awk '{print "cpu", ($14+$15)/100}' /proc/$PID/stat) $(tr '\r' '\n' < "$LOG" | grep -a '100%' | awk '{print $NF, $(NF-1)}')"
  kill $PID; wait $PID 2>/dev/null || true
done
