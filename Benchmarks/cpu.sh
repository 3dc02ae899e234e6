#!/usr/bin/env bash
# Server CPU time per request, binaries in turn on one seeded data directory's distinct paths
# (`<kind>.paths`, written by Benchmarks/distinct.py): a figure a shared machine's drift moves
# less than the rate. For each binary and kind: a 2 s warm-up, then `wrk -t2 -c32 -d<SECONDS>s`,
# printing requests/s and the server's user+system CPU milliseconds per request.
#   usage: Benchmarks/cpu.sh DATA_DIR "KINDS" SECONDS BINARY...
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1; KINDS=$2; SECS=$3; shift 3
PORT=${BANGFU_BENCH_PORT:-18450}
TICK=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
for BIN in "$@"; do
  "$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 >/dev/null 2>&1 &
  P=$!
  until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.2; done
  line="$BIN:"
  for k in $KINDS; do
    BANGFU_PATHS=$DATA/$k.paths wrk -t2 -c32 -d2s -s Benchmarks/paths.lua "https://127.0.0.1:$PORT" >/dev/null
    before=$(cpu $P)
    out=$(BANGFU_PATHS=$DATA/$k.paths wrk -t2 -c32 -d"${SECS}s" -s Benchmarks/paths.lua "https://127.0.0.1:$PORT")
    ticks=$(( $(cpu $P) - before ))
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    line="$line $k $(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')/s $(echo "scale=3; $ticks * 1000 / $TICK / $requests" | bc)ms"
  done
  echo "$line"
  kill $P; wait $P 2>/dev/null || true
done
