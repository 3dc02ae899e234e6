#!/usr/bin/env bash
# Behind a reverse proxy (issue 22): Debian's nginx, configured from deploy/nginx.conf (ports and
# paths rewritten), terminates TLS in front of Bangfu started with
# `--no-tls --trusted-proxy 127.0.0.1 --rate-limit 60` (bursts of 10). Checks that two clients
# behind the proxy are throttled separately, that a forged X-Forwarded-For from an untrusted peer
# is ignored, that /metrics through the proxy answers 403 (200 on loopback, on --metrics-port and
# to a signed-in admin), and that Bangfu logs the forwarded client address. Installs nginx (apt-get) and openssl
# if missing; needs root for that.
#   usage: BANGFU_BIN=.build/debug/bangfu Tests/proxy/nginx.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}")
BANGFU_PORT=18501  # Bangfu, plain HTTP
HTTPS_PORT=18502   # nginx, TLS (the example's 443)
HTTP_PORT=18503    # nginx, plain HTTP (the example's 80)
METRICS_PORT=18504 # Bangfu's --metrics-port
SEARCH="/api/v1/products?q=%E5%A4%A7%E7%B1%B3"

passed=0
failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
die() { echo "FAIL: $1"; exit 1; }

for port in $BANGFU_PORT $HTTPS_PORT $HTTP_PORT $METRICS_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is already in use"; fi
done

WORK=$(mktemp -d /tmp/bangfu-proxy.XXXXXX)
SERVER=
NGINX_PID=
cleanup() {
  if [ -n "$NGINX_PID" ]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true  # graceful: the master stops its workers
    for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Debian's nginx and openssl. The package would start nginx as a system service on port 80; a
# policy-rc.d (if there is none already) keeps it from doing so during the install.
export DEBIAN_FRONTEND=noninteractive
install_packages() {
  local policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
  fi
  local status=0
  apt-get install -y -q "$@" >"$WORK/apt.log" 2>&1 \
    || { apt-get update -q >>"$WORK/apt.log" 2>&1 && apt-get install -y -q "$@" >>"$WORK/apt.log" 2>&1; } || status=$?
  [ -n "$policy" ] && rm -f "$policy"
  [ "$status" = 0 ] || tail -20 "$WORK/apt.log"
  return $status
}
PATH=$PATH:/usr/sbin:/sbin
command -v nginx >/dev/null || install_packages nginx || die "cannot install nginx"
command -v openssl >/dev/null || install_packages openssl || die "cannot install openssl"
NGINX=$(command -v nginx)

# A self-signed certificate for nginx.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null || die "openssl could not make a certificate"

# The test's nginx.conf: deploy/nginx.conf with its ports, paths and user rewritten, everything
# else (the proxy headers, timeouts, the event-stream location) as the example has it. Each
# rewrite must find its line, so the test notices when the example changes shape.
CONF=$WORK/nginx.conf
cp deploy/nginx.conf "$CONF"
rewrite() {  # rewrite SED-ADDRESS-REGEX REPLACEMENT-LINE (every matching line; "" deletes)
  grep -Eq "$1" "$CONF" || die "deploy/nginx.conf has no line matching /$1/ (update Tests/proxy/nginx.sh)"
  if [ -z "$2" ]; then
    sed -E -i "\\#$1#d" "$CONF"
  else
    sed -E -i "\\#$1#c\\
$2" "$CONF"
  fi
}
rewrite '^user ' 'user root;'
rewrite '^worker_processes ' 'worker_processes 1;'
rewrite '^pid ' "pid $WORK/nginx.pid;"
rewrite '^error_log ' "error_log $WORK/error.log info;"
rewrite '^ *include mime\.types;' '    include /etc/nginx/mime.types;'
rewrite '^ *access_log ' "    access_log $WORK/access.log;"
rewrite '^ *server 127\.0\.0\.1:8080;' "        server 127.0.0.1:$BANGFU_PORT;"
rewrite '^ *listen 80;' "        listen 127.0.0.1:$HTTP_PORT;"
rewrite '^ *listen 443 ssl http2;' "        listen 127.0.0.1:$HTTPS_PORT ssl http2;"
rewrite '^ *listen \[::\]:' ''
rewrite '^ *ssl_certificate ' "        ssl_certificate $WORK/tls.crt;"
rewrite '^ *ssl_certificate_key ' "        ssl_certificate_key $WORK/tls.key;"
# nginx in the foreground (its own master process, not the system's), temporary files in $WORK.
sed -i "1i daemon off;" "$CONF"
sed -i "/^http {/a\\
    client_body_temp_path $WORK/body;\\
    proxy_temp_path $WORK/proxy;\\
    fastcgi_temp_path $WORK/fastcgi;\\
    uwsgi_temp_path $WORK/uwsgi;\\
    scgi_temp_path $WORK/scgi;" "$CONF"
for header in 'X-Forwarded-For $proxy_add_x_forwarded_for' 'X-Forwarded-Proto $scheme' 'Host $host'; do
  grep -qF "proxy_set_header $header;" "$CONF" || die "the nginx config does not set $header"
done
"$NGINX" -t -q -p "$WORK" -e "$WORK/error.log" -c "$CONF" || { cat "$WORK/error.log" 2>/dev/null; die "nginx -t refuses the config"; }

mkdir "$WORK/data"
# A signed-in admin may read /metrics through the proxy.
echo "proxy-admin-2026" | "$BIN" user add --data-dir "$WORK/data" --log-level error \
  --role admin --username proxy-admin >/dev/null || die "bangfu user add failed"
"$BIN" serve --no-tls --port $BANGFU_PORT --trusted-proxy 127.0.0.1 --rate-limit 60 --data-dir "$WORK/data" \
  --metrics-port $METRICS_PORT --log-format json --log-level info >"$WORK/bangfu.log" 2>&1 &
SERVER=$!
"$NGINX" -p "$WORK" -e "$WORK/error.log" -c "$CONF" &
NGINX_PID=$!

DIRECT="http://127.0.0.1:$BANGFU_PORT"
PROXY="https://127.0.0.1:$HTTPS_PORT"
for _ in $(seq 1 300); do
  curl -s "$DIRECT/readyz" 2>/dev/null | grep -q ready && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/bangfu.log"; die "bangfu exited"; }
  sleep 0.2
done
curl -s "$DIRECT/readyz" | grep -q '"ready"' || { tail -20 "$WORK/bangfu.log"; die "bangfu is not ready on $DIRECT"; }
for _ in $(seq 1 100); do
  [ "$(curl -sk -o /dev/null -w '%{http_code}' "$PROXY/readyz")" = 200 ] && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$WORK/error.log"; die "nginx exited"; }
  sleep 0.1
done
[ "$(curl -sk -o /dev/null -w '%{http_code}' "$PROXY/readyz")" = 200 ] || { cat "$WORK/error.log"; die "/readyz through nginx"; }

# The proxy itself: HTTP/2 over TLS, and plain HTTP redirected to HTTPS.
VERSION=$(curl -sk --http2 -o /dev/null -w '%{http_version}' "$PROXY/healthz")
[ "$VERSION" = 2 ] && ok "nginx serves HTTP/2 over TLS" || bad "HTTP version through nginx: $VERSION"
REDIRECT=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$HTTP_PORT/api/v1/products")
case "$REDIRECT" in
  "301 https://127.0.0.1/api/v1/products") ok "plain HTTP redirects to HTTPS ($REDIRECT)" ;;
  *) bad "plain HTTP: $REDIRECT" ;;
esac

# searches ADDRESS BASE N [HEADER-PREFIX]: N searches from ADDRESS over one connection (so they
# fall inside one burst), each status on a line; with HEADER-PREFIX, search i sends the header
# "HEADER-PREFIXi".
searches() {
  local address=$1 base=$2 count=$3 prefix=${4:-} args=() i
  for i in $(seq 1 "$count"); do
    [ "$i" -gt 1 ] && args+=(--next)
    args+=(-sk --interface "$address" -o /dev/null -w '%{http_code}\n')
    [ -n "$prefix" ] && args+=(-H "$prefix$i")
    args+=("$base$SEARCH")
  done
  curl "${args[@]}"
}
expect_burst() {  # expect_burst WHAT STATUSES...: ten 200s, then 429
  local what=$1; shift
  local got
  got=$(echo "$@")
  if [ "$got" = "200 200 200 200 200 200 200 200 200 200 429" ]; then
    ok "$what: 10 × 200, then 429"
  else
    bad "$what: $got (expected 10 × 200, then 429)"
  fi
}

# a. Two clients behind the proxy have a bucket each. A's first search carries a request ID, for d.
A_ID="proxy-test-a-$$"
FIRST=$(curl -sk --interface 127.0.0.2 -H "X-Request-ID: $A_ID" -o /dev/null -w '%{http_code}' "$PROXY$SEARCH")
REST=$(searches 127.0.0.2 "$PROXY" 10)
expect_burst "client A (127.0.0.2) through nginx" $FIRST $REST
RETRY=$(curl -sk --interface 127.0.0.2 -o /dev/null -D - "$PROXY$SEARCH" | tr -d '\r' | awk 'tolower($1) == "retry-after:" { print $2 }')
[ -n "$RETRY" ] && ok "A's 429 carries Retry-After: $RETRY" || bad "A's 429 has no Retry-After"
B=$(curl -sk --interface 127.0.0.3 -o /dev/null -w '%{http_code}' "$PROXY$SEARCH")
[ "$B" = 200 ] && ok "client B (127.0.0.3) through nginx still gets 200 after A's 429" \
  || bad "client B (127.0.0.3) through nginx: $B after A's 429 (one bucket for both?)"

# b. Straight to Bangfu from an untrusted peer, X-Forwarded-For is the client's own word: eleven
# searches claiming eleven addresses share the peer's one bucket.
expect_burst "direct from 127.0.0.4 with a forged X-Forwarded-For: 203.0.113.N each" \
  $(searches 127.0.0.4 "$DIRECT" 11 "X-Forwarded-For: 203.0.113.")

# c. /metrics: 403 through the proxy (a relayed request is never loopback, whatever its
# X-Forwarded-For says), 200 straight from a loopback address that is not the proxy's, 200 on
# --metrics-port, and 200 through the proxy for a signed-in admin. (Straight from 127.0.0.1 itself
# a request comes from the trusted proxy's address, so Bangfu treats it as relayed too.)
M=$(curl -sk -o /dev/null -w '%{http_code}' "$PROXY/metrics")
[ "$M" = 403 ] && ok "/metrics through nginx: 403" || bad "/metrics through nginx: $M (expected 403)"
M=$(curl -sk -H 'X-Forwarded-For: 127.0.0.1' -o /dev/null -w '%{http_code}' "$PROXY/metrics")
[ "$M" = 403 ] && ok "/metrics through nginx with X-Forwarded-For: 127.0.0.1: 403" \
  || bad "/metrics through nginx claiming loopback: $M (expected 403)"
M=$(curl -s --interface 127.0.0.4 -o /dev/null -w '%{http_code}' "$DIRECT/metrics")
[ "$M" = 200 ] && ok "/metrics directly on Bangfu from loopback (127.0.0.4): 200" \
  || bad "/metrics directly from loopback (127.0.0.4): $M (expected 200)"
M=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/metrics")
[ "$M" = 200 ] && ok "/metrics on --metrics-port $METRICS_PORT: 200" || bad "/metrics on --metrics-port: $M (expected 200)"
SIGNIN=$(curl -sk --interface 127.0.0.5 -D "$WORK/signin.headers" "$PROXY/api/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"proxy-admin","password":"proxy-admin-2026"}')
TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$SIGNIN" 2>/dev/null || true)
if [ -n "$TOKEN" ]; then
  M=$(curl -sk -H "Authorization: Bearer $TOKEN" -o /dev/null -w '%{http_code}' "$PROXY/metrics")
  [ "$M" = 200 ] && ok "/metrics through nginx for a signed-in admin: 200" || bad "/metrics for the admin through nginx: $M"
  COOKIE=$(tr -d '\r' <"$WORK/signin.headers" | grep -i '^set-cookie:' || true)
  echo "$COOKIE" | grep -qi '; *secure' && ok "the session cookie through nginx is Secure" \
    || bad "the session cookie through nginx is not Secure: $COOKIE"
else
  bad "the admin could not sign in through nginx: $(head -c 300 <<<"$SIGNIN")"
fi

# d. Bangfu's access log names the forwarded client, not nginx.
LINE=$(grep -F "\"request_id\":\"$A_ID\"" "$WORK/bangfu.log" | grep -F '"message":"request"' || true)
if [ -z "$LINE" ]; then
  bad "no access-log line for A's request ($A_ID)"
elif grep -qF '"client":"127.0.0.2"' <<<"$LINE"; then
  ok "Bangfu's access log has A's request with \"client\":\"127.0.0.2\""
else
  bad "A's access-log line: $LINE"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
