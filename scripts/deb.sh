#!/usr/bin/env bash
# Builds credd's Debian package, target/debian/credd_VERSION-1_ARCH.deb, with cargo-deb from the
# metadata in Cargo.toml ([package.metadata.deb]). The man pages and shell completions are made
# by the release binary itself (`credd man --dir`, `credd completions SHELL`), so they describe
# exactly the binary they ship with; the unit is systemd/credd.service as it stands.
#
#   scripts/deb.sh              release build (`cargo build --release --locked`), then the package
#   scripts/deb.sh --no-build   package the release build already in the target directory
#
# Needs cargo-deb (`cargo install --locked cargo-deb`). Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deb >/dev/null 2>&1; then
  echo "scripts/deb.sh: cargo-deb is missing: cargo install --locked cargo-deb" >&2
  exit 1
fi
[ "${1:-}" = --no-build ] || cargo build --release --locked

# cargo-deb reads `target/release/...` in Cargo.toml as whatever the target directory is.
release="${CARGO_TARGET_DIR:-target}/release"
assets="$release/deb-assets"
rm -rf "$assets"
mkdir -p "$assets/completions"
"$release/credd" man --dir "$assets/man" >/dev/null
gzip -9n "$assets"/man/*.1
"$release/credd" completions bash >"$assets/completions/credd"
"$release/credd" completions zsh >"$assets/completions/_credd"
"$release/credd" completions fish >"$assets/completions/credd.fish"

cargo deb --no-build --locked --quiet
