#!/usr/bin/env bash
# Validates docker-compose.yml and compose.dev.yml without a Docker engine: the base file refuses
# to resolve without the secrets and resolves with them, the dev override resolves with nothing
# set (merged first, then interpolated, as Compose v2 does it), neither publishes the database
# beyond 127.0.0.1, and every path they name (build contexts, mounted files) exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq docker-compose) >/dev/null 2>&1 || true
fi
command -v docker-compose >/dev/null 2>&1 || { echo "docker-compose is not installable here" >&2; exit 1; }

status=0
bare() { env -i PATH="$PATH" HOME="${HOME:-/tmp}" "$@"; }
secrets=(JWT_SECRET=jwt-secret-of-at-least-32-bytes-000 SERVICE_TOKEN=service-token-of-at-least-32-bytes MYSQL_PASSWORD=pw)
for missing in JWT_SECRET SERVICE_TOKEN MYSQL_PASSWORD; do
  others=()
  for s in "${secrets[@]}"; do [[ $s == "$missing="* ]] || others+=("$s"); done
  if out=$(bare "${others[@]}" docker-compose config -q 2>&1); then
    echo "docker-compose.yml resolved without $missing" >&2; status=1
  elif grep -q "set $missing" <<<"$out"; then
    echo "docker-compose.yml: refused without $missing"
  else
    echo "$out" >&2; status=1
  fi
done
bare "${secrets[@]}" docker-compose config -q && echo "docker-compose.yml: valid with the secrets set"
merged=$(mktemp)
trap 'rm -f "$merged"' EXIT
docker-compose -f docker-compose.yml -f compose.dev.yml config --no-interpolate > "$merged"
resolved=$(bare docker-compose -f "$merged" --project-directory . config)
echo "docker-compose.yml + compose.dev.yml: valid with nothing set"
grep -q 'seed.sql' <<<"$resolved" || { echo "the dev override does not load the seed" >&2; status=1; }
if grep -q 'seed.sql' <(bare "${secrets[@]}" docker-compose config); then
  echo "docker-compose.yml loads the demo seed" >&2; status=1
fi
if grep -A3 -E '^ *ports:' docker-compose.yml compose.dev.yml | grep -E '3306' | grep -vq '127.0.0.1:3306'; then
  echo "the database port is published beyond 127.0.0.1" >&2; status=1
fi
for path in $(cat docker-compose.yml compose.dev.yml | grep -oE '\./[A-Za-z0-9_./-]+' | sed -E 's/:.*//' | sort -u) Dockerfile; do
  if [ -e "$path" ]; then echo "exists: $path"; else echo "missing: $path" >&2; status=1; fi
done
for target in customers-api orders-api orchestrator; do
  grep -q "AS $target\$" Dockerfile || { echo "Dockerfile has no stage $target" >&2; status=1; }
done
exit $status
