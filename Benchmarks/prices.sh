#!/usr/bin/env bash
# Price monitoring benchmark (issue 20): a release build on SQLite over HTTPS with 100,000
# products (net contents from their specifications, 98 % priced within a band, 2 % at twice it)
# and 1,000,000 order items (500,000 settled orders of two lines). Measured with wrk: product
# details of random products (each reads its category's kept median), the price alerts as an
# admin and as each county's officer (distinct URLs), and the cost of keeping a median: the
# statements one price change runs for the largest category, timed by sqlite3. Then
# `bangfu check`, which recomputes every median.
#   usage: Benchmarks/prices.sh [products] [settled orders] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=${1:-100000}
ORDERS=${2:-500000}
SECONDS_PER_RUN=${3:-10}
PORT=${BANGFU_BENCH_PORT:-18447}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
command -v sqlite3 >/dev/null || { apt-get update -q && apt-get install -y -q sqlite3; }
swift build -c release --product bangfu >/dev/null
BIN=$(swift build -c release --show-bin-path)/bangfu
DATA=$(mktemp -d /tmp/bangfu-bench.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && { kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; }; rm -rf "$DATA"' EXIT

echo "seeding $PRODUCTS products, 5,000 buyer organizations and $ORDERS settled orders (2 lines each)..."
START=$(date +%s)
"$BIN" seed --data-dir "$DATA" --products "$PRODUCTS" --merchants 1000 --buyers 5000 --settled-orders "$ORDERS" --log-level warning
echo "seeded in $(( $(date +%s) - START )) s"
DB="$DATA/bangfu.sqlite"
echo 'bench admin password' | "$BIN" user add --data-dir "$DATA" --role admin --username bench-admin --log-level warning >/dev/null
sqlite3 "$DB" "select count(*) || ' order items' from order_items; select count(*) || ' categories with a median, ' || sum(comparable) || ' comparable products' from category_price_medians where median_per_kg_fen is not null;"

# The officer of the county with the most products, and 20,000 random product ids.
COUNTIES=$(sqlite3 "$DB" "select origin_county_code from products group by 1 order by count(*) desc limit 1")
for code in $COUNTIES; do
  echo 'bench county password' | "$BIN" user add --data-dir "$DATA" --role county --county-code "$code" \
    --username "bench-county-$code" --log-level warning >/dev/null
done
sqlite3 "$DB" "select id from products order by random() limit 20000" > "$DATA/products.txt"

"$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 &
SERVER=$!
until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.05; done
BASE="https://127.0.0.1:$PORT"
token() {
  curl -sk "$BASE/api/v1/sessions" -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
ADMIN=$(token bench-admin 'bench admin password')
measure() {  # label, distinct count, wrk arguments...
  local label=$1 distinct=$2; shift 2
  OUT=$(wrk -t2 -c4 -d"${SECONDS_PER_RUN}s" --latency "$@")
  RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
  P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
  P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
  ERRORS=$(echo "$OUT" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  echo "| $label | $distinct | $RPS | $P50 | $P99 | ${ERRORS:-0} |"
}
echo "| workload | distinct URLs | requests/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
BANGFU_PRODUCTS="$DATA/products.txt" measure "product details (unit price and median)" 20000 -s Benchmarks/detail.lua "$BASE"
for kind in price_outlier price_jump; do
  BANGFU_TOKEN=$ADMIN BANGFU_PATHS="/api/v1/reports/alerts?kind=$kind&limit=100" \
    measure "admin: \`alerts?kind=$kind&limit=100\`" 1 -s Benchmarks/reports.lua "$BASE"
done
BANGFU_TOKEN=$ADMIN BANGFU_PATHS="/api/v1/reports/alerts?kind=price_outlier&limit=1000" \
  measure "admin: \`alerts?kind=price_outlier&limit=1000\`" 1 -s Benchmarks/reports.lua "$BASE"
BANGFU_TOKEN=$ADMIN BANGFU_PATHS="/api/v1/reports/alerts" measure "admin: every alert kind" 1 -s Benchmarks/reports.lua "$BASE"
FIRST=$(echo "$COUNTIES" | head -1)
BANGFU_TOKEN=$(token "bench-county-$FIRST" 'bench county password') BANGFU_PATHS="/api/v1/reports/alerts" \
  measure "county officer ($FIRST): every alert kind" 1 -s Benchmarks/reports.lua "$BASE"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=

# What one price change costs its category's median: the count and the offset read, on the
# largest category (the statements `ProductStore.computedMedian` runs), best of five.
BIG=$(sqlite3 "$DB" "select category_id from category_price_medians order by comparable desc limit 1")
N=$(sqlite3 "$DB" "select comparable from category_price_medians where category_id = '$BIG'")
OFFSET=$(( (N - 1) / 2 ))
echo "largest category: $BIG with $N comparable products"
for _ in 1 2 3 4 5; do
  sqlite3 "$DB" <<SQL | awk '/Run Time/ {print $4}'
.timer on
select count(*) from products where category_id = '$BIG' and per_kg_fen is not null and status = 'listed' and merchant_active = 1;
select per_kg_fen from products where category_id = '$BIG' and per_kg_fen is not null and status = 'listed' and merchant_active = 1 order by per_kg_fen limit 2 offset $OFFSET;
SQL
done | paste -sd' ' | sed 's/^/seconds (count, offset) × 5: /'
echo "database size: $(du -sh "$DATA" | cut -f1)"
"$BIN" check --data-dir "$DATA" --log-level warning && echo "bangfu check: every sum and median holds"
