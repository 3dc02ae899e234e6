#!/usr/bin/env bash
# Two Bangfu processes on one PostgreSQL database (issue 10), deployed as README "Deployment" says:
# migrations once with `bangfu migrate`, then both servers on the same database and the same
# shared data directory (signing keys, uploads, TLS). Races at the last units, at the last of a
# budget and with one Idempotency-Key, each spread over both processes; then `bangfu check`.
#   usage: Tests/scale-out/two-processes.sh postgres://user@host:port/database?sslmode=disable
# The database must exist and be empty; the script uses a debug or release `bangfu` from .build.
set -euo pipefail
cd "$(dirname "$0")/../.."
URL=${1:?give a postgres:// URL of an empty database}
BIN=${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}
DATA=$(mktemp -d /tmp/bangfu-scaleout.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DATA"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BIN" migrate --data-dir "$DATA" --database "$URL" --log-level warning
"$BIN" seed --data-dir "$DATA" --database "$URL" --products 50 --merchants 3 --buyers 61 --buyer-password 'scale out 2026' --log-level warning
echo 'scale admin 2026' | "$BIN" user add --data-dir "$DATA" --database "$URL" --role admin --username scaleadmin --log-level warning >/dev/null
for port in 18461 18462; do
  "$BIN" serve --data-dir "$DATA" --database "$URL" --port $port --log-level warning &
  PIDS+=($!)
  until curl -sk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.1; done
done
server() { echo "https://127.0.0.1:$((18461 + $1 % 2))"; }

# One product with exactly 10 units; buyer 61's organization with a budget for exactly 10 of it.
PRODUCT=$(psql "$URL" -tAc "SELECT id FROM products WHERE status = 'listed' ORDER BY id LIMIT 1")
PRICE=$(psql "$URL" -tAc "SELECT price_fen FROM products WHERE id = '$PRODUCT'")
psql "$URL" -qc "UPDATE products SET stock = 10 WHERE id = '$PRODUCT'"
BUDGET_PRODUCT=$(psql "$URL" -tAc "SELECT id FROM products WHERE status = 'listed' AND id <> '$PRODUCT' ORDER BY id LIMIT 1")
BUDGET_PRICE=$(psql "$URL" -tAc "SELECT price_fen FROM products WHERE id = '$BUDGET_PRODUCT'")
psql "$URL" -qc "UPDATE products SET stock = 100000 WHERE id = '$BUDGET_PRODUCT'"
psql "$URL" -qc "UPDATE quota_plans SET canteen_budget_fen = $((BUDGET_PRICE * 10)), reserved_ratio_bp = 1000,
  reserved_fen = $((BUDGET_PRICE * 10 / 10)) WHERE organization_id =
  (SELECT organization_id FROM buyer_members m JOIN users u ON u.id = m.user_id WHERE u.username = 'seed-b61')"

for i in $(seq 1 61); do
  curl -sk "$(server $i)/api/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\":\"seed-b$i\",\"password\":\"scale out 2026\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$DATA/token-$i"
done

place() { # index token product key → writes status and body
  curl -sk -o "$DATA/body-$4" -w '%{http_code}' "$(server $1)/api/v1/orders" -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: $4" \
    -d "{\"items\":[{\"productId\":\"$3\",\"quantity\":1}]}" > "$DATA/status-$4"
}

echo "60 buyers, both processes, at the last 10 units..."
for i in $(seq 1 60); do place $i "$(cat "$DATA/token-$i")" "$PRODUCT" "units-$i" & done; wait_jobs() { for j in $(jobs -p); do case " ${PIDS[*]} " in *" $j "*) ;; *) wait $j;; esac; done; }; wait_jobs
CREATED=$(grep -l 201 "$DATA"/status-units-* | wc -l)
SHORT=$(grep -l insufficient_stock "$DATA"/body-units-* | wc -l)
[ "$CREATED" = 10 ] && [ "$SHORT" = 50 ] || fail "last units: $CREATED placed, $SHORT refused (want 10 and 50)"
[ "$(psql "$URL" -tAc "SELECT stock || '/' || held FROM products WHERE id = '$PRODUCT'")" = "0/10" ] || fail "stock/held not 0/10"

echo "50 checkouts of one organization, both processes, at the last of its budget..."
T61=$(cat "$DATA/token-61")
for i in $(seq 1 50); do place $i "$T61" "$BUDGET_PRODUCT" "budget-$i" & done; wait_jobs
CREATED=$(grep -l 201 "$DATA"/status-budget-* | wc -l)
OVER=$(grep -l quota_budget_exceeded "$DATA"/body-budget-* | wc -l)
[ "$CREATED" = 10 ] && [ "$OVER" = 40 ] || fail "last budget: $CREATED placed, $OVER refused (want 10 and 40)"

echo "20 identical requests with one Idempotency-Key, both processes..."
T1=$(cat "$DATA/token-1")
OTHER=$(psql "$URL" -tAc "SELECT id FROM products WHERE status = 'listed' AND stock > 100 AND id NOT IN ('$PRODUCT', '$BUDGET_PRODUCT') ORDER BY id LIMIT 1")
for i in $(seq 1 20); do
  curl -sk -o "$DATA/body-same-$i" -w '%{http_code}' "$(server $i)/api/v1/orders" -H "Authorization: Bearer $T1" \
    -H 'Content-Type: application/json' -H "Idempotency-Key: one-key" \
    -d "{\"items\":[{\"productId\":\"$OTHER\",\"quantity\":2}]}" > "$DATA/status-same-$i" &
done
wait_jobs
[ "$(grep -l 201 "$DATA"/status-same-* | wc -l)" = 20 ] || fail "not every duplicate answered 201"
[ "$(python3 -c "import json,glob; print(len({json.load(open(f))['checkoutId'] for f in glob.glob('$DATA/body-same-*')}))")" = 1 ] || fail "duplicates saw several checkouts"
[ "$(psql "$URL" -tAc "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'one-key'")" = 1 ] || fail "key stored twice"

echo "an order through one process, its stock read at once through the other..."
stock() { curl -sk "$(server $1)/api/v1/products/$OTHER" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stock"])'; }
BEFORE=$(stock 0)
curl -sk -o /dev/null "$(server 1)/api/v1/orders" -H "Authorization: Bearer $T1" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: cross-read" -d "{\"items\":[{\"productId\":\"$OTHER\",\"quantity\":3}]}"
AFTER=$(stock 0)
[ "$AFTER" = "$((BEFORE - 3))" ] || fail "the other process showed stock $AFTER after the order (was $BEFORE)"

echo "a merchant suspended through one process, hidden at once from the other's listing and facets..."
ADMIN=$(curl -sk "$(server 1)/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"scaleadmin","password":"scale admin 2026"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
MERCHANT=$(psql "$URL" -tAc "SELECT merchant_id FROM products WHERE id = '$OTHER'")
ON_SALE="status = 'listed' AND merchant_active = 1 AND certificate_expires_at > (extract(epoch from now()) * 1000)::bigint"
HIDDEN=$(psql "$URL" -tAc "SELECT COUNT(*) FROM products WHERE merchant_id = '$MERCHANT' AND $ON_SALE")
listed() { curl -sk "$(server $1)/api/v1/products?limit=1" | python3 -c 'import json,sys; print(sum(c["count"] for c in json.load(sys.stdin)["facets"]["category"]))'; }
BEFORE=$(listed 0)
[ "$HIDDEN" -gt 0 ] && [ "$BEFORE" = "$(psql "$URL" -tAc "SELECT COUNT(*) FROM products WHERE $ON_SALE")" ] || fail "listing counted $BEFORE"
curl -sk -o /dev/null -w '%{http_code}' "$(server 1)/api/v1/merchants/$MERCHANT/suspension" -H "Authorization: Bearer $ADMIN" \
  -H 'Content-Type: application/json' -d '{"reason":"scale-out test"}' | grep -q '^20' || fail "suspension refused"
# The time curl measures from the suspension's answer to the other process's listing.
SECS=$(curl -sk -o "$DATA/listing" -w '%{time_total}' "$(server 0)/api/v1/products?limit=1")
AFTER=$(python3 -c 'import json,sys; print(sum(c["count"] for c in json.load(open(sys.argv[1]))["facets"]["category"]))' "$DATA/listing")
ELAPSED=$(python3 -c "print(int(float('$SECS') * 1000))")
[ "$AFTER" = "$((BEFORE - HIDDEN))" ] || fail "the other process listed $AFTER products after the suspension (want $((BEFORE - HIDDEN)))"
[ "$ELAPSED" -lt 100 ] || fail "the other process took $ELAPSED ms to answer"
echo "  answered by the other process in $ELAPSED ms, $HIDDEN products hidden"
curl -sk -o /dev/null -X DELETE "$(server 0)/api/v1/merchants/$MERCHANT/suspension" -H "Authorization: Bearer $ADMIN"
[ "$(listed 1)" = "$BEFORE" ] || fail "the reinstated merchant's products did not come back at once"

for p in "${PIDS[@]}"; do kill $p; done; wait 2>/dev/null || true; PIDS=()
"$BIN" check --data-dir "$DATA" --database "$URL" --log-level warning
echo "two-process races: ok"
