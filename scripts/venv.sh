# Sourced by scripts/bench.sh and scripts/hot-text.sh: sets VENV to the Python venv with moto and
# the aws CLI (tests/requirements.txt), creating it if it is missing. scripts/test.sh keeps its
# own copy, which also reinstalls when the requirements change.
VENV="${CREDD_TEST_VENV:-$PWD/.venv}"
if [ ! -x "$VENV/bin/moto_server" ]; then
  echo "==> python venv in $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements.txt
fi
