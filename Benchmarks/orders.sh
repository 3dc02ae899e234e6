#!/usr/bin/env bash
# Order placement benchmark (issue 6): a release build on SQLite over HTTPS, 64 concurrent buyers
# placing checkouts with unique Idempotency-Keys spread over buyers and products, then `bangfu
# check` on the database (plan sums = recomputation from orders, holds = open orders, no negative
# stock, audit chain). Stops what it started.
#   usage: Benchmarks/orders.sh [products] [buyers] [seconds]
# BANGFU_BENCH_WEBHOOKS=1 (SQLite only) gives every merchant a webhook for order.placed, received by
# Debian's nginx over HTTPS on loopback, and reports how long the outbox takes to drain once the
# load stops. BANGFU_BENCH_BIN=path runs that binary instead of building one.
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
if [ -n "${BANGFU_BENCH_BIN:-}" ]; then
  BIN=$BANGFU_BENCH_BIN
else
  swift build -c release --product bangfu >/dev/null
  BIN=$(swift build -c release --show-bin-path)/bangfu
fi
DATA=$(mktemp -d /tmp/bangfu-bench.XXXXXX)
SERVER=
NGINX=
trap '[ -n "$SERVER" ] && { kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; }; [ -n "$NGINX" ] && kill $NGINX 2>/dev/null; rm -rf "$DATA"' EXIT

echo "seeding $PRODUCTS products, $BUYERS buyer organizations..."
"$BIN" seed "${DB_OPTION[@]}" --data-dir "$DATA" --products "$PRODUCTS" --merchants 500 --buyers "$BUYERS" --buyer-password "$PASSWORD" --log-level warning
WEBHOOK_OPTIONS=()
if [ -n "${BANGFU_BENCH_WEBHOOKS:-}" ]; then
  command -v nginx >/dev/null || { apt-get update -q && apt-get install -y -q nginx; }
  HOOK_PORT=$((PORT + 1))
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$DATA/hook.key" -out "$DATA/hook.pem" 2>/dev/null
  cat > "$DATA/nginx.conf" <<CONF
worker_processes 1;
pid $DATA/nginx.pid;
error_log $DATA/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $DATA/nginx-body;
  server {
    listen 127.0.0.1:$HOOK_PORT ssl;
    ssl_certificate $DATA/hook.pem;
    ssl_certificate_key $DATA/hook.key;
    location / { return 200; }
  }
}
CONF
  nginx -c "$DATA/nginx.conf" -p "$DATA" -g 'daemon off;' &
  NGINX=$!
  # Every merchant's owner registers a webhook for order.placed (written as registration writes it).
  python3 - "$DATA/bangfu.sqlite" "$HOOK_PORT" <<'PY'
import secrets, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1000)
rows = [(secrets.token_hex(13), "merchant", m, owner, f"https://127.0.0.1:{sys.argv[2]}/hooks/{m}", "order.placed",
         "whsec_" + secrets.token_hex(32), now) for m, owner in c.execute("SELECT id, owner_id FROM merchants")]
c.executemany("INSERT INTO webhooks (id, owner_kind, owner_id, created_by, url, events, secret, created_at) VALUES (?,?,?,?,?,?,?,?)", rows)
c.commit()
print(f"{len(rows)} webhooks registered")
PY
  WEBHOOK_OPTIONS=(--webhook-allow-private --webhook-ca-file "$DATA/hook.pem")
fi
"$BIN" serve "${DB_OPTION[@]}" --data-dir "$DATA" --port "$PORT" --log-level warning --rate-limit 0 "${WEBHOOK_OPTIONS[@]}" &
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

# Bytes the server writes during the run (/proc/PID/io write_bytes: the WAL, the checkpoints into
# the database file), per order placed: a figure this machine's noise leaves alone, unlike the rate.
written() { awk '/^write_bytes/ {print $2}' /proc/$SERVER/io; }
orders() { python3 -c "import sqlite3; c=sqlite3.connect('file:$DATA/bangfu.sqlite?mode=ro', uri=True); print(c.execute('select count(*) from orders').fetchone()[0])"; }
WRITTEN_BEFORE=$(written); ORDERS_BEFORE=$([ -z "${BANGFU_BENCH_DATABASE:-}" ] && orders || echo 0)
OUT=$(BANGFU_TOKENS="$DATA/tokens" BANGFU_PRODUCTS="$DATA/products" \
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/orders.lua "$BASE")
WRITTEN=$(( $(written) - WRITTEN_BEFORE ))
RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
ERRORS=$(echo "$OUT" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
echo "| route | connections | requests/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
echo "| POST /api/v1/orders | $CONNECTIONS | $RPS | $P50 | $P99 | ${ERRORS:-0} |"
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
if [ -z "${BANGFU_BENCH_DATABASE:-}" ]; then
  PLACED=$(( $(orders) - ORDERS_BEFORE ))
  echo "written by the server during the run: $((WRITTEN / 1024)) KiB, $((WRITTEN / (PLACED > 0 ? PLACED : 1) / 1024)) KiB per order ($PLACED orders)"
fi
if [ -n "${BANGFU_BENCH_WEBHOOKS:-}" ]; then
  python3 - "$DATA/bangfu.sqlite" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
start = time.time()
def count(status):
    return c.execute("SELECT COUNT(*) FROM webhook_deliveries WHERE status = ?", (status,)).fetchone()[0]
pending = count("pending")
print(f"when the load stopped: {pending} deliveries pending, {count('delivered')} delivered")
while pending and time.time() - start < 120:
    time.sleep(0.1)
    pending = count("pending")
print(f"outbox drained in {time.time() - start:.1f} s" if not pending else f"NOT drained after 120 s: {pending} pending")
print(f"deliveries: {count('delivered')} delivered, {count('failed')} failed")
PY
fi
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
if [ -n "${BANGFU_BENCH_DATABASE:-}" ]; then
  ORDERS=$(psql "${BANGFU_BENCH_DATABASE%%\?*}" -tAc "SELECT COUNT(*) FROM orders")
else
  ORDERS=$(python3 -c "import sqlite3; c=sqlite3.connect('$DATA/bangfu.sqlite'); print(c.execute('select count(*) from orders').fetchone()[0])")
fi
echo "orders in the database: $ORDERS"
"$BIN" check "${DB_OPTION[@]}" --data-dir "$DATA" --log-level warning
