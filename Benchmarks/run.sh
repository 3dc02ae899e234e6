#!/usr/bin/env bash
# The whole benchmark (issue 9) in one command: a release build, a fresh data directory seeded with
# 100,000 products, 500 merchants and 2,000 buyer organizations with plans, the server started
# (start-up timed), then wrk over HTTPS with keep-alive against /healthz, the product list, product
# detail, search (2 and 3+ characters) and order placement; one table with each figure's ratio to
# /healthz, the targets, peak RSS and database size; `bangfu check` at the end. Stops what it
# started.   usage: Benchmarks/run.sh [seconds per route]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
PORT=${BANGFU_BENCH_PORT:-18450}
PASSWORD=bangfu-bench-2026
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
swift build -c release --product bangfu >/dev/null
BIN=$(swift build -c release --show-bin-path)/bangfu
DATA=$(mktemp -d /tmp/bangfu-bench.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && { kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; }; rm -rf "$DATA"' EXIT

SEED_START=$(date +%s.%N)
"$BIN" seed --data-dir "$DATA" --products 100000 --merchants 500 --buyers 2000 --buyer-password "$PASSWORD" --log-level warning >/dev/null
SEED=$(echo "$(date +%s.%N) - $SEED_START" | bc)
START=$(date +%s.%N)
"$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 &
SERVER=$!
until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.02; done
STARTUP=$(echo "$(date +%s.%N) - $START" | bc)
BASE="https://127.0.0.1:$PORT"

: > "$DATA/tokens"
for i in $(seq 1 64); do
  curl -sk "$BASE/api/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\":\"seed-b$i\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >> "$DATA/tokens"
done
: > "$DATA/products"; : > "$DATA/all-products"; CURSOR=""
for page in $(seq 1 30); do
  BODY=$(curl -sk "$BASE/api/v1/products?limit=100${CURSOR:+&cursor=$CURSOR}")
  echo "$BODY" | python3 -c 'import json,sys; [print(i["id"]) for i in json.load(sys.stdin)["items"]]' >> "$DATA/all-products"
  echo "$BODY" | python3 -c 'import json,sys; [print(i["id"]) for i in json.load(sys.stdin)["items"] if i["stock"] >= 3000]' >> "$DATA/products"
  CURSOR=$(echo "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nextCursor"] or "")')
  [ -z "$CURSOR" ] && break
done

declare -A RPS P99 TARGET
row() { # name connections wrk-args...
  local name=$1 c=$2; shift 2
  # Two seconds of warm-up first (not counted): each route's first requests fill SQLite's page
  # cache; the catalog itself keeps no cache of answers.
  # Each run starts after the requests of the one before have drained: the server finishes a
  # request whose client has gone (Hummingbird does not cancel it), and a catalog route's queue
  # (8 running, 24 waiting) full of the last run's work answers 503 to the next run's first ones.
  [ "$name" = orders ] || { wrk -t2 -c"$c" -d2s "$@" >/dev/null; sleep 2; }
  local out; out=$(wrk -t2 -c"$c" -d"${SECONDS_PER_RUN}s" --latency "$@")
  sleep 2
  RPS[$name]=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  P99[$name]=$(echo "$out" | awk '$1=="99%" {print $2}')
  local p50 errors; p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  local ratio; ratio=$(echo "scale=2; ${RPS[$name]} / ${RPS[healthz]:-${RPS[$name]}}" | bc)
  printf "| %-14s | %3s | %10s | %9s | %9s | %5s | %-28s | %s |\n" "$name" "$c" "${RPS[$name]}" "$p50" "${P99[$name]}" "$ratio" "${TARGET[$name]:-ceiling}" "${errors:-0}"
}
TARGET[list]="≥ 0.40 × healthz"; TARGET[detail]="≥ 0.50 × healthz"
TARGET[search-2]="p99 ≤ 20 ms"; TARGET[search-3plus]="p99 ≤ 20 ms"; TARGET[orders]="≥ 1,200/s, invariants"
echo "| route | conn | requests/s | p50 | p99 | ratio | target | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
row healthz 32 "$BASE/healthz"
row list 32 "$BASE/api/v1/products"
BANGFU_PRODUCTS="$DATA/all-products" row detail 32 -s Benchmarks/detail.lua "$BASE"
BANGFU_QUERIES="%E5%A4%A7%E7%B1%B3,%E6%9C%A8%E8%80%B3,%E8%9C%82%E8%9C%9C,%E5%B0%8F%E7%B1%B3" \
  row search-2 32 -s Benchmarks/search.lua "$BASE"
BANGFU_QUERIES="%E9%BB%91%E6%9C%A8%E8%80%B3,%E7%A8%BB%E8%8A%B1%E9%A6%99,%E6%A4%B4%E6%A0%91%E8%9C%82%E8%9C%9C,%E9%95%BF%E7%B2%92%E9%A6%99%E5%A4%A7%E7%B1%B3" \
  row search-3plus 32 -s Benchmarks/search.lua "$BASE"
# Distinct requests as buyers make them (issue 18): thousands of different listings (category,
# county, label, price range, every sort), searches for pieces of the seeded titles, pages 2 to 5
# through cursors, details of random products, and a mix of them; no answer is cached.
python3 Benchmarks/distinct.py "$BASE" "$DATA/bangfu.sqlite" "$DATA" 5000
TARGET[list-distinct]="p99 ≤ 25 ms"; TARGET[search-distinct]="p99 ≤ 25 ms"; TARGET[pages]="p99 ≤ 25 ms"
TARGET[detail-random]="p99 ≤ 25 ms"; TARGET[mix-distinct]="≥ 0.25 × healthz, p99 ≤ 25 ms"
for kind in list search pages detail mix; do
  name=$kind-distinct; [ $kind = pages ] && name=pages; [ $kind = detail ] && name=detail-random
  BANGFU_PATHS="$DATA/$kind.paths" row $name 32 -s Benchmarks/paths.lua "$BASE"
done
BANGFU_TOKENS="$DATA/tokens" BANGFU_PRODUCTS="$DATA/products" row orders 64 -s Benchmarks/orders.lua "$BASE"
# Current reads: an order's stock shows in the very next listing.
PRODUCT=$(head -1 "$DATA/products"); TOKEN=$(head -1 "$DATA/tokens")
stock() { curl -sk "$BASE/api/v1/products?q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")&limit=100" \
  | python3 -c 'import json,sys; print([i["stock"] for i in json.load(sys.stdin)["items"] if i["id"] == sys.argv[1]][0])' "$2"; }
TITLE=$(curl -sk "$BASE/api/v1/products/$PRODUCT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["title"])')
BEFORE=$(stock "$TITLE" "$PRODUCT")
curl -sk -o /dev/null "$BASE/api/v1/orders" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: bench-stock-read" -d "{\"items\":[{\"productId\":\"$PRODUCT\",\"quantity\":2}]}"
AFTER=$(stock "$TITLE" "$PRODUCT")
echo; echo "stock read right after an order: $BEFORE → $AFTER (want $((BEFORE - 2)))"
RSS=$(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
echo
echo "seed: ${SEED} s; start-up to ready with 100,000 products: ${STARTUP} s (target ≤ 2 s);" \
  "server peak RSS: $RSS (target ≤ 300 MB); database: $(du -sh "$DATA" | cut -f1)"
"$BIN" check --data-dir "$DATA" --log-level warning
