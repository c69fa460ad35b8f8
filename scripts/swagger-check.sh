#!/usr/bin/env bash
# Checks Swagger UI at /docs on each service in headless Chromium: builds and starts the whole
# system on a fresh SQLite database in a temporary directory, then runs scripts/swagger-check.mjs
# (the page renders with nothing fetched from off the machine, lists the operations, and "Try it
# out" answers an authorised GET /customers/{id} on customers-api). Screenshots go to
# target/swagger-check/<service>.png.
#
# Ports: CUSTOMERS_PORT, ORDERS_PORT, ORCHESTRATOR_PORT (default 3001, 3002, 3000); they must be free.
# Installs what is missing: Debian's chromium (apt-get) and npm's playwright-core, into
# target/swagger-check/node_modules (no browser download: it drives /usr/bin/chromium).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

PLAYWRIGHT_CORE_VERSION=1.65.1
export CUSTOMERS_PORT="${CUSTOMERS_PORT:-3001}"
export ORDERS_PORT="${ORDERS_PORT:-3002}"
export ORCHESTRATOR_PORT="${ORCHESTRATOR_PORT:-3000}"
export SWAGGER_CHECK_DIR="${SWAGGER_CHECK_DIR:-$root/target/swagger-check}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
ports=("$CUSTOMERS_PORT" "$ORDERS_PORT" "$ORCHESTRATOR_PORT")
started=$(date +%s)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Tools: chromium and node from Debian, playwright-core from npm (only what is missing).
# Only what is missing: a machine's own Node.js (e.g. NodeSource's, which bundles npm) conflicts
# with Debian's npm package.
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt-get)"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p "$SWAGGER_CHECK_DIR"
installed=$(node -p "require('$SWAGGER_CHECK_DIR/node_modules/playwright-core/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$PLAYWRIGHT_CORE_VERSION" ]; then
  echo "installing playwright-core@$PLAYWRIGHT_CORE_VERSION into $SWAGGER_CHECK_DIR/node_modules"
  (cd "$SWAGGER_CHECK_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix . --no-save --no-audit \
    --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_CORE_VERSION" >/dev/null)
fi
rm -f "$SWAGGER_CHECK_DIR"/*.png

# The system, on a fresh database in a temporary directory.
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: set CUSTOMERS_PORT, ORDERS_PORT and ORCHESTRATOR_PORT to free ports" >&2
    exit 1
  fi
done
cargo build -q -p b2b-orders
binary="${CARGO_TARGET_DIR:-$root/target}/debug/b2b-orders"
work=$(mktemp -d)
system=""
checker=""
cleanup() {
  [ -z "$checker" ] || kill "$checker" 2>/dev/null || true
  if [ -n "$system" ]; then
    kill "$system" 2>/dev/null || true
    wait "$system" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
(cd "$work" && exec env -u DATABASE_URL -u JWT_SECRET -u SERVICE_TOKEN -u CUSTOMERS_API_BASE \
  -u ORDERS_API_BASE "$binary" >system.log 2>&1) &
system=$!
for port in "${ports[@]}"; do
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    kill -0 "$system" 2>/dev/null || break
    sleep 0.1
  done
  if ! curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
    echo "port $port did not come up; the system's log:" >&2
    cat "$work/system.log" >&2
    exit 1
  fi
done
echo "system up on ports ${ports[*]}"

# In the background, so that a signal reaches the trap (and the cleanup) at once.
node "$root/scripts/swagger-check.mjs" &
checker=$!
status=0
wait "$checker" || status=$?
checker=""
echo "swagger-check took $(($(date +%s) - started))s"
exit "$status"
