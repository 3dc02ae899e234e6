#!/usr/bin/env bash
# E-mail for real (issue 21): Debian's msmtp as the server's --mail-command, Python's aiosmtpd as
# the SMTP sink on loopback. A merchant gives an address; a canteen orders; the message arrives
# with the merchant's address and the Chinese subject 【帮扶】新订单.
#   usage: Tests/mail/msmtp.sh   (a debug or release `bangfu` from .build, or BANGFU_BIN)
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=18491
SMTP_PORT=18492
source Tests/support/server.sh
signin() { api /api/v1/sessions -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"bangfu-demo-2026\"}" | json '["token"]'; }

python3 -c "import mailbox, sys; mailbox.Maildir(sys.argv[1], create=True)" "$DATA/maildir"
python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$DATA/maildir" &
CHILDREN+=($!)
"$BIN" serve --data-dir "$DATA" --port $PORT --log-level warning --demo \
  --mail-command "msmtp --host=127.0.0.1 --port=$SMTP_PORT --auth=off --tls=off --from=bangfu@example.cn -t" \
  --mail-from bangfu@example.cn >> "$DATA/server.log" 2>&1 &
CHILDREN+=($!)
ready

SHOP=$(signin demo-m01)
BUYER=$(signin demo-buyer1)
ADMIN=$(signin demo-admin)
# The demo's canteen registers its organization; the admin verifies it; it files this year's plan.
CODE=$(PYTHONPATH=Tests/support python3 -c 'import bangfu_testdata as t; print(t.credit_code("11", "230100"))')
ORGANIZATION=$(api /api/v1/buyer-organizations -H "Authorization: Bearer $BUYER" -H 'Content-Type: application/json' \
  -d "{\"name\":\"省直机关第一食堂\",\"creditCode\":\"$CODE\",\"department\":\"省机关事务管理局\",\"canteenAddress\":\"哈尔滨市南岗区\",\"contactName\":\"张华\",\"contactPhone\":\"13912345678\",\"regionCode\":\"230103\"}" \
  | json '["id"]') || fail "the organization was not registered"
api "/api/v1/buyer-organizations/$ORGANIZATION/verification" -X POST -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d '{}' >/dev/null
api "/api/v1/buyer-organizations/$ORGANIZATION/quota-plans/$(date -u +%Y)" -X PUT -H "Authorization: Bearer $BUYER" \
  -H 'Content-Type: application/json' -d '{"hasCanteen":true,"canteenBudgetFen":100000000,"reservedRatioBp":1500}' >/dev/null
api /api/v1/notifications/settings -X PUT -H "Authorization: Bearer $SHOP" -H 'Content-Type: application/json' \
  -d '{"email":"shop@example.cn"}' | grep -q shop@example.cn || fail "the address was not saved"
PRODUCT=$(api "/api/v1/merchants/me/products?limit=100" -H "Authorization: Bearer $SHOP" \
  | python3 -c 'import json,sys; print(next(p["id"] for p in json.load(sys.stdin)["items"] if p["status"] == "listed" and p["stock"] > 0))')
api /api/v1/orders -H "Authorization: Bearer $BUYER" -H 'Content-Type: application/json' -H "Idempotency-Key: mail-$RANDOM" \
  -d "{\"items\":[{\"productId\":\"$PRODUCT\",\"quantity\":1}],\"shipWithinDays\":7}" > "$DATA/order.json"
ORDER=$(json "[\"orders\"][0][\"id\"]" < "$DATA/order.json") || fail "the order was not placed: $(cat "$DATA/order.json")"

for _ in $(seq 1 100); do
  [ -n "$(ls "$DATA/maildir/new" 2>/dev/null)" ] && break
  sleep 0.1
done
python3 - "$DATA/maildir" "$ORDER" <<'PY' || fail "no message with the right subject arrived"
import email, email.header, email.policy, mailbox, sys
messages = list(mailbox.Maildir(sys.argv[1], create=False))
assert messages, "the sink received nothing"
m = email.message_from_bytes(messages[0].as_bytes(), policy=email.policy.default)
subject, to = str(m["Subject"]), str(m["To"])
body = m.get_content()
assert subject == "【帮扶】新订单", subject
assert to == "shop@example.cn", to
assert sys.argv[2] in body, body
print(f"{len(messages)} message(s); to {to}, subject {subject}, naming order {sys.argv[2]}")
PY
