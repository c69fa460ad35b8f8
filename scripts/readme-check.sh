#!/usr/bin/env bash
# Runs the README's curl examples, as written, against the all-in-one system on a fresh SQLite
# database, and fails if any answer is an error. Keeps the README honest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build -q -p b2b-orders
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

(cd "$work" && exec env -u DATABASE_URL -u JWT_SECRET -u SERVICE_TOKEN LOG_FORMAT=json "$root/target/debug/b2b-orders" > system.log 2>&1) &
for port in 3001 3002 3000; do
  for _ in $(seq 1 100); do
    curl -sf "http://localhost:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://localhost:$port/health" >/dev/null || { echo "port $port did not come up"; cat "$work/system.log"; exit 1; }
done

# The first ```sh block after the line that says CI runs it.
awk '/these commands are run by CI/ {found=1} found && /^```sh$/ {inblock=1; next} inblock && /^```$/ {exit} inblock {print}' README.md > "$work/examples.sh"
[ -s "$work/examples.sh" ] || { echo "no curl block found in README.md"; exit 1; }
echo "running $(grep -c '^curl\|^ORDER=\|^TOKEN=' "$work/examples.sh") README commands"
bash -euo pipefail "$work/examples.sh" > "$work/out.txt"
cat "$work/out.txt"
if grep -qE '"status":[45][0-9][0-9]|"success":false' "$work/out.txt"; then
  echo "a README example answered with an error" >&2
  exit 1
fi
grep -q '"status":"CONFIRMED"' "$work/out.txt" || { echo "no order was confirmed" >&2; exit 1; }
echo "README examples: all answered without error"
