#!/usr/bin/env bash
# Webhooks survive a killed server (issue 21): an HTTPS receiver on loopback fails the first three
# attempts of a delivery, then takes it; the server is SIGKILLed after the first attempt and
# started again. The delivery still arrives: every attempt carries the same event id and the same
# bytes, each signed as API.md says with the secret shown at registration, and the log says
# `delivered` after four attempts.
#   usage: Tests/webhooks/kill-retry.sh   (a debug or release `bangfu` from .build, or BANGFU_BIN)
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=18481
HOOK_PORT=18482
source Tests/support/server.sh
start() {
  "$BIN" serve --data-dir "$DATA" --port $PORT --log-level warning --webhook-allow-private --webhook-retry-seconds 1 \
    --webhook-ca-file "$DATA/receiver.pem" >> "$DATA/server.log" 2>&1 &
  SERVER=$!
  CHILDREN+=($SERVER)
  ready
}
attempts() { [ -f "$DATA/received" ] && wc -l < "$DATA/received" || echo 0; }
wait_for() {  # wait_for N SECONDS: until the receiver has seen N requests
  for _ in $(seq 1 $(($2 * 10))); do [ "$(attempts)" -ge "$1" ] && return 0; sleep 0.1; done
  fail "the receiver saw $(attempts) requests, expected $1 within $2 s"
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$DATA/receiver.key" -out "$DATA/receiver.pem" 2>/dev/null
python3 Tests/webhooks/receiver.py $HOOK_PORT "$DATA/receiver.pem" "$DATA/receiver.key" "$DATA/received" 3 &
CHILDREN+=($!)

"$BIN" seed --data-dir "$DATA" --products 20 --merchants 2 --buyers 1 --buyer-password 'webhook test 2026' --log-level warning
echo 'webhook admin 2026' | "$BIN" user add --data-dir "$DATA" --role admin --username hookadmin --log-level warning >/dev/null
start
ADMIN=$(api /api/v1/sessions -H 'Content-Type: application/json' -d '{"username":"hookadmin","password":"webhook admin 2026"}' | json '["token"]')
BUYER=$(api /api/v1/sessions -H 'Content-Type: application/json' -d '{"username":"seed-b1","password":"webhook test 2026"}' | json '["token"]')
CREATED=$(api /api/v1/webhooks -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d "{\"url\":\"https://127.0.0.1:$HOOK_PORT/bangfu\",\"events\":[\"order.placed\"]}")
SECRET=$(echo "$CREATED" | json '["secret"]') || fail "registration answered $CREATED"
HOOK=$(echo "$CREATED" | json '["id"]')
PRODUCT=$(python3 -c "import sqlite3; print(sqlite3.connect('$DATA/bangfu.sqlite').execute(\"SELECT id FROM products WHERE status = 'listed' AND stock > 0 ORDER BY id LIMIT 1\").fetchone()[0])")
ORDER=$(api /api/v1/orders -H "Authorization: Bearer $BUYER" -H 'Content-Type: application/json' -H "Idempotency-Key: hook-$RANDOM" \
  -d "{\"items\":[{\"productId\":\"$PRODUCT\",\"quantity\":1}],\"shipWithinDays\":7}" | json '["orders"][0]["id"]') || fail "the order was not placed"

wait_for 1 10
sleep 0.5  # the first failure is recorded; then the server dies without warning
kill -9 $SERVER; wait $SERVER 2>/dev/null || true
echo "killed the server after attempt 1 of order $ORDER's delivery"
sleep 2
start
wait_for 4 60
sleep 1
STATUS=$(api "/api/v1/webhooks/$HOOK/deliveries" -H "Authorization: Bearer $ADMIN" | json '["items"][0]["status"]')
[ "$STATUS" = delivered ] || fail "the delivery log says $STATUS"

python3 - "$DATA/received" "$SECRET" "$ORDER" <<'PY' || fail "the deliveries are not as signed"
import hashlib, hmac, json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
secret, order = sys.argv[2].encode(), sys.argv[3]
assert [l["status"] for l in lines][:4] == [500, 500, 500, 200], [l["status"] for l in lines]
assert len({l["body"] for l in lines}) == 1, "the attempts sent different bodies"
assert len({l["headers"]["Bangfu-Event-Id"] for l in lines}) == 1, "the attempts carried different event ids"
for l in lines:
    parts = dict(p.split("=", 1) for p in l["headers"]["Bangfu-Signature"].split(","))
    expected = hmac.new(secret, (parts["t"] + "." + l["body"]).encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), "a signature does not verify"
event = json.loads(lines[0]["body"])
assert event["type"] == "order.placed" and event["data"]["id"] == order and event["id"] == lines[0]["headers"]["Bangfu-Event-Id"]
print(f"{len(lines)} attempts of event {event['id']} ({event['type']} {order}), each signed; delivered after a SIGKILL")
PY
kill $SERVER; wait $SERVER 2>/dev/null || true
