#!/usr/bin/env bash
# Runs the commands of docs/operations.md that this machine can run, as written, against the
# local MariaDB (root, no password): the "On MySQL or MariaDB" block (its database and user, the
# three binaries from PATH), the backups (mysqldump; SQLite's .backup and VACUUM INTO on the
# all-in-one's database while it serves) and the migration lock's queries. One change: the first
# operator's password comes on standard input (`--password-stdin`, as "The first operator"
# shows), since CI has no terminal. Ports 3000-3002 must be free.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cargo build -q -p customers-api -p orders-api -p lambda-orchestrator -p b2b-orders
export PATH="$root/target/debug:$PATH"
work=$(mktemp -d)
reset() { mysql -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS b2b_orders; DROP USER IF EXISTS 'b2b'@'%'"; }
# The block starts the parts in the background of its own shell: they outlive it.
stop_parts() { pkill -f '^(customers-api|orders-api|lambda-orchestrator)$' || true; }
trap 'stop_parts; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; reset' EXIT
reset
block() { # the first ```<lang> block after the heading $1 of docs/operations.md
  awk -v h="$1" -v lang="$2" '$0 == h {f=1} f && $0 ~ "^ *```" lang "$" {b=1; next} b && /^ *```$/ {exit} b {print}' docs/operations.md
}
up() { for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return; sleep 0.2; done; return 1; }

block "### On MySQL or MariaDB" sh |
  sed 's|^customers-api operators add \(.*\) #|printf "%s\\n" "$OPS_PASSWORD" \| customers-api operators add \1 --password-stdin #|' > "$work/deploy.sh"
grep -q 'customers-api operators add .*--password-stdin' "$work/deploy.sh" || { cat "$work/deploy.sh"; exit 1; }
export OPS_PASSWORD=an-operator-password-for-ci
(cd "$work" && exec bash -euo pipefail deploy.sh > deploy.log 2>&1) &
for port in 3001 3002 3000; do up $port || { cat "$work/deploy.log"; exit 1; }; done
token=$(curl -sf http://127.0.0.1:3001/auth/token -H 'Content-Type: application/json' \
  -d "{\"email\":\"ops@example.com\",\"password\":\"$OPS_PASSWORD\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -sf http://127.0.0.1:3002/products -H "Authorization: Bearer $token" >/dev/null
echo "On MySQL or MariaDB: database and user made, migrated, first operator logs in, three parts serve"

(cd "$work" && mysqldump --single-transaction b2b_orders > b2b_orders.sql)
grep -q '_sqlx_migrations' "$work/b2b_orders.sql"
echo "Backups: mysqldump --single-transaction wrote $(wc -l < "$work/b2b_orders.sql") lines, migrations included"
block "### The migration lock is held" sql | grep -v '^KILL' | mysql -uroot -h127.0.0.1 b2b_orders > /dev/null
echo "The migration lock's queries run (KILL left out)"
stop_parts

mkdir "$work/sqlite"
(cd "$work/sqlite" && exec env -u DATABASE_URL CUSTOMERS_PORT=3101 ORDERS_PORT=3102 ORCHESTRATOR_PORT=3100 b2b-orders > system.log 2>&1) &
up 3102 || { cat "$work/sqlite/system.log"; exit 1; }
grep -E '^\s*(mkdir|sqlite3) ' docs/operations.md | sed 's/^ *//' > "$work/sqlite/backup.sh"
[ "$(wc -l < "$work/sqlite/backup.sh")" -ge 3 ] || { echo "no SQLite backup commands found"; exit 1; }
(cd "$work/sqlite" && bash -euo pipefail backup.sh)
for copy in "$work"/sqlite/backup/*.db; do
  n=$(sqlite3 "$copy" "SELECT COUNT(*) FROM products")
  [ "$n" -gt 0 ] || { echo "$copy holds no products"; exit 1; }
done
echo "Backups: SQLite .backup and VACUUM INTO of the running system each hold the catalogue"
