#!/usr/bin/env bash
# Records which functions credd runs and writes link/hot-text.ld, the release build's code
# layout (see build.rs). Re-run it after a toolchain change or `cargo update`: the list names
# functions by their exact symbols, which both change. scripts/test.sh fails when it is stale.
#
# It builds the release binary with its symbols kept (the same code and the same names as the
# stripped one), then drives the daemon and the everyday commands under valgrind's callgrind
# against a local moto server. Needs valgrind; takes under a minute plus the build.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "hot-text.sh needs valgrind (apt install valgrind)" >&2; exit 1; }
. scripts/venv.sh
# The symbols kept, and the usual layout: valgrind looks for functions only in a section named
# `.text`, so under the hot-first layout it would see none of the hot ones.
echo "==> cargo build --release (symbols kept, usual layout)" >&2
CREDD_KEEP_SYMBOLS=1 CREDD_NO_HOT_TEXT=1 cargo build --release --locked --target-dir target/hot-text >&2
CREDD_TEST_VENV="$VENV" "$VENV/bin/python" scripts/hot-text.py target/hot-text/release/credd link/hot-text.ld
