#!/usr/bin/env bash
# Catalog benchmark (issue 4): a release build serving 100,000 seeded products over HTTPS on this
# machine, measured with wrk (32 connections, keep-alive) against /healthz, the catalog listing and
# search with 2-character and 3+-character queries. Prints a table; stops what it started.
#   usage: Benchmarks/catalog.sh [products] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=${1:-100000}
SECONDS_PER_RUN=${2:-15}
PORT=${BANGFU_BENCH_PORT:-18443}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
swift build -c release --product bangfu >/dev/null
BIN=$(swift build -c release --show-bin-path)/bangfu
DATA=$(mktemp -d /tmp/bangfu-bench.XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

echo "seeding $PRODUCTS products..."
/usr/bin/time -f "seed: %e s, peak RSS %M KB" "$BIN" seed --data-dir "$DATA" --products "$PRODUCTS" --merchants 500 --log-level warning
START=$(date +%s.%N)
"$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 &
SERVER=$!
until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.05; done
echo "start-up to ready: $(echo "$(date +%s.%N) - $START" | bc) s"

run() { # name path [lua queries]
  local name=$1 path=$2 out
  if [ -n "${3:-}" ]; then
    out=$(BANGFU_QUERIES=$3 wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/search.lua "https://127.0.0.1:$PORT")
  else
    out=$(wrk -t2 -c32 -d"${SECONDS_PER_RUN}s" --latency "https://127.0.0.1:$PORT$path")
  fi
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  printf "| %-28s | %10s | %8s | %8s | %s |\n" "$name" "$rps" "$p50" "$p99" "${errors:-0}"
  echo "$rps" > "$DATA/rps-$name"
}

echo "| route | requests/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | --- |"
run healthz /healthz
run list /api/v1/products
# 2-character and 3+-character Chinese queries (URL-encoded): 大米 木耳 蜂蜜 小米 / 黑木耳 稻花香 椴树蜂蜜 长粒香大米
run search-2 "" "%E5%A4%A7%E7%B1%B3,%E6%9C%A8%E8%80%B3,%E8%9C%82%E8%9C%9C,%E5%B0%8F%E7%B1%B3"
run search-3plus "" "%E9%BB%91%E6%9C%A8%E8%80%B3,%E7%A8%BB%E8%8A%B1%E9%A6%99,%E6%A4%B4%E6%A0%91%E8%9C%82%E8%9C%9C,%E9%95%BF%E7%B2%92%E9%A6%99%E5%A4%A7%E7%B1%B3"
H=$(cat "$DATA/rps-healthz"); L=$(cat "$DATA/rps-list")
echo "list / healthz: $(echo "scale=2; $L / $H" | bc)"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
echo "database size: $(du -sh "$DATA" | cut -f1)"
