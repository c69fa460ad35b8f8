#!/usr/bin/env bash
# Scrapes every part's GET /metrics after some traffic, checks each with Prometheus's own
# `promtool check metrics`, and checks that the counters moved as the traffic says.
#
#   scripts/metrics-check.sh
#   CUSTOMERS_PORT=4001 ORDERS_PORT=4002 ORCHESTRATOR_PORT=4000 scripts/metrics-check.sh
#
# promtool: $PROMTOOL, then PATH, then a copy under target/promtool taken from Debian's
# `prometheus` package. The package is not installed: its postinst starts a Prometheus server
# on :9090 and it pulls a dozen web-UI packages; `apt-get download` and `dpkg-deb` take the one
# binary, so nothing is left running and the system is unchanged.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

customers_port="${CUSTOMERS_PORT:-3001}"
orders_port="${ORDERS_PORT:-3002}"
orchestrator_port="${ORCHESTRATOR_PORT:-3000}"

promtool="${PROMTOOL:-}"
if [ -z "$promtool" ]; then
  if command -v promtool >/dev/null 2>&1; then
    promtool="$(command -v promtool)"
  else
    promtool="$root/target/promtool/usr/bin/promtool"
    if [ ! -x "$promtool" ]; then
      echo "promtool: taking it from Debian's prometheus package into target/promtool"
      mkdir -p "$root/target/promtool"
      (
        cd "$root/target/promtool"
        apt-get download prometheus >/dev/null 2>&1 ||
          { apt-get update -qq && apt-get download prometheus >/dev/null; }
        dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool
        rm -f prometheus_*.deb
      )
    fi
  fi
fi
"$promtool" --version | head -n 1

cargo build -q -p b2b-orders

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
(cd "$work" && exec env -u DATABASE_URL -u JWT_SECRET -u SERVICE_TOKEN -u METRICS_TOKEN LOG_FORMAT=json \
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

customers="http://localhost:$customers_port"
orders="http://localhost:$orders_port"
orchestrator="http://localhost:$orchestrator_port"
json=(-H 'Content-Type: application/json')

# The traffic: a log-in, a customer, an orchestration and its replay, an unknown route.
token=$(curl -sf "$customers/auth/token" "${json[@]}" \
  -d '{"email":"admin@b2b.local","password":"admin123"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
auth=(-H "Authorization: Bearer $token")
curl -sf -o /dev/null "$customers/customers" "${auth[@]}" "${json[@]}" \
  -d '{"name":"Metrics Check Ltd","email":"metrics-check@example.com","phone":"+1 555 0100"}'
order='{"customer_id":1,"items":[{"product_id":2,"qty":1}],"idempotency_key":"metrics-check-1"}'
for _ in first replay; do
  curl -sf -o /dev/null "$orchestrator/orchestrator/create-and-confirm-order" "${auth[@]}" "${json[@]}" -d "$order"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$orders/no/such/route/42")" = 404 ]
echo "traffic: a log-in, a customer, an orchestration and its replay, an unknown route"

# value FILE NAME LABEL=VALUE...: the sum of NAME's samples carrying every given label.
value() {
  local file=$1 name=$2
  shift 2
  awk -v name="$name" -v want="$*" '
    index($0, name "{") == 1 {
      n = split(want, pairs, " "); ok = 1
      for (i = 1; i <= n; i++) {
        split(pairs[i], kv, "=")
        if (index($0, kv[1] "=\"" kv[2] "\"") == 0) ok = 0
      }
      if (ok) sum += $NF
    }
    END { print sum + 0 }' "$file"
}

failures=0
expect() {
  local want=$1 file=$2
  shift 2
  local got
  got=$(value "$file" "$@")
  if [ "$got" = "$want" ]; then
    echo "  ok   $* = $got"
  else
    echo "  FAIL $* = $got, expected $want" >&2
    failures=$((failures + 1))
  fi
}

for part in customers-api:"$customers" orders-api:"$orders" lambda-orchestrator:"$orchestrator"; do
  name=${part%%:*}
  base=${part#*:}
  curl -sf "$base/metrics" > "$work/$name.prom"
  echo "$name: $(grep -vc '^#' "$work/$name.prom") samples; promtool check metrics"
  if ! "$promtool" check metrics < "$work/$name.prom"; then
    echo "  FAIL promtool check metrics on $name" >&2
    failures=$((failures + 1))
  fi
  if grep -v '^#' "$work/$name.prom" | grep -v "service=\"$name\"" | grep -q .; then
    echo "  FAIL a series of $name without service=\"$name\"" >&2
    failures=$((failures + 1))
  fi
  case $name in
    customers-api)
      f="$work/$name.prom"
      expect 1 "$f" http_requests_total method=POST route=/auth/token status=200
      expect 1 "$f" http_requests_total method=POST route=/customers status=201
      # The first call looks the customer up twice (the orchestrator, then orders-api); the replay
      # once: orders-api answers it from its key before checking the customer.
      expect 3 "$f" http_requests_total method=GET route=/internal/customers/{id} status=200
      expect 3 "$f" http_request_duration_seconds_count method=GET route=/internal/customers/{id}
      expect 16 "$f" db_pool_max_connections
      ;;
    orders-api)
      f="$work/$name.prom"
      expect 1 "$f" idempotency_requests_total scope=orders.create outcome=fresh
      expect 1 "$f" idempotency_requests_total scope=orders.create outcome=replayed
      expect 1 "$f" idempotency_requests_total scope=orders.confirm outcome=fresh
      expect 1 "$f" idempotency_requests_total scope=orders.confirm outcome=replayed
      expect 2 "$f" http_requests_total method=POST route=/orders status=201
      expect 2 "$f" http_requests_total method=POST route=/orders/{id}/confirm status=200
      expect 1 "$f" http_requests_total route=unmatched status=404
      expect 0 "$f" orders_refused_total
      expect 16 "$f" db_pool_max_connections
      ;;
    lambda-orchestrator)
      f="$work/$name.prom"
      expect 2 "$f" orchestrations_total outcome=success
      expect 2 "$f" orchestrations_total
      expect 2 "$f" upstream_attempts_total target=customers-api
      expect 4 "$f" upstream_attempts_total target=orders-api
      expect 0 "$f" upstream_retries_total
      expect 0 "$f" compensations_total
      expect 2 "$f" http_requests_total method=POST route=/orchestrator/create-and-confirm-order status=201
      ;;
  esac
done

# Never the raw path as a route: no label with a digit-only path segment.
if grep -hE 'route="[^"]*/[0-9]+' "$work"/*.prom; then
  echo "  FAIL a raw path as a route label" >&2
  failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
  echo "metrics check: $failures failure(s); the system's log follows" >&2
  tail -n 30 "$work/system.log" >&2
  exit 1
fi
echo "metrics check: promtool accepts all three /metrics and the counters match the traffic"
