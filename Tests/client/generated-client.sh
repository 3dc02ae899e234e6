#!/usr/bin/env bash
# Generated client (issue 22): openapi-python-client turns the OpenAPI document served by a demo
# server into a Python package, which is installed and drives a short story against that server
# (Tests/client/story.py: register, sign in, search, an organization verified by the admin, the
# year's plan, an order with its Idempotency-Key, the plan read back). Any warning or error the
# generator prints about the document fails the test.
#   usage: Tests/client/generated-client.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BANGFU_BIN:-$(swift build --show-bin-path)/bangfu}
PORT=${BANGFU_CLIENT_PORT:-18491}
BASE="https://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/bangfu-client.XXXXXX)
DATA="$WORK/data"
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export PIP_ROOT_USER_ACTION=ignore
pip_install() { python3 -m pip install -q "$@" || python3 -m pip install -q --break-system-packages "$@"; }
python3 -c 'import openapi_python_client' 2>/dev/null || pip_install openapi-python-client
python3 -m openapi_python_client --version

# The document built into the binary: what ships.
"$BIN" serve --data-dir "$DATA" --port "$PORT" --demo --log-level error &
SERVER=$!
for _ in $(seq 1 300); do
  curl -sk "$BASE/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "FAIL: the server exited"; exit 1; }
  sleep 0.2
done
curl -sfk "$BASE/readyz" >/dev/null || { echo "FAIL: the server is not ready"; exit 1; }

curl -sfk "$BASE/openapi.yaml" -o "$WORK/openapi.yaml"
# openapi-python-client handles JSON, forms, multipart and application/octet-stream bodies only.
# Raw uploads and downloads (PDF, JPEG, PNG) are bytes to it, and this document is text.
cat > "$WORK/config.yaml" <<'EOF'
project_name_override: bangfu-client
package_name_override: bangfu_client
content_type_overrides:
  application/pdf: application/octet-stream
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  application/yaml: text/plain
EOF
status=0
python3 -m openapi_python_client generate --path "$WORK/openapi.yaml" --config "$WORK/config.yaml" --meta setup \
  --output-path "$WORK/client" --fail-on-warning > "$WORK/generate.log" 2>&1 || status=$?
cat "$WORK/generate.log"
# A clean run prints only "Generating <path>"; anything else is the generator speaking about the document.
if [ "$status" -ne 0 ] || grep -v -e '^Generating ' -e '^[[:space:]]*$' "$WORK/generate.log" | grep -q .; then
  echo "FAIL: openapi-python-client warned about the document (exit $status)"
  exit 1
fi

# Every model is a named schema (an inline object or enum would add one such as
# GetApiV1MeResponse200), every operation a function named by its operationId under its tag.
python3 - "$WORK/openapi.yaml" "$WORK/client/bangfu_client" <<'PY'
import ast, os, re, sys
from ruamel.yaml import YAML
doc = YAML(typ="safe").load(open(sys.argv[1], encoding="utf-8"))
package = sys.argv[2]
source = open(os.path.join(package, "models", "__init__.py"), encoding="utf-8").read()
models = set(ast.literal_eval(re.search(r"__all__ = (\(.*?\))", source, re.S).group(1)))
schemas = set(doc["components"]["schemas"])
operations = [op for item in doc["paths"].values() for method, op in item.items() if method != "parameters"]
tags = {t["name"] for t in doc["tags"]}
api = os.path.join(package, "api")
folders = {d for d in os.listdir(api) if os.path.isdir(os.path.join(api, d)) and not d.startswith("__")}
functions = [f for d in folders for f in os.listdir(os.path.join(api, d)) if f.endswith(".py") and f != "__init__.py"]
problems = [f"model {name} is not a named schema" for name in sorted(models - schemas)]
problems += [f"schema {name} made no model" for name in sorted(schemas - models)]
problems += [f"api folder {d} is not a tag" for d in sorted(folders - tags)]
problems += [f"function {f} is named after its path" for f in functions if "_api_v1_" in f]
if len(functions) != len(operations):
    problems.append(f"{len(functions)} functions for {len(operations)} operations")
print("\n".join(problems) or f"{len(models)} models, {len(functions)} functions in {len(folders)} tags")
sys.exit(1 if problems else 0)
PY
pip_install --target "$WORK/site" "$WORK/client"
PYTHONPATH="$WORK/site" python3 Tests/client/story.py "$BASE"
