#!/usr/bin/env bash
# The scale benchmark: builds the release binary and the test venv (moto, the aws CLI), then
# prints one table comparing credd with the aws CLI and across 50, 1,000 and 5,000 profiles.
# It takes a few minutes (one minute of it is the idle measurement). Timings are this machine's;
# nothing here gates CI.
#
#   CREDD_BENCH_SIZES=50,1000,5000   the profile counts to measure
#   CREDD_BENCH_RUNS=21              samples per median
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/venv.sh
echo "==> cargo build --release" >&2
cargo build --release --locked >&2
CREDD_TEST_VENV="$VENV" "$VENV/bin/python" scripts/bench.py
