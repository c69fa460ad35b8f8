#!/usr/bin/env bash
# Runs the Postman collection (postman/) with newman against the all-in-one system on a fresh
# SQLite database, and fails if any assertion fails.
#
#   scripts/postman-check.sh
#   CUSTOMERS_PORT=4001 ORDERS_PORT=4002 ORCHESTRATOR_PORT=4000 scripts/postman-check.sh
#
# newman is installed on first use into target/newman (npm), unless `newman` is on PATH or
# NEWMAN names a newman binary.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

customers_port="${CUSTOMERS_PORT:-3001}"
orders_port="${ORDERS_PORT:-3002}"
orchestrator_port="${ORCHESTRATOR_PORT:-3000}"

cargo build -q -p b2b-orders

# newman: $NEWMAN, then PATH, then a local install cached under target/newman.
newman="${NEWMAN:-}"
if [ -z "$newman" ]; then
  if command -v newman >/dev/null 2>&1; then
    newman="$(command -v newman)"
  else
    newman="$root/target/newman/node_modules/.bin/newman"
    if [ ! -x "$newman" ]; then
      command -v npm >/dev/null 2>&1 || { echo "newman is not installed and npm is not available" >&2; exit 1; }
      echo "installing newman into target/newman"
      mkdir -p "$root/target/newman"
      npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$root/target/newman" newman@6 >&2
    fi
  fi
fi

work="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "$customers_port" "$orders_port" "$orchestrator_port"; do
  if curl -s -o /dev/null "http://localhost:$port/health" 2>/dev/null; then
    echo "port $port is already in use; stop what runs there or set CUSTOMERS_PORT, ORDERS_PORT, ORCHESTRATOR_PORT" >&2
    exit 1
  fi
done

# exec: the background job's pid is the binary itself, so the trap's kill reaches it.
(cd "$work" && exec env -u DATABASE_URL -u JWT_SECRET -u SERVICE_TOKEN LOG_FORMAT=json \
  CUSTOMERS_PORT="$customers_port" ORDERS_PORT="$orders_port" ORCHESTRATOR_PORT="$orchestrator_port" \
  "$root/target/debug/b2b-orders" > system.log 2>&1) &
pid=$!

for port in "$customers_port" "$orders_port" "$orchestrator_port"; do
  for _ in $(seq 1 150); do
    curl -sf "http://localhost:$port/health" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  curl -sf "http://localhost:$port/health" >/dev/null 2>&1 || {
    echo "port $port did not come up" >&2
    cat "$work/system.log" >&2
    exit 1
  }
done
echo "system up: customers-api :$customers_port, orders-api :$orders_port, orchestrator :$orchestrator_port"

mkdir -p "$root/target/newman"
status=0
"$newman" run postman/b2b-orders.postman_collection.json \
  -e postman/local.postman_environment.json \
  --env-var "customers_base=http://localhost:$customers_port" \
  --env-var "orders_base=http://localhost:$orders_port" \
  --env-var "orchestrator_base=http://localhost:$orchestrator_port" \
  --timeout-request 30000 \
  --reporters cli,junit --reporter-junit-export "$root/target/newman/report.xml" \
  ${NEWMAN_ARGS:-} || status=$?

if [ "$status" -ne 0 ]; then
  echo "newman: assertions failed (exit $status); the system's log follows" >&2
  tail -n 50 "$work/system.log" >&2
  exit "$status"
fi
echo "Postman collection: all assertions passed"
