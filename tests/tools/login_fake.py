"""A small faithful fake of the AWS Sign-In service's token endpoint, the one call an `aws login`
session's refresh makes, built from botocore's `signin` 2023-01-01 service model (rest-json) and
botocore's LoginCredentialFetcher:

- CreateOAuth2Token: POST /v1/token, unsigned (no Authorization), Content-Type
  application/json. The body is the `tokenInput` payload itself: {clientId, grantType,
  refreshToken} (the model also allows code, redirectUri, codeVerifier; clientId and grantType
  are required). The answer's body is the `tokenOutput` payload itself: {accessToken:
  {accessKeyId, secretAccessKey, sessionToken}, tokenType: "aws_sigv4", expiresIn (1..900),
  refreshToken}; a refresh returns no idToken.
- A DPoP proof (RFC 9449) in the `DPoP` header: a compact ES256 JWT whose header is
  {typ: "dpop+jwt", alg: "ES256", jwk: {kty: "EC", crv: "P-256", x, y}} and whose payload has
  htm (the request's method), htu (the URL requested, without query), iat (within `iat_window`
  seconds of this clock) and a jti never seen before. The signature (r || s) must verify
  against the jwk, and the key must be the one the session is bound to (the first key a refresh
  token was used with; a rotated refresh token inherits it).
- Refresh tokens rotate: each is good once; the answer carries the next.
- Errors: the model's shapes, {"error": OAuth2ErrorCode, "message"}, with the type in
  `x-amzn-ErrorType` (with the `:<namespace>` suffix services add). An unknown or spent refresh
  token is AccessDeniedException TOKEN_EXPIRED (the error botocore maps to "run aws login
  again"); a bad request or proof is ValidationException INVALID_REQUEST.

Every request is recorded, with the verdict on its proof. Tests drive it through /_fake/*:
  POST /_fake/config    JSON merged into the settings below
  GET  /_fake/requests  the recorded requests, oldest first

Usage: python login_fake.py PORT   (prints "ready" when listening)
"""

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

LOCK = threading.Lock()
REQUESTS = []
SEEN_JTI = set()
COUNTER = [0]
SETTINGS = {
    # The refresh tokens CreateOAuth2Token accepts: [clientId, refreshToken].
    "grants": [],
    "expires_in": 900,
    # How far a proof's iat may be from this clock, in seconds.
    "iat_window": 300,
    # Errors to answer the next CreateOAuth2Token calls with, one per call:
    # [status, type, error, message].
    "faults": [],
    # A file to write when the next token request arrives, before answering ({path, content}):
    # another program's write landing while a refresh is in flight.
    "write_on_request": None,
}
# refreshToken -> [clientId, bound jwk (x, y) or None]
GRANTS = {}

REQUEST_MEMBERS = {"clientId", "grantType", "code", "redirectUri", "codeVerifier", "refreshToken"}


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_int(s):
    return int.from_bytes(b64url_decode(s), "big")


def verify_dpop(proof, method, url, now, window):
    """The proof's payload and jwk when it is valid; raises ValueError with the reason otherwise."""
    if not proof:
        raise ValueError("no DPoP header")
    parts = proof.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWT")
    header = json.loads(b64url_decode(parts[0]))
    payload = json.loads(b64url_decode(parts[1]))
    if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
        raise ValueError("typ/alg %r/%r" % (header.get("typ"), header.get("alg")))
    jwk = header.get("jwk") or {}
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise ValueError("jwk is not a public P-256 key")
    x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
    if len(x) != 32 or len(y) != 32:
        raise ValueError("jwk coordinates are not 32 bytes")
    key = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                        ec.SECP256R1()).public_key()
    sig = b64url_decode(parts[2])
    if len(sig) != 64:
        raise ValueError("signature is not r || s (64 bytes)")
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, ("%s.%s" % (parts[0], parts[1])).encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("signature does not verify against the jwk")
    if payload.get("htm") != method:
        raise ValueError("htm %r, request was %s" % (payload.get("htm"), method))
    if payload.get("htu") != url:
        raise ValueError("htu %r, request was to %s" % (payload.get("htu"), url))
    iat = payload.get("iat")
    if not isinstance(iat, int) or abs(now - iat) > window:
        raise ValueError("iat %r is outside %ss of %d" % (iat, window, now))
    jti = payload.get("jti")
    if not isinstance(jti, str) or not jti:
        raise ValueError("no jti")
    with LOCK:
        if jti in SEEN_JTI:
            raise ValueError("jti %s was used before" % jti)
        SEEN_JTI.add(jti)
    return payload, (jwk["x"], jwk["y"])


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
            self.send_header("x-amzn-ErrorType",
                             "%s:http://internal.amazon.com/coral/com.amazon.signin/" % error_type)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, error_type, error, message):
        self._send(status, {"error": error, "message": message}, error_type)

    def do_GET(self):
        if urlparse(self.path).path == "/_fake/requests":
            with LOCK:
                return self._send(200, REQUESTS)
        return self._error(404, "ValidationException", "RESOURCE_NOT_FOUND", self.path)

    def do_POST(self):
        parsed = urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if parsed.path == "/_fake/config":
            with LOCK:
                SETTINGS.update(json.loads(raw or b"{}"))
                for client_id, rt in SETTINGS["grants"]:
                    GRANTS.setdefault(rt, [client_id, None])
            return self._send(200, {})
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"__unparsed": raw.decode("utf-8", "replace")}
        url = "http://%s%s" % (self.headers.get("Host"), parsed.path)
        record = {
            "method": self.command,
            "path": parsed.path,
            "query": parsed.query,
            "url": url,
            "content_type": self.headers.get("Content-Type"),
            "authorization": self.headers.get("Authorization"),
            "body": body,
            "dpop_ok": False,
            "dpop_error": None,
            "dpop_payload": None,
        }
        with LOCK:
            REQUESTS.append(record)
            write = SETTINGS["write_on_request"]
            SETTINGS["write_on_request"] = None
            fault = SETTINGS["faults"].pop(0) if SETTINGS["faults"] else None
        if write:
            with open(write["path"], "w") as f:
                f.write(write["content"])
        if parsed.path != "/v1/token" or parsed.query:
            return self._error(404, "ValidationException", "RESOURCE_NOT_FOUND", self.path)
        try:
            payload, jwk = verify_dpop(self.headers.get("DPoP"), self.command, url, int(time.time()),
                                       SETTINGS["iat_window"])
            record["dpop_ok"], record["dpop_payload"] = True, payload
        except (ValueError, KeyError, TypeError) as e:
            record["dpop_error"] = str(e)
            return self._error(400, "ValidationException", "INVALID_REQUEST", "invalid DPoP proof: %s" % e)
        if fault:
            status, kind, error, message = fault
            return self._error(status, kind, error, message)
        if record["authorization"]:
            return self._error(400, "ValidationException", "INVALID_REQUEST", "CreateOAuth2Token is unsigned")
        if not (record["content_type"] or "").startswith("application/json"):
            return self._error(400, "ValidationException", "INVALID_REQUEST", "Content-Type")
        unknown = set(body) - REQUEST_MEMBERS
        missing = [k for k in ("clientId", "grantType") if not body.get(k)]
        if unknown or missing:
            return self._error(400, "ValidationException", "INVALID_REQUEST",
                               "unknown %s, missing %s" % (sorted(unknown), missing))
        if body["grantType"] != "refresh_token":
            return self._error(400, "ValidationException", "unsupported_grant_type", body["grantType"])
        with LOCK:
            grant = GRANTS.get(body.get("refreshToken"))
            if grant is None or grant[0] != body["clientId"]:
                return self._error(400, "AccessDeniedException", "TOKEN_EXPIRED",
                                   "the session has expired; sign in again")
            if grant[1] is not None and grant[1] != jwk:
                return self._error(400, "ValidationException", "INVALID_REQUEST",
                                   "the DPoP key is not the one this session is bound to")
            del GRANTS[body["refreshToken"]]
            COUNTER[0] += 1
            n = COUNTER[0]
            new_rt = "fake-login-refresh-token-%d" % n
            GRANTS[new_rt] = [body["clientId"], jwk]
        return self._send(200, {
            "accessToken": {
                "accessKeyId": "ASIAFAKELOGIN%07d" % n,
                "secretAccessKey": "fakeLoginSecret%d" % n,
                "sessionToken": "fakeLoginSession%d" % n,
            },
            "tokenType": "aws_sigv4",
            "expiresIn": SETTINGS["expires_in"],
            "refreshToken": new_rt,
        })


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()
