#!/usr/bin/env bash
# The benchmark: builds the release binaries, then tools/bench (b2b-bench) makes a fresh MariaDB
# database, loads 100 000 customers, 10 000 products and 1 000 000 orders with their items,
# measures the database's own commit rate, starts the three services on free 127.0.0.1 ports and
# drives every scenario at 1, 8, 32 and 128 clients; results in target/bench/<run>/results.md.
#
#   scripts/bench.sh                      # the full run (about 10 minutes after the build)
#   scripts/bench.sh --smoke              # CI: tiny data, 1 s per scenario, 4 clients
#   scripts/bench.sh --duration 5 --concurrency 1,32 --scenarios orchestrate
#   scripts/bench.sh --help               # every flag
#
# BENCH_MYSQL_URL names the server (default mysql://root@127.0.0.1:3306); the user needs
# CREATE/DROP DATABASE. BENCH_PROFILE=dev runs on the debug build instead (CI's smoke run: it
# checks that the harness works, its figures mean nothing); BENCH_PROFILE=profiling on the
# release code with symbols, for perf.
# Exit status: 0 done, 1 some request failed, 2 the run could not be done.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
for arg in "$@"; do
  # The harness's own usage text, without building anything or asking for a database.
  if [[ "$arg" == -h || "$arg" == --help ]]; then cat tools/bench/USAGE.txt; exit 0; fi
done

url="${BENCH_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
if command -v mysqladmin >/dev/null 2>&1 && [[ "$url" == "mysql://root@127.0.0.1:3306" ]]; then
  mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1 || {
    echo "no MariaDB/MySQL answers on 127.0.0.1:3306 (set BENCH_MYSQL_URL)" >&2
    exit 2
  }
fi

if [[ "${BENCH_PROFILE:-release}" == dev ]]; then
  # CI's smoke run: the debug build the tests already made, to check the harness, not to measure.
  cargo build -q -p customers-api -p orders-api -p lambda-orchestrator -p b2b-bench
  exec "$root/target/debug/b2b-bench" --bin-dir "$root/target/debug" --mysql-url "$url" "$@"
fi
if [[ "${BENCH_PROFILE:-release}" == profiling ]]; then
  # The release code with its symbols, to profile under load (`perf record -p <pid>`); the
  # figures are the release build's, but the binaries are larger.
  cargo build -q --profile profiling -p customers-api -p orders-api -p lambda-orchestrator -p b2b-bench
  exec "$root/target/profiling/b2b-bench" --bin-dir "$root/target/profiling" --mysql-url "$url" "$@"
fi
# Release builds, each package as it ships: the orchestrator alone (as `cargo lambda build` and
# `cargo lambda watch` build it, so its size is the deployed one's), the APIs, then the driver.
cargo build --release -q -p lambda-orchestrator
cargo build --release -q -p customers-api -p orders-api
cargo build --release -q -p b2b-bench
exec "$root/target/release/b2b-bench" --bin-dir "$root/target/release" --mysql-url "$url" "$@"
