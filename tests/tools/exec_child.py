"""A long-running command under `credd exec`, driven by tests/exec.rs.

It reads one command per line on stdin and answers each with one JSON line on stdout, so the
test decides when things happen (a refresh, an expiry) while this process, and its long-lived
boto3 session, keep running:

  env K1 K2 ...   the values of those variables (null when unset)
  fetch           a fresh provider chain (a new boto3 Session): which provider, and its keys
  call            sts.get_caller_identity() through the session made at start-up
  expire          move that session's recorded expiry into the past: what an hour's wait does
  exit N          exit with status N

SIGINT, SIGTERM and SIGHUP are answered with {"signal": N} when `trap` was given as argv[1].
"""
import datetime
import json
import os
import signal
import sys

import boto3

if len(sys.argv) > 1 and sys.argv[1] == "trap":
    def said(signum, _frame):
        # os.write, not print: the signal may land while print still holds stdout's lock.
        os.write(1, (json.dumps({"signal": signum}) + "\n").encode())

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, said)

session = boto3.Session()
sts = session.client("sts")
print(json.dumps({"ready": True}), flush=True)

for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    out = {}
    try:
        if cmd[0] == "env":
            out = {k: os.environ.get(k) for k in cmd[1:]}
        elif cmd[0] == "fetch":
            c = boto3.Session().get_credentials()
            f = c.get_frozen_credentials()
            out = {"method": c.method, "key": f.access_key, "secret": f.secret_key, "token": f.token}
        elif cmd[0] == "call":
            arn = sts.get_caller_identity()["Arn"]
            c = session.get_credentials()
            out = {"arn": arn, "method": c.method, "key": c.get_frozen_credentials().access_key}
        elif cmd[0] == "expire":
            c = session.get_credentials()
            c._expiry_time = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
            out = {"expired": True}
        elif cmd[0] == "exit":
            sys.exit(int(cmd[1]))
    except Exception as e:  # the test reads the SDK's message
        out = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out), flush=True)
