# Sourced by the scripts that drive a running `bangfu` (Tests/webhooks, Tests/mail): from the
# repository's root, with PORT set. Gives BIN (a debug or release build, or BANGFU_BIN), DATA (a
# fresh directory, removed on exit with the processes listed in CHILDREN), and helpers:
#   fail MESSAGE      print it and the server log's tail, exit 1
#   api PATH [curl…]  HTTPS to the server on PORT
#   json EXPR         a value of the JSON on standard input (`json '["id"]'`)
#   ready             wait until /readyz answers ready
set -euo pipefail
BIN=${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}
DATA=$(mktemp -d "/tmp/bangfu-$(basename "$(dirname "$0")").XXXXXX")
CHILDREN=()
trap 'for p in "${CHILDREN[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DATA"' EXIT
fail() { echo "FAIL: $*"; [ -f "$DATA/server.log" ] && tail -20 "$DATA/server.log"; exit 1; }
api() { curl -sk "https://127.0.0.1:$PORT$1" "${@:2}"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
ready() { until curl -sk "https://127.0.0.1:$PORT/readyz" 2>/dev/null | grep -q '"ready"'; do sleep 0.1; done; }
