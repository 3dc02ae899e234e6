#!/usr/bin/env bash
# Order placement benchmark (issue 6): a release build on SQLite over HTTPS, 64 concurrent buyers
# placing checkouts with unique Idempotency-Keys spread over buyers and products, then `bangfu
# check` on the database (plan sums = recomputation from orders, holds = open orders, no negative
# stock, audit chain). Stops what it started.
#   usage: Benchmarks/orders.sh [products] [buyers] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=${1:-100000}
BUYERS=${2:-2000}
SECONDS_PER_RUN=${3:-20}
CONNECTIONS=${BANGFU_BENCH_CONNECTIONS:-64}
PORT=${BANGFU_BENCH_PORT:-18444}
PASSWORD=bangfu-bench-2026
# BANGFU_BENCH_DATABASE=postgres://… (an empty database) runs it on PostgreSQL instead of SQLite.
DB_OPTION=()
[ -n "${BANGFU_BENCH_DATABASE:-}" ] && DB_OPTION=(--database "$BANGFU_BENCH_DATABASE")
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
swift build -c release --product bangfu >/dev/null
BIN=$(swift build -c release --show-bin-path)/bangfu
DATA=$(mktemp -d /tmp/bangfu-bench.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && { kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; }; rm -rf "$DATA"' EXIT

echo "seeding $PRODUCTS products, $BUYERS buyer organizations..."
"$BIN" seed "${DB_OPTION[@]}" --data-dir "$DATA" --products "$PRODUCTS" --merchants 500 --buyers "$BUYERS" --buyer-password "$PASSWORD" --log-level warning
"$BIN" serve "${DB_OPTION[@]}" --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 &
SERVER=$!
until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.05; done
BASE="https://127.0.0.1:$PORT"

# One session for each of 64 buyers, and 1,000 products with plenty of stock.
: > "$DATA/tokens"
for i in $(seq 1 64); do
  curl -sk "$BASE/api/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\":\"seed-b$i\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >> "$DATA/tokens"
done
CURSOR=""
: > "$DATA/products"
for page in $(seq 1 30); do
  BODY=$(curl -sk "$BASE/api/v1/products?limit=100&sort=newest${CURSOR:+&cursor=$CURSOR}")
  echo "$BODY" | python3 -c 'import json,sys; [print(i["id"]) for i in json.load(sys.stdin)["items"] if i["stock"] >= 3000]' >> "$DATA/products"
  CURSOR=$(echo "$BODY" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nextCursor"] or "")')
  [ -z "$CURSOR" ] && break
done
echo "buyers signed in: $(wc -l < "$DATA/tokens"), products ordered: $(wc -l < "$DATA/products")"

OUT=$(BANGFU_TOKENS="$DATA/tokens" BANGFU_PRODUCTS="$DATA/products" \
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/orders.lua "$BASE")
RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
ERRORS=$(echo "$OUT" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
echo "| route | connections | requests/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
echo "| POST /api/v1/orders | $CONNECTIONS | $RPS | $P50 | $P99 | ${ERRORS:-0} |"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
if [ -n "${BANGFU_BENCH_DATABASE:-}" ]; then
  ORDERS=$(psql "${BANGFU_BENCH_DATABASE%%\?*}" -tAc "SELECT COUNT(*) FROM orders")
else
  ORDERS=$(python3 -c "import sqlite3; c=sqlite3.connect('$DATA/bangfu.sqlite'); print(c.execute('select count(*) from orders').fetchone()[0])")
fi
echo "orders in the database: $ORDERS"
"$BIN" check "${DB_OPTION[@]}" --data-dir "$DATA" --log-level warning
