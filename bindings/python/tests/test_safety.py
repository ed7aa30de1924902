"""Close during a call, from another thread, and integers ctypes would silently wrap."""
import os
import subprocess
import sys
import textwrap
import threading

import pytest

import sotto
from sotto.tracer import USER_CONFIRMED_UPLOAD_OF_OWN_KEYS

KEY = bytes(range(32))
NOW_MS = 1614902400000  # 2021-03-05 00:00 UTC
TEK = bytes.fromhex("75c734c6dd1a782de7a965da5eb93125")
ADV = sotto.encode_advertising_data(sotto.make_beacon(TEK, NOW_MS // 600_000, sotto.Metadata(0, 8, 0)))

# Run in a child interpreter so that a crash (the segfault an unlocked binding gives when the
# handle is freed under a running call) fails the test instead of killing pytest.
CLOSE_DURING_CALL = textwrap.dedent("""
    import sys, threading, time
    import sotto

    inside = threading.Event()
    order = []

    class SlowClock:
        # Called by libsotto from inside a Tracer call; lingers there so that close() is
        # called on the main thread while the call is still running.
        armed = False
        def __call__(self):
            if self.armed and not inside.is_set():
                inside.set()
                time.sleep(0.3)
                order.append("call still running")
            return {now}

    clock = SlowClock()
    t = sotto.Tracer(sys.argv[1], key=bytes(range(32)), clock=clock)
    t.on_advertisement(bytes.fromhex(sys.argv[2]), -60, {now})
    clock.armed = True
    errors = []

    def worker():
        try:
            t.flush()
            order.append("call returned")
            for _ in range(200):   # calls racing the close: they finish or raise ValueError
                t.status()
        except ValueError as e:
            errors.append(str(e))

    th = threading.Thread(target=worker)
    th.start()
    inside.wait(10)
    t.close()
    order.append("closed")
    th.join()
    assert order[:3] == ["call still running", "call returned", "closed"], order
    assert all("closed" in e for e in errors), errors
    try:
        t.status()
        raise SystemExit("a call after close() did not raise")
    except ValueError as e:
        assert "closed" in str(e)
    t.close()  # twice: nothing
    print("ok", len(errors))
""").format(now=NOW_MS)


@pytest.mark.parametrize("run", range(3))
def test_close_waits_for_a_running_call_and_later_calls_raise(tmp_path, run):
    env = dict(os.environ)
    p = subprocess.run([sys.executable, "-c", CLOSE_DURING_CALL, str(tmp_path / "s.db"), ADV.hex()],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert p.stdout.startswith("ok")
    # What was heard before the close was written by it.
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=lambda: NOW_MS) as t:
        assert t.store_stats()["sightings"] == 1


def test_many_threads_and_a_close_never_crash(tmp_path):
    t = sotto.Tracer(tmp_path / "s.db", key=KEY, clock=lambda: NOW_MS)
    stop = threading.Event()
    outcomes = []

    def hammer():
        n = 0
        while not stop.is_set():
            try:
                t.on_advertisements([(ADV, -60, NOW_MS + n)] * 64)
                t.status()
                n += 1
            except ValueError as e:
                outcomes.append(str(e))
                return
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for th in threads:
        th.start()
    while t.status()["heard"] < 256:
        pass
    t.close()
    stop.set()
    for th in threads:
        th.join()
    assert outcomes and all("closed" in o for o in outcomes)


def test_a_closed_tracer_raises_a_clear_error(tmp_path):
    t = sotto.Tracer(tmp_path / "s.db", key=KEY, clock=lambda: NOW_MS)
    t.close()
    for call in (t.flush, t.tick, t.status, t.check, lambda: t.on_advertisement(ADV, -60, NOW_MS)):
        with pytest.raises(ValueError, match="closed"):
            call()


@pytest.mark.parametrize("rssi,time_ms", [(-50, 2**64 + NOW_MS), (2**32 - 50, NOW_MS),
                                          (-50, -2**63 - 1), (-2**31 - 1, NOW_MS)])
def test_out_of_range_integers_raise_and_store_nothing(tmp_path, rssi, time_ms):
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=lambda: NOW_MS) as t:
        with pytest.raises(ValueError, match="out of range"):
            t.on_advertisement(ADV, rssi, time_ms)
        with pytest.raises(ValueError, match="out of range"):
            t.on_advertisements([(ADV, -50, NOW_MS), (ADV, rssi, time_ms)])
        assert t.status()["heard"] == 0
        # The neighbours in range are taken as given (not wrapped to something else).
        t.on_advertisement(ADV, -50, NOW_MS)
        assert t.on_advertisements([(ADV, -100, NOW_MS + 1)]) == 1
        assert t.status()["heard"] == 2


def test_a_clock_out_of_range_raises_from_the_call(tmp_path):
    ms = [NOW_MS]
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=lambda: ms[0]) as t:
        ms[0] = 2**64 + NOW_MS
        with pytest.raises(ValueError, match="clock"):
            t.tick()
        with pytest.raises(ValueError, match="clock"):
            t.tick()
        ms[0] = NOW_MS
        t.flush()  # the error was reported once per call, and a good clock is clean again
        t.on_advertisement(ADV, -60, NOW_MS)
        t.flush()
        assert t.store_stats()["sightings"] == 1


def test_a_wrapped_consent_is_not_consent(tmp_path):
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=lambda: NOW_MS) as t:
        with pytest.raises(ValueError, match="out of range"):
            t.release_own_keys(2**32 + USER_CONFIRMED_UPLOAD_OF_OWN_KEYS)
        with pytest.raises(sotto.SottoError):
            t.release_own_keys(USER_CONFIRMED_UPLOAD_OF_OWN_KEYS + 1)


def test_protocol_integers_out_of_range():
    with pytest.raises(ValueError):
        sotto.interval_number(2**63)
    with pytest.raises(ValueError):
        sotto.derive_rpis(TEK, 2**32 + 2642976, 1)
    with pytest.raises(ValueError):
        sotto.make_beacon(TEK, 2642976, sotto.Metadata(tx_power_dbm=200))
    with pytest.raises(ValueError):
        sotto.make_beacon(TEK, -1)
    with pytest.raises(TypeError):
        sotto.derive_rpis(TEK, 2642976.0, 1)
    assert sotto.derive_rpis(TEK, 2642976, 1)[0].hex() == "8be6cd371c5c891604bfbe49df845096"
    assert sotto.make_beacon(TEK, 2642976, sotto.Metadata(tx_power_dbm=-128)).rpi.hex() == \
        "8be6cd371c5c891604bfbe49df845096"
