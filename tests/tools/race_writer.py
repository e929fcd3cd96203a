"""Writes a shared file in a tight loop the way real tools do, while credd writes the same file,
and checks at every one of its own reads that nothing has gone missing.

usage: race_writer.py MODE PATH WRITES KEEP.json

MODE
  awscli        awscli's own ConfigFileWriter.update_config (what `aws configure set` runs):
                read, then open(path, 'w') and write, in place.
  configparser  configparser read + write through open(path, 'w'): what aws-mfa and awsume do.
  dotenv        python-dotenv's set_key (temp file + rename).
  dotenv-inplace  a dotenv file rewritten through open(path, 'w').

KEEP.json: {"prefix": section prefix ("" or "profile "), "bystanders": K,
            "keep": [[section, key, value], ...], "comments": [line, ...]}

Each write i sets `counter = i` in bystander i % K. Before every write the file is read and
checked: it parses, every bystander holds the last counter written to it, every kept value and
comment is there. A violation prints what went missing and exits 3. At the end one JSON line says
how many writes were made and how long the slowest took (credd may hold a writer off briefly).
"""
import builtins
import collections
import configparser
import json
import os
import sys
import time

mode, path, writes, keep_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(keep_file) as f:
    spec = json.load(f)
prefix, k = spec["prefix"], spec["bystanders"]
last = {b: "-1" for b in range(k)}


# The timeline of this writer's last writes, printed with a loss: for each, when its open for
# writing began and returned (CLOCK_MONOTONIC ns, the clock credd's side logs too), the inode it
# opened, and at its close that inode's link count and the inode the path then named. A write
# that went into an inode the path no longer names was displaced before anyone could read it.
timeline = collections.deque(maxlen=12)
_open = builtins.open


def traced_open(file, mode="r", *args, **kwargs):
    if file != path or not any(m in mode for m in "wa+"):
        return _open(file, mode, *args, **kwargs)
    began = time.monotonic_ns()
    f = _open(file, mode, *args, **kwargs)
    entry.update(open_began=began, opened=time.monotonic_ns(), ino=os.fstat(f.fileno()).st_ino)
    close = f.close

    def traced_close():
        if not f.closed:
            f.flush()
            entry.update(closed=time.monotonic_ns(), nlink=os.fstat(f.fileno()).st_nlink)
            try:
                entry["ino_at_path"] = os.stat(path).st_ino
            except OSError:
                entry["ino_at_path"] = None
        close()

    f.close = traced_close
    return f


builtins.open = traced_open
entry = {}


def fail(why):
    sys.stderr.write(f"race_writer: {why}\n")
    sys.stderr.write("race_writer: timeline of its last writes (ns, CLOCK_MONOTONIC):\n")
    for e in timeline:
        sys.stderr.write(f"race_writer:   {json.dumps(e)}\n")
    sys.exit(3)


def read_ini():
    with open(path) as f:
        text = f.read()
    cp = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        cp.read_string(text)
    except configparser.Error as e:
        fail(f"unparseable: {e}\n{text}")
    return text, lambda s, key: cp.get(s, key) if cp.has_option(s, key) else None


def read_env():
    from dotenv import dotenv_values
    with open(path) as f:
        text = f.read()
    values = dotenv_values(path)
    return text, lambda s, key: values.get(key)


def check(i):
    text, get = (read_env if mode.startswith("dotenv") else read_ini)()
    for b, want in last.items():
        got = get(f"{prefix}by{b}", "counter") if not mode.startswith("dotenv") else get(None, f"BY{b}")
        if got != want:
            fail(f"before write {i}: bystander {b} holds {got!r}, last written {want!r}\n{text}")
    for section, key, value in spec["keep"]:
        if get(section, key) != value:
            fail(f"before write {i}: [{section}] {key} is {get(section, key)!r}, not {value!r}\n{text}")
    for line in spec["comments"]:
        if line not in text:
            fail(f"before write {i}: comment {line!r} is gone\n{text}")


if mode == "awscli":
    from awscli.customizations.configure.writer import ConfigFileWriter
    writer = ConfigFileWriter()

    def write(b, i):
        writer.update_config({"__section__": f"{prefix}by{b}", "counter": str(i)}, path)
elif mode == "configparser":
    def write(b, i):
        cp = configparser.RawConfigParser(strict=False, interpolation=None)
        cp.read(path)
        cp.set(f"{prefix}by{b}", "counter", str(i))
        with open(path, "w") as f:
            cp.write(f)
elif mode == "dotenv":
    from dotenv import set_key

    def write(b, i):
        set_key(path, f"BY{b}", str(i), quote_mode="never")
elif mode == "dotenv-inplace":
    def write(b, i):
        with open(path) as f:
            lines = f.read().splitlines(keepends=True)
        key = f"BY{b}="
        lines = [f"{key}{i}\n" if l.startswith(key) else l for l in lines]
        with open(path, "w") as f:
            f.write("".join(lines))
else:
    fail(f"unknown mode {mode}")

slowest, total = 0.0, 0.0
for i in range(writes):
    check(i)
    b = i % k
    entry = {"write": i, "bystander": b}
    timeline.append(entry)
    t = time.perf_counter()
    write(b, i)
    took = time.perf_counter() - t
    slowest, total = max(slowest, took), total + took
    last[b] = str(i)
check(writes)
print(json.dumps({"writes": writes, "slowest_ms": round(slowest * 1000, 2),
                  "mean_ms": round(total / max(writes, 1) * 1000, 3)}))
