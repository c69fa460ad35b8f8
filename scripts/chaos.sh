#!/usr/bin/env bash
# The chaos suite (see RELIABILITY.md): the three real binaries, two orders-api replicas, under
# concurrent orchestrations while processes, MariaDB and the network fail on a schedule; then
# the invariants, checked in the database. About two minutes; exits non-zero on any violation.
# Needs the local MariaDB on 127.0.0.1:3306 (root, no password), which it restarts once and
# always leaves running. Extra arguments go to cargo (e.g. --release); settings are CHAOS_*
# variables (tools/chaos/src/main.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run -q "$@" -p b2b-chaos
