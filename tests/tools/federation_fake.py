"""A small faithful fake of the AWS federation endpoint (signin.aws.amazon.com/federation), as the
IAM User Guide documents it ("Enable custom identity broker access to the AWS console"):

- GET /federation?Action=getSigninToken[&SessionDuration=N]&Session=JSON, where JSON is
  {"sessionId": access key id, "sessionKey": secret key, "sessionToken": session token}
  -> 200 {"SigninToken": "..."}.
  Temporary credentials only: an ASIA key with a token (long-term keys, or a missing token,
  are refused with 400, as the real endpoint refuses them). SessionDuration, when present, is
  900..43200 seconds. Any other parameter, a missing one, or a Session that is not exactly those
  three strings is a 400.
- GET /federation?Action=login&Issuer=...&Destination=...&SigninToken=... -> 200 when the token
  was issued here (what a browser would follow).

The token is "fake-signin-" + sha256(sessionId)[:16] + "-" + a counter, so it is unique per
request and says whose keys it was issued for; GET /_fake/issued lists every issued token with
the session it was issued for (sessionId, sessionKey, SessionDuration), oldest first.

Usage: python federation_fake.py PORT
"""

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
ISSUED = []
REJECTED = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _bad(self, why):
        with LOCK:
            REJECTED.append(why)
        # The real endpoint answers an HTML page saying this; the reason is for the tests.
        self._send(400, "Invalid credentials parameter: %s" % why, "text/plain")

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/_fake/issued":
            with LOCK:
                return self._send(200, {"issued": ISSUED, "rejected": REJECTED})
        if url.path != "/federation":
            return self._send(404, {"message": "not found"})
        q = parse_qs(url.query, keep_blank_values=True)
        if any(len(v) != 1 for v in q.values()):
            return self._bad("a parameter given twice")
        q = {k: v[0] for k, v in q.items()}
        action = q.get("Action")
        if action == "getSigninToken":
            return self._signin_token(q)
        if action == "login":
            with LOCK:
                known = any(i["token"] == q.get("SigninToken") for i in ISSUED)
            if not known or not q.get("Destination") or "Issuer" not in q:
                return self._bad("unknown token, or no Destination or Issuer")
            return self._send(200, "signed in", "text/plain")
        return self._bad("Action %r" % action)

    def _signin_token(self, q):
        unknown = set(q) - {"Action", "Session", "SessionDuration", "SessionType"}
        if unknown:
            return self._bad("unknown parameters %s" % sorted(unknown))
        try:
            session = json.loads(q.get("Session", ""))
        except ValueError:
            return self._bad("Session is not JSON")
        fields = {"sessionId", "sessionKey", "sessionToken"}
        if not isinstance(session, dict) or set(session) != fields:
            return self._bad("Session must have exactly %s" % sorted(fields))
        if not all(isinstance(session[f], str) and session[f] for f in fields):
            return self._bad("Session fields must be non-empty strings (long-term keys have no token)")
        if not session["sessionId"].startswith("ASIA"):
            return self._bad("sessionId is not a temporary key")
        duration = q.get("SessionDuration")
        if duration is not None:
            if not duration.isdigit() or not 900 <= int(duration) <= 43200:
                return self._bad("SessionDuration %r" % duration)
            duration = int(duration)
        with LOCK:
            digest = hashlib.sha256(session["sessionId"].encode()).hexdigest()[:16]
            token = "fake-signin-%s-%d" % (digest, len(ISSUED) + 1)
            ISSUED.append({
                "token": token,
                "sessionId": session["sessionId"],
                "sessionKey": session["sessionKey"],
                "sessionToken": session["sessionToken"],
                "SessionDuration": duration,
            })
        return self._send(200, {"SigninToken": token})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
