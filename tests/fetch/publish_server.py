#!/usr/bin/python3
"""A key server's publish endpoint for the upload tests, on 127.0.0.1 (ephemeral port).

Usage: publish_server.py LOG CODE [MODE] [--api-key=KEY] [--expired-code=CODE]
Prints the port on the first line of stdout, then serves until killed.

POST /v1/publish takes a body in the Exposure Notifications Server publish format
(google/exposure-notifications-server pkg/api/v1 `Publish`) and checks it as that server does,
strictly: a JSON object with only the known fields, 1..20 keys of exactly {key (base64 of 16
bytes), rollingStartNumber, rollingPeriod (1..144), transmissionRisk (0..8)}, healthAuthorityID
"com.example.ha", verificationPayload equal to CODE, hmacKey and padding base64. Answers as it
does: 200 {"revisionToken", "insertedExposures", "padding"}; 400 {"error", "code"} with code
"bad_request", "unknown_health_authority_id" or "health_authority_verification_certificate_invalid".

Every request is appended to LOG as one JSON line: {"path", "headers": [names], "status",
"body_bytes", "body": <the parsed body or null>}.

MODE: "hang" (read the request, never answer), "error500" (500 internal_error), "redirect" (307
to /elsewhere).

With --api-key it is also the verification server (google/exposure-notifications-verification-
server device API), and then a publish must carry a certificate it issued:
  POST /api/verify {"code"} with X-API-Key: KEY -> 200 {"token","testtype","symptomDate"}; a
    wrong or missing key -> 401 {"error"}; the expired code -> 400 errorCode "code_expired";
    another code -> 400 "code_invalid".
  POST /api/certificate {"token","ekeyhmac"} with X-API-Key -> 200 {"certificate"}; an unknown
    or spent token -> 400 "token_invalid"; an ekeyhmac that is not base64 of 32 bytes -> 400
    "hmac_invalid". Tokens and certificates are single-use.
  POST /v1/publish: verificationPayload must be an unspent certificate, and the HMAC of the
    published keys under the body's hmacKey (keys sorted by base64 key, "key.rollingStart
    Number.rollingPeriod.transmissionRisk" joined by ",", HMAC-SHA256) must equal the
    certificate's ekeyhmac, else 400 "health_authority_verification_certificate_invalid".
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

POSITIONAL = [a for a in sys.argv[1:] if not a.startswith("--")]
FLAGS = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--"))
LOG = POSITIONAL[0]
CODE = POSITIONAL[1]
MODE = POSITIONAL[2] if len(POSITIONAL) > 2 else ""
API_KEY = FLAGS.get("api-key")
EXPIRED_CODE = FLAGS.get("expired-code", "")
TOKENS = {}        # token -> the code it was issued for
CERTIFICATES = {}  # certificate -> the ekeyhmac (bytes) it was issued for
LOG_LOCK = threading.Lock()
MAX_BODY = 64 * 1024
TOP_FIELDS = {"temporaryExposureKeys", "healthAuthorityID", "verificationPayload", "hmacKey",
              "symptomOnsetInterval", "traveler", "revisionToken", "padding"}
KEY_FIELDS = {"key", "rollingStartNumber", "rollingPeriod", "transmissionRisk"}


def b64(value, length=None):
    if not isinstance(value, str) or not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if length is not None and len(raw) != length:
        return None
    return raw


def check(body):
    """(status, answer) for a parsed body."""
    def bad(message, code="bad_request"):
        return 400, {"error": message, "code": code}

    if not isinstance(body, dict):
        return bad("body is not a JSON object")
    extra = set(body) - TOP_FIELDS
    if extra:
        return bad("unknown field(s): " + ",".join(sorted(extra)))
    keys = body.get("temporaryExposureKeys")
    if not isinstance(keys, list) or not 1 <= len(keys) <= 20:
        return bad("temporaryExposureKeys: 1..20 keys")
    for k in keys:
        if not isinstance(k, dict) or set(k) != KEY_FIELDS:
            return bad("a key must have exactly key, rollingStartNumber, rollingPeriod, "
                       "transmissionRisk")
        if b64(k["key"], 16) is None:
            return bad("key is not the base64 of 16 bytes")
        if not isinstance(k["rollingStartNumber"], int) or k["rollingStartNumber"] <= 0:
            return bad("rollingStartNumber")
        if not isinstance(k["rollingPeriod"], int) or not 1 <= k["rollingPeriod"] <= 144:
            return bad("rollingPeriod must be 1..144")
        if not isinstance(k["transmissionRisk"], int) or not 0 <= k["transmissionRisk"] <= 8:
            return bad("transmissionRisk must be 0..8")
    if b64(body.get("hmacKey")) is None or b64(body.get("padding")) is None:
        return bad("hmacKey and padding must be base64")
    if body.get("healthAuthorityID") != "com.example.ha":
        return bad("unknown health authority", "unknown_health_authority_id")
    if API_KEY is not None:
        with LOG_LOCK:
            expected = CERTIFICATES.pop(body.get("verificationPayload"), None)
        invalid = "health_authority_verification_certificate_invalid"
        if expected is None:
            return bad("unable to validate diagnosis verification: certificate is invalid", invalid)
        if not hmac.compare_digest(key_hmac(keys, b64(body["hmacKey"])), expected):
            return bad("unable to validate diagnosis verification: HMAC mismatch", invalid)
    elif body.get("verificationPayload") != CODE:
        return bad("unable to validate diagnosis verification: token is invalid",
                   "health_authority_verification_certificate_invalid")
    token = base64.b64encode(os.urandom(48)).decode()
    return 200, {"revisionToken": token, "insertedExposures": len(keys),
                 "padding": base64.b64encode(os.urandom(64)).decode()}


def key_hmac(keys, secret):
    """The verification protocol's HMAC, computed independently of the client."""
    ordered = sorted(keys, key=lambda k: k["key"])
    text = ",".join("%s.%d.%d.%d" % (k["key"], k["rollingStartNumber"], k["rollingPeriod"],
                                     k["transmissionRisk"]) for k in ordered)
    return hmac.new(secret, text.encode(), hashlib.sha256).digest()


def verification(path, headers, body):
    """(status, answer) of the verification server's device API."""
    def bad(status, message, code=None):
        obj = {"error": message}
        if code:
            obj["errorCode"] = code
        return status, obj

    if headers.get("X-API-Key") != API_KEY:
        return bad(401, "invalid API key")
    if not isinstance(body, dict):
        return bad(400, "bad request", "unparsable_request")
    if path == "/api/verify":
        code = body.get("code")
        if code == EXPIRED_CODE:
            return bad(400, "verification code expired", "code_expired")
        if code != CODE:
            return bad(400, "verification code invalid", "code_invalid")
        token = "tok." + os.urandom(24).hex()
        with LOG_LOCK:
            TOKENS[token] = code
        return 200, {"token": token, "testtype": "confirmed", "symptomDate": "2026-12-01",
                     "testDate": "2026-12-02"}
    with LOG_LOCK:
        known = TOKENS.pop(body.get("token"), None)
    if known is None:
        return bad(400, "verification token invalid", "token_invalid")
    mac = b64(body.get("ekeyhmac"), 32)
    if mac is None:
        return bad(400, "ekeyhmac must be the base64 of 32 bytes", "hmac_invalid")
    certificate = "cert." + os.urandom(32).hex()
    with LOG_LOCK:
        CERTIFICATES[certificate] = mac
    return 200, {"certificate": certificate}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log(self, status, size, body):
        with LOG_LOCK, open(LOG, "a") as f:
            f.write(json.dumps({"path": self.path, "headers": [h.lower() for h in self.headers],
                                "status": status, "body_bytes": size, "body": body}) + "\n")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.log(413, length, None)
            return self.answer(413, {"error": "request too large", "code": "bad_request"})
        raw = self.rfile.read(length)
        if MODE == "hang":
            self.log(0, len(raw), None)
            time.sleep(3600)
            return
        if MODE == "error500":
            self.log(500, len(raw), None)
            return self.answer(500, {"error": "internal processing error",
                                     "code": "internal_error"})
        if MODE == "redirect":
            self.log(307, len(raw), None)
            self.send_response(307)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if API_KEY is not None and self.path in ("/api/verify", "/api/certificate"):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            status, obj = verification(self.path, self.headers, body)
            self.log(status, len(raw), body)
            return self.answer(status, obj)
        if self.path != "/v1/publish":
            self.log(404, len(raw), None)
            return self.answer(404, {"error": "not found", "code": "bad_request"})
        try:
            body = json.loads(raw)
        except ValueError:
            self.log(400, len(raw), None)
            return self.answer(400, {"error": "bad API request", "code": "bad_request"})
        if self.headers.get("Content-Type") != "application/json":
            self.log(415, len(raw), body)
            return self.answer(415, {"error": "content-type is not application/json",
                                     "code": "bad_request"})
        status, obj = check(body)
        self.log(status, len(raw), body)
        self.answer(status, obj)


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
