#!/usr/bin/env python3
"""Writes link/hot-text.ld: the functions credd runs, to be placed first in the release binary.

Run it through scripts/hot-text.sh, which builds the binary with its symbols kept.
`hot-text.py --check target/release/credd` (run by scripts/test.sh) fails when the list is stale. This drives the
daemon and the everyday commands under valgrind's callgrind, against a real moto server in a
throwaway HOME (the benchmark's 50-profile home), and records every function that ran. Two groups,
in this order:

  1. what the daemon ran: start-up, the watch, refreshes through STS, status replies, an outside
     edit picked up;
  2. what only the client commands ran (`status` in its three forms, `list`, `refresh`,
     `--version`), so a short-lived command touches a few pages past the daemon's.

Callgrind counts instructions on a simulated CPU, so a routine chosen at run time for a CPU feature
valgrind lacks (AVX-512, say) is missed; it stays in its usual place and costs one block of pages.
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the benchmark's moto server and HOME)


def drive():
    """The workload: what a person's daemon and shell do on an ordinary day."""
    moto = bench.Moto()
    home = bench.Home(moto, 50)
    try:
        home.start(51)
        for args in (["status"], ["status", "--json"], ["status", "--prompt"], ["list"], ["--version"]):
            home.run(*args)
        for _ in range(3):
            home.run("refresh", "dev")
        home.run("refresh", "--all")
        # The daemon hands back a status's memory two seconds after the last one.
        time.sleep(3)
        # Another tool writes a later expiry for a watch-only profile; wait until status shows it.
        later = bench.stamp(datetime.now(timezone.utc) + timedelta(hours=9))
        with open(home.creds) as f:
            text = f.read()
        text = re.sub(r"(\[acct-00007\]\n(?:.*\n){3})x_security_token_expires = .*",
                      r"\g<1>x_security_token_expires = " + later, text)
        with open(home.creds, "w") as f:
            f.write(text)
        deadline = time.time() + 60
        while later[:16] not in home.run("status", "--json").stdout:
            if time.time() > deadline:
                raise SystemExit("the outside edit never showed")
            time.sleep(0.2)
    finally:
        home.close()
        moto.stop()


def functions_run(work, binary):
    """{'daemon': names, 'client': names}: functions of `binary` with any instruction counted."""
    groups = {"daemon": set(), "client": set()}
    for path in glob.glob(os.path.join(work, "out.*")):
        kind, obj = None, None
        with open(path, errors="replace") as f:
            for line in f:
                if line.startswith("cmd:"):
                    kind = "daemon" if line.split()[2:3] == ["daemon"] else "client"
                elif line.startswith("ob="):
                    obj = line[3:].strip()
                elif line.startswith("fn=") and obj == binary:
                    groups[kind].add(line[3:].strip())
    return groups


def text_symbols(binary):
    sizes = {}
    nm = subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True, check=True)
    for line in nm.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tTwW":
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def check(binary):
    """Exit 1 if the release binary placed less than 90% of the listed code first: the list no
    longer matches the functions this toolchain and Cargo.lock produce."""
    bench.CREDD = binary
    placed, listed = bench.hot_text()
    print(f"{binary}: {placed / 1e6:.2f} MB placed hot-first of the {listed / 1e6:.2f} MB listed")
    if placed < 0.9 * listed:
        raise SystemExit("link/hot-text.ld is stale: run scripts/hot-text.sh and commit the result")


def main():
    if sys.argv[1] == "--check":
        return check(sys.argv[2])
    binary, out = os.path.realpath(sys.argv[1]), sys.argv[2]
    work = tempfile.mkdtemp(prefix="credd-hot-text-")
    wrapper = os.path.join(work, "credd")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind -q --tool=callgrind --demangle=no --dump-instr=no "
                f"--compress-strings=no --callgrind-out-file={work}/out.%p {binary} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    bench.CREDD = wrapper
    drive()

    groups = functions_run(work, binary)
    sizes = text_symbols(binary)
    daemon = sorted(n for n in groups["daemon"] if n in sizes)
    client = sorted(n for n in groups["client"] - groups["daemon"] if n in sizes)
    if len(daemon) < 500:
        raise SystemExit(f"only {len(daemon)} daemon functions recorded: is {binary} stripped, or "
                         "built with the hot-first layout (valgrind sees only `.text`)?")
    hot = sum(sizes[n] for n in daemon + client)
    rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip()
    with open(out, "w") as f:
        f.write(
            "/* Generated by scripts/hot-text.sh; do not edit. See build.rs.\n"
            f"   {rustc}, the dependencies in Cargo.lock.\n"
            f"   {len(daemon)} functions the daemon ran, then {len(client)} only the commands ran.\n"
            f"   hot-bytes: {hot}\n*/\n"
            "SECTIONS {\n  .text.hot : {\n"
        )
        for name in daemon + client:
            # A function LTO copied keeps its name with a `.N` suffix on the section; C
            # compilers put constructors in `.text.startup.` and cold ones in `.text.unlikely.`.
            f.write(f"    *(.text.{name} .text.{name}.* .text.startup.{name} .text.unlikely.{name})\n")
        f.write("  }\n}\nINSERT BEFORE .text;\n")
    print(f"{out}: {len(daemon)} + {len(client)} functions, {hot / 1e6:.2f} MB", file=sys.stderr)
    if not os.environ.get("CREDD_HOT_TEXT_KEEP"):
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
