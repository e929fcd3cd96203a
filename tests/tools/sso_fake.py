"""A small faithful fake of IAM Identity Center's two endpoints credd and the SDKs call, built
from botocore's service models (sso-oidc 2019-06-10, sso 2019-06-10; both restJson1):

- sso-oidc CreateToken: POST /token, unsigned, JSON body
  {clientId, clientSecret, grantType, refreshToken, ...} -> 200 {accessToken, tokenType,
  expiresIn, refreshToken?}; errors are 400 with `x-amzn-ErrorType` and the model's body
  {"error", "error_description"} (InvalidGrantException, InvalidClientException,
  InvalidRequestException, UnauthorizedClientException, ...), 500 InternalServerException,
  400 SlowDownException.
- sso GetRoleCredentials: GET /federation/credentials?role_name=R&account_id=A with header
  `x-amz-sso_bearer_token` -> 200 {"roleCredentials": {accessKeyId, secretAccessKey,
  sessionToken, expiration (epoch milliseconds)}}; 401 UnauthorizedException otherwise.

Every request is recorded. Tests drive it through /_fake/* :
  POST /_fake/config  JSON merged into the settings below
  GET  /_fake/requests   the recorded requests, oldest first

Usage: python sso_fake.py PORT   (prints "ready" when listening)
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LOCK = threading.Lock()
REQUESTS = []
SETTINGS = {
    # The registrations and refresh tokens CreateToken accepts: [clientId, clientSecret, refreshToken].
    "grants": [],
    # Access tokens GetRoleCredentials accepts, besides those CreateToken issued.
    "tokens": [],
    "expires_in": 3600,
    # Whether CreateToken hands back a new refresh token (real IAM Identity Center sometimes does).
    "rotate_refresh_token": False,
    # Errors to answer the next CreateToken calls with, one per call: [status, type].
    "token_faults": [],
}
ISSUED = []
COUNTER = [0]

CREATE_TOKEN_MEMBERS = {
    "clientId", "clientSecret", "grantType", "deviceCode", "code", "refreshToken", "scope",
    "redirectUri", "codeVerifier",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, error_type=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "fake-%d" % time.time_ns())
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, error_type, error, description):
        self._send(status, {"error": error, "error_description": description}, error_type)

    def _record(self, body):
        with LOCK:
            REQUESTS.append({
                "method": self.command,
                "path": urlparse(self.path).path,
                "query": parse_qs(urlparse(self.path).query),
                "content_type": self.headers.get("Content-Type"),
                "authorization": self.headers.get("Authorization"),
                "bearer": self.headers.get("x-amz-sso_bearer_token"),
                "body": body,
            })

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {"__unparsed": raw.decode("utf-8", "replace")}

    def do_POST(self):
        path = urlparse(self.path).path
        body = self._body()
        if path == "/_fake/config":
            with LOCK:
                SETTINGS.update(body)
            return self._send(200, {})
        self._record(body)
        if path != "/token":
            return self._error(404, "ResourceNotFoundException", "not_found", path)
        with LOCK:
            fault = SETTINGS["token_faults"].pop(0) if SETTINGS["token_faults"] else None
        if fault:
            status, kind = fault
            if kind == "html":
                # What a proxy or a wrong endpoint answers: a page, no error code.
                page = b"<!doctype html><html><body>Bad Gateway</body></html>"
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                return self.wfile.write(page)
            return self._error(status, kind, kind, "injected by the test")
        unknown = set(body) - CREATE_TOKEN_MEMBERS
        missing = [k for k in ("clientId", "clientSecret", "grantType") if not body.get(k)]
        if unknown or missing:
            return self._error(400, "InvalidRequestException", "invalid_request",
                               "unknown %s, missing %s" % (sorted(unknown), missing))
        if body["grantType"] != "refresh_token":
            return self._error(400, "UnsupportedGrantTypeException", "unsupported_grant_type", body["grantType"])
        with LOCK:
            grants = [tuple(g) for g in SETTINGS["grants"]]
            if (body["clientId"], body["clientSecret"], body.get("refreshToken")) not in grants:
                known = {(g[0], g[1]) for g in grants}
                if (body["clientId"], body["clientSecret"]) not in known:
                    return self._error(401, "InvalidClientException", "invalid_client", "unknown client")
                return self._error(400, "InvalidGrantException", "invalid_grant", "refresh token is invalid")
            COUNTER[0] += 1
            token = "fake-access-token-%d" % COUNTER[0]
            ISSUED.append(token)
            out = {"accessToken": token, "tokenType": "Bearer", "expiresIn": SETTINGS["expires_in"]}
            if SETTINGS["rotate_refresh_token"]:
                new_rt = "fake-refresh-token-%d" % COUNTER[0]
                SETTINGS["grants"].append([body["clientId"], body["clientSecret"], new_rt])
                out["refreshToken"] = new_rt
        return self._send(200, out)

    def do_GET(self):
        path = urlparse(self.path).path
        if path == "/_fake/requests":
            with LOCK:
                return self._send(200, REQUESTS)
        self._record(None)
        if path != "/federation/credentials":
            return self._error(404, "ResourceNotFoundException", "not_found", path)
        q = parse_qs(urlparse(self.path).query)
        if not q.get("role_name") or not q.get("account_id"):
            return self._error(400, "InvalidRequestException", "invalid_request", "role_name and account_id")
        bearer = self.headers.get("x-amz-sso_bearer_token")
        with LOCK:
            ok = bearer in ISSUED or bearer in SETTINGS["tokens"]
        if not ok:
            return self._send(401, {"message": "Session token not found or invalid"}, "UnauthorizedException")
        n = time.time_ns()
        return self._send(200, {"roleCredentials": {
            "accessKeyId": "ASIAFAKESSO%09d" % (n % 10**9),
            "secretAccessKey": "fakeSsoSecret%d" % n,
            "sessionToken": "fakeSsoSession%d" % n,
            "expiration": int(time.time() * 1000) + 3600 * 1000,
        }})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
