#!/usr/bin/env bash
# Reports benchmark (issue 7): a release build on SQLite over HTTPS with 1,000,000 order items
# (500,000 settled orders of two lines), 20,000 products and 5,000 buyer organizations; each report
# route measured alone with wrk (4 connections) as an admin, then `bangfu check`. Target: every
# report within 200 ms (the bulletin too: issue 19, also measured with thousands of distinct
# bulletin requests as a finance officer).
#   usage: Benchmarks/reports.sh [settled orders] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
ORDERS=${1:-500000}
SECONDS_PER_RUN=${2:-10}
PORT=${BANGFU_BENCH_PORT:-18446}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
swift build -c release --product bangfu >/dev/null
BIN=$(swift build -c release --show-bin-path)/bangfu
DATA=$(mktemp -d /tmp/bangfu-bench.XXXXXX)
SERVER=
trap '[ -n "$SERVER" ] && { kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; }; rm -rf "$DATA"' EXIT

echo "seeding 20,000 products, 5,000 buyer organizations and $ORDERS settled orders (2 lines each)..."
"$BIN" seed --data-dir "$DATA" --products 20000 --merchants 500 --buyers 5000 --settled-orders "$ORDERS" --log-level warning
echo 'bench admin password' | "$BIN" user add --data-dir "$DATA" --role admin --username bench-admin --log-level warning >/dev/null
"$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 &
SERVER=$!
until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.05; done
BASE="https://127.0.0.1:$PORT"
TOKEN=$(curl -sk "$BASE/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"bench-admin","password":"bench admin password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
ITEMS=$(python3 -c "import sqlite3; c=sqlite3.connect('$DATA/bangfu.sqlite'); print(c.execute('select count(*) from order_items').fetchone()[0])")
echo "order items in the database: $ITEMS"

echo "| report | requests/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | --- |"
for path in \
  "/api/v1/reports/sales?groupBy=county" "/api/v1/reports/sales?groupBy=category" \
  "/api/v1/reports/sales?groupBy=merchant" "/api/v1/reports/sales?groupBy=month" \
  "/api/v1/reports/sales?groupBy=merchant&format=csv" \
  "/api/v1/reports/quota?groupBy=organization" "/api/v1/reports/quota?groupBy=department" \
  "/api/v1/reports/alerts" "/api/v1/reports/alerts?kind=slow_moving&limit=1000" \
  "/api/v1/reports/bulletin" "/api/v1/reports/bulletin?regionCode=230100&groupBy=organization" \
  "/api/v1/reports/bulletin?groupBy=department&format=csv"; do
  OUT=$(BANGFU_TOKEN=$TOKEN BANGFU_PATHS="$path" wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/reports.lua "$BASE")
  RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
  P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
  P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
  ERRORS=$(echo "$OUT" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  echo "| \`$path\` | $RPS | $P50 | $P99 | ${ERRORS:-0} |"
done

# What finance bureaus ask for (issue 19): bulletins as the province's finance officer, every
# grouping, two years, JSON and CSV; the province as a whole, then each of its prefectures and
# counties. Every request of a run differs from the one before; nothing caches a bulletin.
echo 'bench finance password' | "$BIN" user add --data-dir "$DATA" --role finance --region-code 230000 \
  --username bench-finance --log-level warning >/dev/null
FINANCE=$(curl -sk "$BASE/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"bench-finance","password":"bench finance password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
python3 - "$DATA" <<'PY'
import json, sys
data = sys.argv[1]
codes = [r["code"] for r in json.load(open("Catalog/regions.json")) if r["code"].startswith("23") and r["code"] != "230000"]
def urls(regions):
    return [f"/api/v1/reports/bulletin?year={y}&regionCode={c}&groupBy={g}{f}"
            for c in regions for g in ("region", "department", "organization") for y in (2025, 2026) for f in ("", "&format=csv")]
open(f"{data}/province.txt", "w").write("\n".join(urls(["230000"])) + "\n")
open(f"{data}/divisions.txt", "w").write("\n".join(urls(codes)) + "\n")
PY
echo
echo "| bulletins as 黑龙江's finance officer | distinct URLs | requests/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
for set in province divisions; do
  OUT=$(BANGFU_TOKEN=$FINANCE BANGFU_PATHS_FILE="$DATA/$set.txt" wrk -t2 -c4 -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/reports.lua "$BASE")
  RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
  P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
  P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
  ERRORS=$(echo "$OUT" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  echo "| $set | $(wc -l < "$DATA/$set.txt") | $RPS | $P50 | $P99 | ${ERRORS:-0} |"
done
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
echo "database size: $(du -sh "$DATA" | cut -f1)"
"$BIN" check --data-dir "$DATA" --log-level warning
