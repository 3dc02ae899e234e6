#!/usr/bin/env bash
# One self-contained binary (issue 22): the bangfu binary copied alone into an empty directory
# serves the web UI, the OpenAPI document, the reference data and the demo marketplace, and each
# kind of failure an operator meets prints one line on standard error with its documented exit
# code (README "Commands").
#   usage: BANGFU_BIN=.build/release/bangfu Tests/ops/standalone.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}")
WORK=$(mktemp -d /tmp/bangfu-standalone.XXXXXX)
PORT=18493
SERVER=
BLOCKER=
cleanup() {
  [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  [ -n "$BLOCKER" ] && { kill "$BLOCKER" 2>/dev/null || true; wait "$BLOCKER" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }

cp "$BIN" "$WORK/bangfu"
cd "$WORK"
[ "$(ls)" = bangfu ] || { echo "FAIL: the directory is not empty"; exit 1; }

./bangfu serve --port $PORT --data-dir ./data --demo --log-level warning &
SERVER=$!
for _ in $(seq 1 300); do curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
BASE="https://127.0.0.1:$PORT"
curl -sfk "$BASE/" | grep -q '帮扶' && ok "the web UI is served from the binary" || bad "no web UI"
[ "$(curl -sk -o /dev/null -w '%{content_type}' "$BASE/js/main.js")" = "text/javascript; charset=utf-8" ] \
  && ok "scripts have their type" || bad "script content type"
DOC=$(curl -sfk "$BASE/openapi.yaml")
[ "${DOC:0:13}" = "openapi: 3.1." ] && ok "the OpenAPI document is served" || bad "no OpenAPI document"
COUNTIES=$(curl -sfk "$BASE/api/v1/counties" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$COUNTIES" = 28 ] && ok "28 counties from the built-in Catalog/" || bad "counties: $COUNTIES"
PRODUCTS=$(curl -sfk "$BASE/api/v1/products?limit=100" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$PRODUCTS" -gt 0 ] && ok "the demo marketplace from the built-in demo.json ($PRODUCTS products on the first page)" || bad "no demo products"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=

# Each failure: one line on standard error, starting "bangfu: " (or swift-argument-parser's own
# usage answer), and its exit code.
expect_failure() {  # expect_failure CODE WORDS DESCRIPTION -- COMMAND...
  local code=$1 words=$2 what=$3; shift 4
  local status=0
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
  local lines
  lines=$(grep -c . "$WORK/err" || true)
  if [ "$status" = "$code" ] && [ "$lines" = 1 ] && grep -q -- "$words" "$WORK/err"; then
    ok "$what: exit $status, $(cat "$WORK/err")"
  else
    bad "$what: exit $status (expected $code), $lines lines: $(head -c 400 "$WORK/err")"
  fi
}
expect_failure 78 "does not parse" "a database URL that does not parse" -- ./bangfu migrate --data-dir ./data --database 'postgres://[x' --log-level error
expect_failure 78 "sqlite://" "a database URL of an unknown kind" -- ./bangfu migrate --data-dir ./data --database 'mysql://x/y' --log-level error
if [ "$(id -u)" = 0 ]; then  # only root can give a directory away
  mkdir other && chown 65534 other
  expect_failure 77 "belongs to uid 65534" "a data directory of another user" -- ./bangfu migrate --data-dir ./other --log-level error
fi
expect_failure 66 "/nowhere/cert.pem" "a missing TLS certificate" -- ./bangfu serve --data-dir ./data --port $PORT --tls-cert /nowhere/cert.pem --tls-key /nowhere/key.pem --log-level error
expect_failure 66 "catalog-dir" "a missing reference data directory" -- ./bangfu serve --data-dir ./data --port $PORT --catalog-dir /nowhere --log-level error
cp data/keys/signing-keys.json keys.json
echo 'not keys' > data/keys/signing-keys.json
expect_failure 65 "signing keys" "an unreadable signing key file" -- ./bangfu keys list --data-dir ./data --log-level error
cp keys.json data/keys/signing-keys.json
python3 -m http.server $PORT --bind 127.0.0.1 >/dev/null 2>&1 &
BLOCKER=$!
sleep 1
expect_failure 69 "in use" "a port in use" -- ./bangfu serve --data-dir ./data --port $PORT --log-level error
kill "$BLOCKER"; wait "$BLOCKER" 2>/dev/null || true; BLOCKER=
for help in "--help" "serve --help" "help serve"; do
  status=0; ./bangfu $help >/dev/null 2>&1 || status=$?
  [ "$status" = 0 ] && ok "bangfu $help: exit 0" || bad "bangfu $help: exit $status"
done
status=0; ./bangfu migrate --no-such-option >/dev/null 2>&1 || status=$?
[ "$status" = 64 ] && ok "an unknown option: exit 64" || bad "an unknown option: exit $status"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
