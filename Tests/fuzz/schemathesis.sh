#!/usr/bin/env bash
# Fuzzing (issue 11): schemathesis generates requests from the served OpenAPI document against a
# demo server, as an admin, a merchant, a buyer and nobody, and fails on any 5xx answer. The
# number of examples per operation is bounded so CI stays short.
#   usage: Tests/fuzz/schemathesis.sh [examples per operation]
set -euo pipefail
cd "$(dirname "$0")/../.."
EXAMPLES=${1:-10}
BIN=${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}
DATA=$(mktemp -d /tmp/bangfu-fuzz.XXXXXX)
PORT=18481
command -v schemathesis >/dev/null || python3 -m pip install -q schemathesis
"$BIN" serve --data-dir "$DATA" --port $PORT --demo --log-level error --rate-limit 0 --notification-stream-seconds 1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
until curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 0.2; done
BASE="https://127.0.0.1:$PORT"
token() {
  curl -sk "$BASE/api/v1/sessions" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"bangfu-demo-2026\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
for user in demo-admin demo-m01 demo-buyer1 ""; do
  echo "== as ${user:-nobody}"
  HEADER=()
  [ -n "$user" ] && HEADER=(-H "Authorization: Bearer $(token "$user")")
  # Signing out would end the role's session early and leave the rest of its run anonymous.
  # filter_too_much is a health check of the generator (raw PDF bodies are hard to generate
  # within the schema), not of the server: it failed a run at random, so it is not a verdict.
  if ! schemathesis run "$BASE/openapi.yaml" --tls-verify false -c not_a_server_error "${HEADER[@]}" \
    --exclude-operation-id signOut --suppress-health-check=filter_too_much \
    --max-examples "$EXAMPLES" --phases examples,fuzzing --seed 832 > "$DATA/report" 2>&1; then
    cat "$DATA/report"
    echo "FAIL: a 5xx answer as ${user:-nobody}"
    exit 1
  fi
  sed -n '/SUMMARY/,$p' "$DATA/report"
done
echo "fuzzing: no 5xx"
