"""moto_server, with STS's temporary credentials named as real STS names them.

Real STS issues every temporary credential (GetSessionToken, GetFederationToken, AssumeRole)
with an access key ID that starts with ASIA; AKIA is for long-term IAM user keys only. moto's
GetSessionToken and GetFederationToken answer with the fixed long-term-looking key
AKIAIOSFODNN7EXAMPLE. credd tells a long-term key from a session by exactly that prefix (an AKIA
key is never overwritten), so against unpatched moto every GetSessionToken session would look
like long-term keys with a leftover token. This launcher renames the key in those two answers
and otherwise runs moto's own server, with moto_server's arguments.
"""

import sys

from moto.server import main
from moto.sts import responses

FIXED = "AKIAIOSFODNN7EXAMPLE"


def _temporary(method):
    def wrapped(self):
        result = method(self)
        creds = result.result.get("Credentials", {}) if hasattr(result, "result") else {}
        if creds.get("AccessKeyId") == FIXED:
            creds["AccessKeyId"] = "ASIA" + FIXED[4:]
        return result

    return wrapped


for name in ("get_session_token", "get_federation_token"):
    setattr(responses.TokenResponse, name, _temporary(getattr(responses.TokenResponse, name)))

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
