#!/usr/bin/env bash
# Alternates release binaries run by run on one seeded data directory, so a machine's drift
# falls on every binary alike: for each binary, start the server, then per kind a 2 s warm-up and
# `wrk -t2 -c32 -d<SECONDS>s --latency` over the directory's distinct paths (`<kind>.paths`,
# written by Benchmarks/distinct.py), printing rate, p99, the server's user+system CPU
# milliseconds per request (a figure a shared machine's drift moves less than the rate) and its
# peak RSS (KiB).
#   usage: Benchmarks/alternate.sh DATA_DIR "KINDS" SECONDS BINARY...
#   e.g.   Benchmarks/alternate.sh /tmp/b100k "mix list pages" 6 /tmp/bangfu-a /tmp/bangfu-b /tmp/bangfu-a /tmp/bangfu-b
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
    BANGFU_PATHS=$DATA/$k.paths wrk -t2 -c32 -d2s -s Benchmarks/paths.lua "https://127.0.0.1:$PORT" >/dev/null; sleep 1
    before=$(cpu $P)
    out=$(BANGFU_PATHS=$DATA/$k.paths wrk -t2 -c32 -d"${SECS}s" --latency -s Benchmarks/paths.lua "https://127.0.0.1:$PORT")
    ticks=$(( $(cpu $P) - before ))
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    line="$line $k $(echo "$out" | awk '/Requests\/sec/ {print $2}')/s p99 $(echo "$out" | awk '$1=="99%" {print $2}')"
    line="$line cpu $(echo "scale=3; $ticks * 1000 / $TICK / $requests" | bc)ms"
    sleep 1
  done
  echo "$line rss $(awk '/VmHWM/ {print $2}' /proc/$P/status)"
  kill $P; wait $P 2>/dev/null || true
done
