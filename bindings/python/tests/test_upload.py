"""Tracer.upload_own_keys against the key server's publish endpoint on 127.0.0.1
(tests/fetch/publish_server.py, which answers as the Exposure Notifications Server does)."""
import json
import pathlib
import subprocess
import time

import pytest

import sotto

DAY = 2689920
SERVER = pathlib.Path(__file__).resolve().parents[3] / "tests" / "fetch" / "publish_server.py"
CODE = "12345678"


class Clock:
    def __init__(self, ms):
        self.ms = ms

    def __call__(self):
        return self.ms


@pytest.fixture
def server(tmp_path, request):
    servers = []

    def start(mode="", *flags):
        log = tmp_path / ("publish%d.log" % len(servers))
        args = ["/usr/bin/python3", str(SERVER), str(log), CODE] + ([mode] if mode else [])
        args += list(flags)
        p = subprocess.Popen(args, stdout=subprocess.PIPE)
        port = int(p.stdout.readline())
        servers.append(p)
        url = "http://127.0.0.1:%d/v1/publish" % port
        return url, log

    yield start
    for p in servers:
        p.kill()
        p.wait()


def tracer_with_a_key(tmp_path):
    clock = Clock((DAY + 72) * 600_000)
    t = sotto.Tracer(tmp_path / "s.db", passphrase=b"hunter2", clock=clock, kdf_cost=2)
    adv = t.current_advertisement()
    if not adv.active:
        clock.ms = adv.valid_until_ms
        t.current_advertisement()
    return t


def test_upload_sends_the_publish_body_and_returns_the_answer(tmp_path, server):
    url, log = server()
    with tracer_with_a_key(tmp_path) as t:
        r = t.upload_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, url, "com.example.ha", CODE,
                              transmission_risk=3)
        assert r["accepted"] and r["http_status"] == 200 and r["keys_sent"] >= 1
        assert len(r["revision_token"]) > 20
        body = json.loads(log.read_text().splitlines()[0])["body"]
        assert set(body) == {"temporaryExposureKeys", "healthAuthorityID", "verificationPayload",
                             "hmacKey", "revisionToken", "padding"}
        assert all(k["transmissionRisk"] == 3 for k in body["temporaryExposureKeys"])


def test_a_bad_code_is_an_answer_and_no_consent_sends_nothing(tmp_path, server):
    url, log = server()
    with tracer_with_a_key(tmp_path) as t:
        with pytest.raises(sotto.SottoError) as e:
            t.upload_own_keys(0, url, "com.example.ha", CODE)
        assert e.value.name == "SOTTO_ERR_FAILED_PRECONDITION"
        assert not log.exists()
        with pytest.raises(sotto.SottoError) as e:
            t.upload_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS,
                              "http://example.com/v1/publish", "com.example.ha", CODE)
        assert e.value.name == "SOTTO_ERR_NETWORK_REFUSED"
        with pytest.raises(ValueError):
            t.upload_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, url, "com.example.ha",
                              CODE, transmission_risk=9)
        assert t.store_stats()["own_keys"] >= 1
        r = t.upload_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, url, "com.example.ha",
                              "00000000")
        assert not r["accepted"] and r["http_status"] == 400
        assert r["code"] == "health_authority_verification_certificate_invalid"


def test_a_server_that_hangs_is_given_up_in_bounded_time(tmp_path, server):
    url, _ = server("hang")
    with tracer_with_a_key(tmp_path) as t:
        t0 = time.monotonic()
        with pytest.raises(sotto.SottoError) as e:
            t.upload_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, url, "com.example.ha", CODE,
                              timeout_ms=500)
        assert e.value.name == "SOTTO_ERR_NETWORK_TIMEOUT"
        assert time.monotonic() - t0 < 10


API_KEY = "app-api-key-7a1b"
EXPIRED = "87654321"


def verification_server(server, mode=""):
    url, log = server(mode, "--api-key=" + API_KEY, "--expired-code=" + EXPIRED)
    return url, url[:-len("/v1/publish")], log


def paths(log):
    return [json.loads(line)["path"] for line in log.read_text().splitlines()] \
        if log.exists() else []


def test_with_a_verification_server_the_code_becomes_a_certificate(tmp_path, server):
    url, base, log = verification_server(server)
    with tracer_with_a_key(tmp_path) as t:
        r = t.upload_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, url, "com.example.ha", CODE,
                              transmission_risk=2, verification_server=base, api_key=API_KEY)
        assert r["accepted"] and r["stage"] == "publish", r
        assert paths(log) == ["/api/verify", "/api/certificate", "/v1/publish"]
        publish = json.loads(log.read_text().splitlines()[2])
        assert publish["status"] == 200  # the server's own HMAC over the keys matched
        assert publish["body"]["verificationPayload"].startswith("cert.")


def test_verification_refusals_are_answers_and_reach_no_key_server(tmp_path, server):
    url, base, log = verification_server(server)
    with tracer_with_a_key(tmp_path) as t:
        up = t.upload_own_keys
        ok = sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS
        r = up(ok, url, "com.example.ha", CODE, verification_server=base, api_key="wrong")
        assert not r["accepted"] and r["stage"] == "verify" and r["http_status"] == 401
        r = up(ok, url, "com.example.ha", "11111111", verification_server=base, api_key=API_KEY)
        assert r["stage"] == "verify" and r["code"] == "code_invalid"
        r = up(ok, url, "com.example.ha", EXPIRED, verification_server=base, api_key=API_KEY)
        assert r["code"] == "code_expired" and r["message"] == "verification code expired"
        with pytest.raises(sotto.SottoError) as e:
            up(ok, url, "com.example.ha", CODE, verification_server="http://192.0.2.1",
               api_key=API_KEY)
        assert e.value.name == "SOTTO_ERR_NETWORK_REFUSED"
        with pytest.raises(sotto.SottoError) as e:
            up(ok, url, "com.example.ha", CODE, verification_server=base)
        assert e.value.name == "SOTTO_ERR_INVALID_ARGUMENT"
        assert "/v1/publish" not in paths(log)


def test_a_hanging_verification_server_is_bounded(tmp_path, server):
    url, _, log = verification_server(server)
    _, hang_base, _ = verification_server(server, "hang")
    with tracer_with_a_key(tmp_path) as t:
        t0 = time.monotonic()
        with pytest.raises(sotto.SottoError) as e:
            t.upload_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, url, "com.example.ha",
                              CODE, timeout_ms=500, verification_server=hang_base,
                              api_key=API_KEY)
        assert e.value.name == "SOTTO_ERR_NETWORK_TIMEOUT"
        assert time.monotonic() - t0 < 10
        assert paths(log) == []


def test_an_older_callers_smaller_options_struct_keeps_the_old_behaviour(tmp_path, server):
    """struct_size up to `reserved` (before verification_server): the code is sent as is."""
    import ctypes
    from sotto._lib import UploadOptionsC, UploadResultC, lib
    url, base, log = verification_server(server)
    plain_url, plain_log = server()
    with tracer_with_a_key(tmp_path) as t:
        o = UploadOptionsC()
        o.struct_size = UploadOptionsC.verification_server.offset
        o.url = plain_url.encode()
        o.health_authority_id = b"com.example.ha"
        o.verification_payload = CODE.encode()
        o.verification_server = base.encode()  # beyond struct_size: not read
        o.api_key = API_KEY.encode()
        r = UploadResultC()
        r.struct_size = UploadResultC.stage.offset
        assert lib.sotto_upload_own_keys(ctypes.byref(r), t._h, ctypes.byref(o),
                                         sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS) == 0
        assert r.accepted == 1 and r.stage == b""
        assert paths(log) == [] and paths(plain_log) == ["/v1/publish"]
