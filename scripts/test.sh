#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it: formatting, lints, and every
# unit, property and end-to-end test. `.ci/run` calls exactly this; so can you, on a fresh machine.
#
# What it installs:
#   - apt packages the end-to-end tests drive (only the missing ones; needs root or sudo)
#   - a Python venv in .venv with moto[server], awscli, boto3, awsume and aws-mfa pinned by
#     tests/requirements.txt
#   - cargo-fuzz, when a nightly toolchain is present, to run each fuzz target for a few seconds
#   - cargo-deb, to build the Debian package that scripts/package-test.sh installs and checks
set -euo pipefail
cd "$(dirname "$0")/.."

# systemd: systemd-analyze verifies the unit; util-linux: setpriv runs a client as another uid;
# dbus, dbus-x11, xvfb, dunst, libnotify-bin: a real notification server on a private bus;
# bash, zsh, fish, tmux: the prompt hooks run in real shells under tmux;
# gnome-keyring, libsecret-tools: a real Secret Service (and secret-tool) for the keyring tests;
# strace: counts the processes the prompt hook starts (none, when nothing changed);
# lintian, man-db, groff-base, ruby: the package checks (lintian on the .deb, `man -l` on its
# page, `ruby -c` on the Homebrew formula).
APT_PACKAGES=(ca-certificates systemd util-linux dbus dbus-x11 xvfb dunst libnotify-bin bash zsh fish tmux gnome-keyring libsecret-tools strace lintian man-db groff-base ruby)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "==> apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

VENV="${CREDD_TEST_VENV:-$PWD/.venv}"
stamp="$VENV/.requirements.sha256"
want="$(sha256sum tests/requirements.txt | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> python venv in $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements.txt
  echo "$want" > "$stamp"
fi
export CREDD_TEST_VENV="$VENV"

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
# The benchmarks are built (tests/bench_*.rs) and checked (scripts/bench.py) but not timed here.
"$VENV/bin/python" -m py_compile scripts/bench.py scripts/hot-text.py
# The release build, as `cargo install` makes it, and its code layout: link/hot-text.ld must
# still name the functions this toolchain and Cargo.lock produce (see build.rs).
echo "==> cargo build --release, and its hot-first code layout"
cargo build --release --locked
"$VENV/bin/python" scripts/hot-text.py --check target/release/credd
# The packages, from that same release build: the crate's file list, the .deb installed and
# removed with dpkg, the Homebrew formula.
command -v cargo-deb >/dev/null 2>&1 || cargo install --locked -q cargo-deb
bash scripts/package-test.sh
# The fuzz targets need nightly. tests/fuzz_corpus.rs checks the same properties on stable, so
# without nightly only the exploration is skipped. CREDD_FUZZ_SECONDS=0 skips it on purpose.
fuzz_seconds="${CREDD_FUZZ_SECONDS:-5}"
if [ "$fuzz_seconds" != 0 ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked -q cargo-fuzz
  echo "==> fuzz: each target for ${fuzz_seconds}s"
  for target in shared_file config_toml env_file control_frame sso_cache login_cache exec_request; do
    mkdir -p "fuzz/corpus/$target"
    log="fuzz/target/$target.log"
    mkdir -p fuzz/target
    if ! (cd fuzz && cargo +nightly fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$fuzz_seconds" >"../$log" 2>&1); then
      tail -n 40 "$log" >&2
      echo "fuzz target $target failed: the input is in fuzz/artifacts/$target" >&2
      exit 1
    fi
    echo "    $target: $(grep -E '^Done' "$log")"
  done
else
  echo "==> fuzz: skipped (no nightly toolchain, or CREDD_FUZZ_SECONDS=0); tests/fuzz_corpus.rs ran the same checks"
fi

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked --no-fail-fast
fi
