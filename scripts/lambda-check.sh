#!/usr/bin/env bash
# The orchestrator through the real Lambda runtime path: `cargo lambda watch` runs it under the
# Lambda emulator, and `cargo lambda invoke --data-file` sends each committed API Gateway /
# function URL event to it, against the real APIs (the all-in-one system on a fresh SQLite file).
# Also reports the cold start (process start to first response) as the emulator logs it.
#
#   scripts/lambda-check.sh                       # every committed event (CI)
#   scripts/lambda-check.sh path/to/event.json    # your own events; {{TOKEN}} becomes an operator token
#
# It mints the operator token itself (the demo operator of the fresh database) and passes the
# secrets and API bases to the emulator, so nothing needs to be running or set beforehand.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
C=${CUSTOMERS_PORT:-3101} O=${ORDERS_PORT:-3102} R=${ORCHESTRATOR_PORT:-3100} L=${LAMBDA_PORT:-9100}
secret=dev-only-jwt-secret-0123456789abcdef
token=dev-only-service-token-0123456789abcdef

command -v cargo-lambda >/dev/null || pip install -q cargo-lambda
cargo build -q -p b2b-orders -p lambda-orchestrator
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

(cd "$work" && exec env -u DATABASE_URL CUSTOMERS_PORT=$C ORDERS_PORT=$O ORCHESTRATOR_PORT=$R \
  JWT_SECRET=$secret SERVICE_TOKEN=$token "$root/target/debug/b2b-orders" > system.log 2>&1) &
for port in $C $O; do
  for _ in $(seq 1 100); do curl -sf "http://localhost:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
done
curl -sf "http://localhost:$C/health" >/dev/null || { cat "$work/system.log"; exit 1; }

(exec cargo lambda watch -p lambda-orchestrator --invoke-port "$L" \
  --env-var JWT_SECRET=$secret --env-var SERVICE_TOKEN=$token \
  --env-var CUSTOMERS_API_BASE=http://127.0.0.1:$C --env-var ORDERS_API_BASE=http://127.0.0.1:$O \
  --env-var LOG_FORMAT=json > "$work/watch.log" 2>&1) &
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$L/" 2>/dev/null && break
  sleep 0.2
done

jwt=$(curl -s "http://localhost:$C/auth/token" -H 'Content-Type: application/json' \
  -d '{"email":"admin@b2b.local","password":"admin123"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
run=$RANDOM
status=0
fixtures=("$@")
[ ${#fixtures[@]} -gt 0 ] || fixtures=(lambda-orchestrator/tests/fixtures/*.json)
for fixture in "${fixtures[@]}"; do
  name=$(basename "$fixture" .json)
  # A fresh token and idempotency key for this run.
  sed -e "s/{{TOKEN}}/$jwt/g" -e "s/\(idempotency_key\\\\\":\\\\\"[^\\\\]*\)/\1-$run/" "$fixture" > "$work/$name.json"
  out=$(cargo lambda invoke lambda-orchestrator --invoke-port "$L" --data-file "$work/$name.json" 2>&1 || true)
  code=$(printf '%s' "$out" | sed -nE 's/.*"statusCode": ?([0-9]+).*/\1/p' | head -1)
  if [ "$code" = 201 ] && printf '%s' "$out" | grep -q 'success\\":true'; then
    echo "ok   $name: 201, order created and confirmed"
  else
    echo "FAIL $name: $out"
    status=1
  fi
done
# The emulator's own line for the first invocation's start-up, when it prints one.
grep -iE 'init|cold' "$work/watch.log" | head -3 || true
[ $status = 0 ] || { echo "--- watch.log"; tail -30 "$work/watch.log"; }
exit $status
