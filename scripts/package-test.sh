#!/usr/bin/env bash
# Checks the three ways credd is packaged (issue 30), as a user meets each one:
#   - the crate: `cargo package --list` holds the sources, unit, plist, config and docs, and no
#     tests, corpora, fuzz inputs or scripts;
#   - the Debian package, made from the release build already in the target directory
#     (scripts/deb.sh --no-build), installed here with dpkg: the binary runs, systemd accepts
#     the unit, man renders the page, each shell loads its completions, lintian finds no error,
#     install-service finds the packaged unit, and `dpkg -r` removes exactly what it installed;
#   - the Homebrew formula: `ruby -c`, and its service block still says what the launchd plist says.
# scripts/test.sh runs it after the release build; it installs nothing itself (test.sh does:
# cargo-deb, lintian, ruby, man-db). It needs root or sudo for dpkg, and refuses to run where a
# credd package is already installed, since it installs and removes its own.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "package-test: $*" >&2; exit 1; }
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "==> package: cargo package --list"
cargo package --locked --no-verify --allow-dirty --list >"$scratch/crate.list"
for want in Cargo.toml Cargo.lock README.md build.rs link/hot-text.ld src/main.rs src/lib.rs \
  src/hooks/credd.bash systemd/credd.service launchd/io.github.credd.plist config/credd.toml \
  docs/doctor.md packaging/homebrew/credd.rb packaging/debian/changelog LICENSE-MIT LICENSE-APACHE; do
  grep -qxF "$want" "$scratch/crate.list" || fail "the crate lacks $want"
done
if grep -E '^(tests|fuzz|proptest-regressions|scripts|target|\.ci|\.config)/' "$scratch/crate.list"; then
  fail "the crate holds the files above, which stay out of it (Cargo.toml's include)"
fi
echo "    $(wc -l <"$scratch/crate.list") files"

echo "==> package: the Homebrew formula"
formula=packaging/homebrew/credd.rb
if command -v ruby >/dev/null 2>&1; then
  ruby -c "$formula" >/dev/null
else
  echo "    ruby is missing: the formula's syntax is not checked"
fi
# What launchd/io.github.credd.plist says, in the formula's words (Homebrew's service DSL).
for line in 'run [opt_bin/"credd", "daemon"]' 'run_at_load true' 'keep_alive successful_exit: false' \
  'throttle_interval 10' 'process_type :background' 'system "cargo", "install", *std_cargo_args'; do
  grep -qF "$line" "$formula" || fail "$formula lacks: $line"
done
grep -q '<key>SuccessfulExit</key>' launchd/io.github.credd.plist &&
  grep -A1 '<key>ThrottleInterval</key>' launchd/io.github.credd.plist | grep -q '<integer>10</integer>' &&
  grep -A1 '<key>ProcessType</key>' launchd/io.github.credd.plist | grep -q '<string>Background</string>' ||
  fail "launchd/io.github.credd.plist changed: make $formula's service block say the same"
grep -q '<key>EnvironmentVariables</key>' launchd/io.github.credd.plist &&
  fail "the plist sets an environment: give $formula's service block the same environment_variables"

echo "==> package: the Debian package"
if dpkg-query -W -f='${Status}' credd 2>/dev/null | grep -q "install ok installed"; then
  fail "a credd package is installed on this machine; this test installs and removes its own. Remove it first: dpkg -r credd"
fi
head -n1 packaging/debian/changelog | grep -qF "credd ($version-1) " ||
  fail "packaging/debian/changelog's first entry is not credd ($version-1): add one for this version"
release="${CARGO_TARGET_DIR:-target}/release"
[ -x "$release/credd" ] || fail "no release build in $release: run cargo build --release --locked first"
deb_dir="${CARGO_TARGET_DIR:-target}/debian"
rm -f "$deb_dir"/credd_*.deb
bash scripts/deb.sh --no-build >/dev/null
deb="$(ls "$deb_dir"/credd_"$version"-*.deb)"
echo "    $deb: $(du -k "$deb" | cut -f1) KB"

# No maintainer scripts: installing starts nothing for anyone, removing touches no one's files.
dpkg-deb --ctrl-tarfile "$deb" | tar -t >"$scratch/control.list"
if grep -E '(preinst|postinst|prerm|postrm)$' "$scratch/control.list"; then
  fail "the package has maintainer scripts"
fi

lintian --fail-on error --tag-display-limit 0 "$deb" >"$scratch/lintian.txt" 2>&1 || {
  cat "$scratch/lintian.txt" >&2
  fail "lintian reports errors"
}
sed 's/^/    lintian: /' "$scratch/lintian.txt"

# A user who used credd before the package came: their config, credentials, and the link
# `systemctl --user enable` makes. dpkg -r must leave all of them.
user="$scratch/home"
mkdir -p "$user/.config/credd" "$user/.aws" "$user/.config/systemd/user/default.target.wants"
echo 'refresh_before = "20m"' >"$user/.config/credd/config.toml"
printf '[dev]\naws_access_key_id = AKIAEXAMPLE\n' >"$user/.aws/credentials"
ln -s /usr/lib/systemd/user/credd.service "$user/.config/systemd/user/default.target.wants/credd.service"
mkdir "$user/.config/systemd/user/credd.service.d"
printf '[Service]\nReadWritePaths=%%h/dotfiles/aws\n' >"$user/.config/systemd/user/credd.service.d/override.conf"
(cd "$user" && find . | sort) >"$scratch/home.before"

installed=0
remove() { [ "$installed" = 1 ] && $sudo dpkg -r credd >/dev/null 2>&1; rm -rf "$scratch"; }
trap remove EXIT
$sudo dpkg -i "$deb" >/dev/null
installed=1
dpkg -L credd | sort >"$scratch/files"

[ "$(/usr/bin/credd --version)" = "credd $version" ] || fail "/usr/bin/credd --version: $(/usr/bin/credd --version)"
unit=/usr/lib/systemd/user/credd.service
cmp -s "$unit" systemd/credd.service || fail "$unit differs from systemd/credd.service"
grep -qxF 'ExecStart=/usr/bin/credd daemon' "$unit" || fail "$unit does not run /usr/bin/credd"
for f in /usr/share/man/man1/credd.1.gz /usr/share/man/man1/credd-status.1.gz \
  /usr/share/bash-completion/completions/credd /usr/share/zsh/vendor-completions/_credd \
  /usr/share/fish/vendor_completions.d/credd.fish /usr/share/doc/credd/examples/credd.toml \
  /usr/share/doc/credd/copyright; do
  grep -qxF "$f" "$scratch/files" || fail "the package does not install $f"
done

# As tests/service.rs does: a user manager's view, without a running one (none as root here).
mkdir -m 0700 "$scratch/run"
if ! HOME="$scratch" XDG_RUNTIME_DIR="$scratch/run" systemd-analyze --user verify "$unit" >"$scratch/verify.txt" 2>&1 ||
  grep credd.service "$scratch/verify.txt"; then
  cat "$scratch/verify.txt" >&2
  fail "systemd-analyze --user verify $unit"
fi

# man finds the page by name, and groff renders it without a warning.
[ "$(man -w credd)" = /usr/share/man/man1/credd.1.gz ] || fail "man -w credd: $(man -w credd)"
MANWIDTH=80 man --warnings -l /usr/share/man/man1/credd.1.gz >"$scratch/man.txt" 2>"$scratch/man.err"
[ ! -s "$scratch/man.err" ] || { cat "$scratch/man.err" >&2; fail "man -l credd.1.gz warned"; }
grep -q 'install-service' "$scratch/man.txt" || fail "the rendered man page lacks its commands"

# Each shell finds its completions in the vendor directory alone, with no rc file, and loads them
# without a word on stderr (fish once ran a command substitution from a help text, issue 30).
quiet() { [ ! -s "$scratch/$1.err" ] || { cat "$scratch/$1.err" >&2; fail "$1 complained loading the completions"; }; }
# (Output goes to a file first: `grep -q` leaving a pipe early fails the writer, and pipefail.)
bash --norc -c 'source /usr/share/bash-completion/completions/credd && complete -p credd' \
  >"$scratch/bash.out" 2>"$scratch/bash.err" || true
grep -q _credd "$scratch/bash.out" || fail "bash does not load its completions"
quiet bash
zsh -f -c 'autoload -Uz compinit && compinit -u -d "$1/zcompdump" && [[ $_comps[credd] == _credd ]] &&
  autoload -Uz +X _credd' zsh "$scratch" 2>"$scratch/zsh.err" || fail "zsh does not find or load _credd on its fpath"
quiet zsh
# fish's own startup sets its completion path, so it runs with a config-less HOME of its own.
mkdir "$scratch/fish"
HOME="$scratch/fish" XDG_CONFIG_HOME="$scratch/fish/.config" XDG_DATA_HOME="$scratch/fish/.local/share" \
  fish -c 'complete -C "credd "' >"$scratch/fish.out" 2>"$scratch/fish.err" || true
grep -q '^install-service' "$scratch/fish.out" || fail "fish does not complete credd's commands"
quiet fish

# install-service, run from the package, enables the packaged unit instead of copying it.
HOME="$user" /usr/bin/credd install-service --print --kind systemd >"$scratch/print.txt"
grep -qxF "# $unit is installed for every user: would enable it for you, not write a copy" "$scratch/print.txt" ||
  { cat "$scratch/print.txt" >&2; fail "install-service --print does not find the packaged unit"; }

$sudo dpkg -r credd >/dev/null
installed=0
while read -r f; do
  [ -d "$f" ] || [ ! -e "$f" ] || fail "dpkg -r left $f"
done <"$scratch/files"
[ ! -e /usr/bin/credd ] && [ ! -e "$unit" ] || fail "dpkg -r left the binary or the unit"
(cd "$user" && find . | sort) | cmp -s - "$scratch/home.before" || fail "dpkg -r changed a user's HOME"
[ "$(cat "$user/.config/credd/config.toml")" = 'refresh_before = "20m"' ] || fail "dpkg -r changed a user's config"
echo "    installed, checked and removed: $(grep -c . "$scratch/files") paths"
