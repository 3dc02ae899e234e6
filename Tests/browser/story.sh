#!/usr/bin/env bash
# Web UI story test (issue 8): the whole marketplace through the browser UI in headless Chromium,
# driven by Selenium (Tests/browser/story.py). Only the admin and the county officer of 延寿县 are
# created beforehand, with the CLI; screenshots of every portal go to $BANGFU_SCREENSHOTS
# (default /tmp/bangfu-browser-screenshots).
#   usage: Tests/browser/story.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
BIN=${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}
PORT=${BANGFU_BROWSER_PORT:-18651}
export BANGFU_SCREENSHOTS=${BANGFU_SCREENSHOTS:-/tmp/bangfu-browser-screenshots}

if ! command -v chromium >/dev/null || [ ! -x /usr/bin/chromedriver ]; then
  apt-get update -q
  apt-get install -y -q chromium chromium-driver
fi
# Chinese fonts, so that the screenshots are readable (the test passes without them).
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  apt-get install -y -q fonts-noto-cjk || echo "warning: no CJK font installed; screenshots will show boxes"
fi
if ! python3 -c 'import selenium' 2>/dev/null; then
  python3 -m pip install -q selenium || python3 -m pip install -q --break-system-packages selenium
fi

DATA=$(mktemp -d /tmp/bangfu-browser.XXXXXX)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

printf 'admin-story-2026\n' | "$BIN" user add --data-dir "$DATA" --role admin --username admin1 \
  --display-name 平台管理员 --log-level warning
printf 'county-story-2026\n' | "$BIN" user add --data-dir "$DATA" --role county --username county1 \
  --display-name 延寿县乡村振兴局 --county-code 230129 --log-level warning

"$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level warning --public-dir "$PWD/Public" --catalog-dir "$PWD/Catalog" &
SERVER=$!
for _ in $(seq 1 300); do
  curl -sk "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "FAIL: the server exited"; exit 1; }
  sleep 0.2
done
curl -sfk "https://127.0.0.1:$PORT/readyz" >/dev/null || { echo "FAIL: the server is not ready"; exit 1; }

mkdir -p "$DATA/files"
python3 Tests/browser/story.py "https://127.0.0.1:$PORT" "$DATA/files"
"$BIN" check --data-dir "$DATA" --log-level warning
echo "browser story: ok"
