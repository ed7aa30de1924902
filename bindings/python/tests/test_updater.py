"""sotto.KeyUpdater over the C ABI: a directory source with the corpus' signed file, and a real
TCP server on 127.0.0.1 that accepts and never answers, cancelled from another thread."""
import shutil
import socket
import threading
import time

import pytest

import sotto
from test_tracer import DAY, KEY, Clock, hear_seed_key


@pytest.fixture
def tracer(tmp_path, trust):
    clock = Clock((DAY + 2 * 144 + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, trust=trust, clock=clock) as t:
        yield t


def test_a_round_checks_the_signed_file_once(tmp_path, corpus, tracer):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    shutil.copy(corpus / "signed.zip", bucket / "a.zip")
    (bucket / "b.zip").write_bytes(b"PK\x03\x04 not a zip")
    hear_seed_key(tracer)
    seen = []
    with sotto.KeyUpdater(tracer, bucket, tmp_path / "state") as u:
        r = u.run(seen.append)
        assert r.index == "new" and not r.cancelled
        by_path = {f.path: f for f in r.files}
        assert by_path["a.zip"].outcome == "checked" and by_path["a.zip"].keys > 0
        assert by_path["a.zip"].downloaded and by_path["a.zip"].reason is None
        assert by_path["b.zip"].outcome == "refused"
        assert by_path["b.zip"].reason == "SOTTO_ERR_KEYFILE_MALFORMED"
        assert r.check is not None and r.check.valid_matches > 0 and r.check.recorded
        phases = [sotto.updater.PHASES.index(p.phase) for p in seen]
        assert phases == sorted(phases) and seen[-1].phase == "check"
        assert any(p.phase == "import" and p.files_total == 2 for p in seen)
        again = u.run()
        assert again.count("unchanged") == 1 and again.count("still-refused") == 1
        assert again.check is None


def test_a_server_that_never_answers_is_cancelled_within_a_second(tmp_path, tracer):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held = []
    stop = threading.Event()

    def serve():  # accepts, reads, never answers
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except socket.timeout:
                pass

    t = threading.Thread(target=serve)
    t.start()
    try:
        url = "http://127.0.0.1:%d" % server.getsockname()[1]
        with sotto.KeyUpdater(tracer, url, tmp_path / "state") as u:  # default timeouts
            cancelled_at = []

            def cancel():
                cancelled_at.append(time.monotonic())
                u.cancel()

            threading.Timer(0.6, cancel).start()
            r = u.run()
            returned = time.monotonic()
            assert r.cancelled and r.index == "failed"
            assert r.index_error == "SOTTO_ERR_CANCELLED"
            assert returned - cancelled_at[0] < 1.0
            assert len(held) == 1
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        server.close()


def test_an_exception_in_the_progress_callback_cancels_and_is_raised(tmp_path, corpus, tracer):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    shutil.copy(corpus / "signed.zip", bucket / "a.zip")
    with sotto.KeyUpdater(tracer, bucket, tmp_path / "state") as u:
        def boom(p):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            u.run(boom)
        r = u.run()  # the file was not checked: the next round does it
        assert r.count("checked") == 1


def test_bad_arguments_raise(tmp_path, tracer):
    with pytest.raises(sotto.SottoError) as e:
        sotto.KeyUpdater(tracer, "http://192.0.2.1/keys", tmp_path / "state")
    assert e.value.name == "SOTTO_ERR_NETWORK_REFUSED"
    with pytest.raises(sotto.SottoError) as e:
        sotto.KeyUpdater(tracer, tmp_path / "missing", tmp_path / "state")
    assert e.value.name == "SOTTO_ERR_INVALID_ARGUMENT"
