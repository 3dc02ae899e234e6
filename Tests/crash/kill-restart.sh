#!/usr/bin/env bash
# Crash safety (issue 11): an order load against the SQLite server, which is killed with SIGKILL
# at random moments several times and restarted. Afterwards every order acknowledged with 201
# exists, stock plus held units equal the starting stock, and `bangfu check` holds (plan sums =
# recomputation from orders, holds = open orders, sales totals, audit chain); a backup taken
# during the load opens, migrates and verifies.
#   usage: Tests/crash/kill-restart.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-4}
BIN=${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}
DATA=$(mktemp -d /tmp/bangfu-crash.XXXXXX)
PORT=18471
SERVER=
trap '[ -n "$SERVER" ] && kill -9 $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
sql() { python3 -c "import sqlite3,sys; c=sqlite3.connect('$DATA/bangfu.sqlite'); [print('|'.join(map(str,r))) for r in c.execute(sys.argv[1])]" "$1"; }
start() {
  "$BIN" serve --data-dir "$DATA" --port $PORT --log-level warning &
  SERVER=$!
  until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.1; done
}

"$BIN" seed --data-dir "$DATA" --products 100 --merchants 4 --buyers 16 --buyer-password 'crash test 2026' --log-level warning
start
for i in $(seq 1 16); do
  curl -sk "https://127.0.0.1:$PORT/api/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\":\"seed-b$i\",\"password\":\"crash test 2026\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
done > "$DATA/tokens"
sql "SELECT id FROM products WHERE status = 'listed' AND stock >= 500 ORDER BY id LIMIT 30" > "$DATA/products"
sql "SELECT id || ':' || (stock + held) FROM products ORDER BY id" > "$DATA/stock-before"
: > "$DATA/acknowledged"
for round in $(seq 1 "$ROUNDS"); do
  python3 Tests/crash/load.py $PORT "$DATA/tokens" "$DATA/products" "$DATA/acknowledged" 30 &
  LOAD=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(1.5, 4), 2))')"
  if [ "$round" = 2 ]; then
    # A backup taken during the load: every order acknowledged before it began must be in it.
    cp "$DATA/acknowledged" "$DATA/acknowledged-before-backup"
    "$BIN" backup --data-dir "$DATA" --to "$DATA/backup.sqlite" --log-level warning
    # While the server holds the data directory, restore refuses (exit 69) and changes nothing.
    status=0; "$BIN" restore --data-dir "$DATA" --from "$DATA/backup.sqlite" --log-level warning 2>/dev/null || status=$?
    [ "$status" = 69 ] || fail "restore while serving answered $status, expected 69"
  fi
  kill -9 $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
  echo "round $round: killed the server with $(wc -l < "$DATA/acknowledged") orders acknowledged so far"
  start
  sleep 1
  kill $LOAD 2>/dev/null || true; wait $LOAD 2>/dev/null || true
done
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=

ACKED=$(sort -u "$DATA/acknowledged" | wc -l)
[ "$ACKED" -gt 0 ] || fail "no order was acknowledged"
python3 - "$DATA" <<'PY' || fail "acknowledged orders are missing"
import sqlite3, sys
data = sys.argv[1]
acked = {l.strip() for l in open(data + "/acknowledged") if l.strip()}
c = sqlite3.connect(data + "/bangfu.sqlite")
present = {r[0] for r in c.execute("SELECT id FROM orders")}
missing = acked - present
print(f"{len(acked)} acknowledged, {len(present)} in the database, {len(missing)} missing")
sys.exit(1 if missing else 0)
PY
sql "SELECT id || ':' || (stock + held) FROM products ORDER BY id" > "$DATA/stock-after"
diff -q "$DATA/stock-before" "$DATA/stock-after" >/dev/null || fail "stock plus held changed"
"$BIN" check --data-dir "$DATA" --log-level warning
if [ "$ROUNDS" -ge 2 ]; then
  # Restored into a data directory of its own, the backup verifies and holds every order
  # acknowledged before it was taken.
  mkdir -p "$DATA/restored"
  "$BIN" restore --data-dir "$DATA/restored" --from "$DATA/backup.sqlite" --log-level warning
  "$BIN" check --data-dir "$DATA/restored" --log-level warning
  python3 - "$DATA" <<'PY' || fail "orders acknowledged before the backup are missing from it"
import sqlite3, sys
data = sys.argv[1]
acked = {l.strip() for l in open(data + "/acknowledged-before-backup") if l.strip()}
present = {r[0] for r in sqlite3.connect(data + "/restored/bangfu.sqlite").execute("SELECT id FROM orders")}
missing = acked - present
print(f"backup restored: {len(acked)} orders acknowledged before it, {len(missing)} missing")
sys.exit(1 if missing else 0)
PY
fi
echo "crash safety: ok"
