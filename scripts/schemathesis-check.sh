#!/usr/bin/env bash
# API fuzzing: runs schemathesis, with all its default checks, against each service's own
# /openapi.json on the all-in-one system over a fresh SQLite database, and fails on any failure.
# Every request carries an operator JWT, except GET /internal/customers/{id}, which accepts only
# the service token and gets it through a per-operation header in the schemathesis config.
#
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 100 per operation), SCHEMATHESIS_SEED (default 1),
# CUSTOMERS_PORT / ORDERS_PORT / ORCHESTRATOR_PORT (default 3001 / 3002 / 3000).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

SCHEMATHESIS_VERSION=4.32.5
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
seed="${SCHEMATHESIS_SEED:-1}"
customers_port="${CUSTOMERS_PORT:-3001}"
orders_port="${ORDERS_PORT:-3002}"
orchestrator_port="${ORCHESTRATOR_PORT:-3000}"
service_token=dev-only-service-token-0123456789abcdef

# Run as a module, so no console-script shim on PATH is needed.
st() { python3 -m schemathesis.cli "$@"; }
installed=$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)
if [ "$installed" != "$SCHEMATHESIS_VERSION" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION (found: ${installed:-none})"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
st --version

cargo build -q -p b2b-orders
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

(cd "$work" && exec env -u DATABASE_URL -u JWT_SECRET -u SERVICE_TOKEN LOG_FORMAT=json \
  CUSTOMERS_PORT="$customers_port" ORDERS_PORT="$orders_port" ORCHESTRATOR_PORT="$orchestrator_port" \
  "$root/target/debug/b2b-orders" > system.log 2>&1) &
for port in "$customers_port" "$orders_port" "$orchestrator_port"; do
  for _ in $(seq 1 100); do
    curl -sf "http://localhost:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://localhost:$port/health" >/dev/null || { echo "port $port did not come up"; cat "$work/system.log"; exit 1; }
done

token=$(curl -sf "http://localhost:$customers_port/auth/token" -H 'Content-Type: application/json' \
  -d '{"email":"admin@b2b.local","password":"admin123"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
[ -n "$token" ] || { echo "no operator token"; exit 1; }

# One schemathesis config per service, all defaults but one: the internal look-up takes only the
# service token, so a per-operation header replaces the operator token -H gives every other
# operation. scripts/schemathesis_hooks.py keeps positive test cases within two rules of the
# contract that JSON Schema cannot state (each product once per order; a fresh idempotency key
# per request); no check is turned off or loosened.
mkdir -p "$work/config"
for name in orders-api lambda-orchestrator; do : > "$work/config/$name.toml"; done
printf '%s\n' '[[operations]]' 'include-path = "/internal/customers/{id}"' \
  "headers = { Authorization = \"Bearer $service_token\" }" > "$work/config/customers-api.toml"

# The orchestrator and orders-api first: the customers-api run deletes customers they use.
failed=()
for target in "lambda-orchestrator:$orchestrator_port" "orders-api:$orders_port" "customers-api:$customers_port"; do
  name="${target%%:*}"
  port="${target##*:}"
  printf '\n== schemathesis: %s (http://localhost:%s/openapi.json)\n' "$name" "$port"
  # From the temporary directory, where schemathesis keeps its cache. One worker: several race
  # in CPython 3.11.7's ast.parse (a SystemError inside hypothesis), and one is fast enough.
  if ! (cd "$work" && export SCHEMATHESIS_HOOKS="$root/scripts/schemathesis_hooks.py" && st --config-file "config/$name.toml" run "http://localhost:$port/openapi.json" \
    --url "http://localhost:$port" \
    -H "Authorization: Bearer $token" \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers 1 \
    --request-timeout 10 \
    --no-color); then
    failed+=("$name")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "schemathesis failed for: ${failed[*]}" >&2
  echo "--- last lines of the system log" >&2
  tail -n 20 "$work/system.log" >&2
  exit 1
fi
echo "schemathesis: all three services passed"
