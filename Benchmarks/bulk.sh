#!/usr/bin/env bash
# A merchant suspended and restored while buyers browse (issue 18, RESULTS "tenth pass"): the server
# on a seeded data directory, 8 s of the distinct mix (`mix.paths`, Benchmarks/distinct.py) as
# warm-up, then 24 s of it while `sqlite3` sets `merchant_active` to 0 and back on every product of
# the merchant with the most products, three times (the triggers write the change feed as any
# other process's change would). Prints the mix's rate and p99 and, from `/metrics`, how long the
# batches of changes held the catalog index (`bangfu_catalog_apply_duration_seconds`).
#   usage: Benchmarks/bulk.sh DATA_DIR BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=$1; BIN=$2
PORT=${BANGFU_BENCH_PORT:-18450}
command -v sqlite3 >/dev/null || { apt-get update -q && apt-get install -y -q sqlite3; }
DB=$DATA/bangfu.sqlite
[ -f "$DATA/mix.paths" ] || { echo "$DATA/mix.paths is missing: write it with Benchmarks/distinct.py" >&2; exit 1; }
MERCHANT=$(sqlite3 "$DB" "SELECT merchant_id FROM products GROUP BY merchant_id ORDER BY COUNT(*) DESC LIMIT 1")
COUNT=$(sqlite3 "$DB" "SELECT COUNT(*) FROM products WHERE merchant_id = '$MERCHANT'")
"$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 >/dev/null 2>&1 &
SERVER=$!
OUT=$(mktemp); LOAD=
restore() {
  sqlite3 -cmd ".timeout 10000" "$DB" "UPDATE products SET merchant_active = 1 WHERE merchant_id = '$MERCHANT'" || true
  [ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null || true
  kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true
  rm -f "$OUT"
}
trap restore EXIT
until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 "$SERVER" 2>/dev/null || { echo "the server stopped" >&2; exit 1; }
  sleep 0.2
done
BANGFU_PATHS=$DATA/mix.paths wrk -t2 -c32 -d8s -s Benchmarks/paths.lua "https://127.0.0.1:$PORT" >/dev/null
BANGFU_PATHS=$DATA/mix.paths wrk -t2 -c32 -d24s --latency -s Benchmarks/paths.lua "https://127.0.0.1:$PORT" > "$OUT" &
LOAD=$!
sleep 2
for _ in 1 2 3; do
  for active in 0 1; do
    sqlite3 -cmd ".timeout 10000" "$DB" "UPDATE products SET merchant_active = $active WHERE merchant_id = '$MERCHANT'"
    sleep 3
  done
done
wait $LOAD
echo "merchant $MERCHANT ($COUNT products) suspended and restored 3 times"
echo "mix: $(awk '/Requests\/sec/ {print $2 "/s"} $1=="99%" {print "p99 " $2}' "$OUT" | tr '\n' ' ')"
curl -sk "https://127.0.0.1:$PORT/metrics" | grep '^bangfu_catalog_apply_duration_seconds' || echo "(no catalog metrics in this binary)"
