"""The Tracer over a real SQLCipher store in a temporary directory, with an injected clock."""
import ctypes

import pytest

import sotto
from conftest import seed_tek

DAY = 2689920  # 2021-02-22 UTC, the day of the seed file's first key
KEY = bytes(range(32))


class Clock:
    def __init__(self, ms):
        self.ms = ms

    def __call__(self):
        return self.ms


def active_advertisement(t, clock):
    """The current advertisement, waiting out a pause (after opening or a release)."""
    adv = t.current_advertisement()
    if not adv.active:
        clock.ms = adv.valid_until_ms
        adv = t.current_advertisement()
    assert adv.active
    return adv


def hear_seed_key(t):
    tek = seed_tek(1)
    for s in range(0, 20 * 60, 60):
        b = sotto.make_beacon(tek, DAY + 60 + s // 600, sotto.Metadata(0, 8, 0))
        t.on_advertisement(sotto.encode_advertising_data(b), -55, (DAY + 60) * 600_000 + s * 1000)


def test_heard_key_is_found_by_the_check_and_a_tampered_file_is_not(tmp_path, corpus, trust):
    clock = Clock((DAY + 2 * 144 + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, trust=trust, clock=clock) as t:
        hear_seed_key(t)
        t.flush()
        assert t.status()["stored"] == 20
        bin_, sig = (lambda d: (d[2:2 + (d[0] | d[1] << 8)], d[2 + (d[0] | d[1] << 8):]))(
            (corpus / "signed.pair").read_bytes())
        bad = bytearray(bin_)
        bad[-20] ^= 1
        r = t.import_key_pair(bytes(bad), sig)
        assert not r.matched and r.error == "SOTTO_ERR_AUTHENTICATION_FAILED"
        r = t.import_key_file((corpus / "signed.zip").read_bytes())
        assert r.matched and r.verified and r.error is None
        assert t.status()["round_open"] is True
        res = t.check()
        assert t.status()["round_open"] is False and t.status()["radio_attached"] is False
        assert res.valid_matches > 0 and res.recorded
        assert [f.error for f in res.files] == ["SOTTO_ERR_AUTHENTICATION_FAILED", None]
        assert res.files[1].matched_rpis > 0 and res.files[1].info.verified
        assert res.keys > 0 and res.rpis_matched >= res.valid_matches > 0 and res.encounters == 1
        assert len(res.risk_days) <= 1 and all(d.risk in ("none", "low", "high")
                                               for d in res.risk_days)
        assert len(res.windows) == 1 and len(res.windows[0].scan_instances) == 20
        assert all(s[1] == 63 for s in res.windows[0].scan_instances)  # 8 dBm - (-55 dBm)
        assert res.daily_summaries[0][0] == DAY * 600


def test_nothing_is_found_without_the_heard_key(tmp_path, corpus, trust):
    clock = Clock((DAY + 2 * 144 + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, trust=trust, clock=clock) as t:
        other = sotto.make_beacon(seed_tek(9), DAY + 60, sotto.Metadata(0, 8, 0))
        t.on_advertisement(other.service_data, -55, (DAY + 60) * 600_000)
        t.import_key_file(path=corpus / "signed.zip")
        res = t.check()
        assert res.valid_matches == 0 and res.windows == []


def test_store_survives_reopen_and_refuses_the_wrong_key(tmp_path):
    clock = Clock((DAY + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=clock) as t:
        adv = active_advertisement(t, clock)
        assert adv.interval == clock.ms // 600_000
        assert sotto.decode_payload(adv.advertising_data).service_data == adv.service_data
    clock.ms += 3600_000
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=clock) as t:
        adv2 = active_advertisement(t, clock)
        assert adv2.service_data != adv.service_data
        # Today's TEK was resumed, not replaced: one own key, and it made the new RPI.
        keys = t.release_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS)
        assert len(keys) == 1
        assert sotto.derive_rpis(keys[0].tek, adv2.interval, 1)[0] == adv2.service_data[:16]
        assert sotto.derive_rpis(keys[0].tek, adv.interval, 1)[0] == adv.service_data[:16]
    with pytest.raises(sotto.SottoError) as e:
        sotto.Tracer(tmp_path / "s.db", key=bytes(32), clock=clock)
    assert e.value.name == "SOTTO_ERR_STORAGE_WRONG_KEY"
    with pytest.raises(sotto.SottoError):
        sotto.Tracer(tmp_path / "p.db", passphrase=b"", clock=clock, kdf_cost=2)


def test_own_keys_only_with_consent_and_erase_forgets_everything(tmp_path):
    clock = Clock((DAY + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", passphrase=b"hunter2", clock=clock, kdf_cost=2) as t:
        adv = active_advertisement(t, clock)
        with pytest.raises(sotto.SottoError) as e:
            t.release_own_keys(0)
        assert e.value.name == "SOTTO_ERR_FAILED_PRECONDITION"
        keys = t.release_own_keys(sotto.USER_CONFIRMED_UPLOAD_OF_OWN_KEYS)
        assert any(sotto.derive_rpis(k.tek, adv.interval, 1)[0] == adv.service_data[:16]
                   for k in keys if k.rolling_start <= adv.interval < k.rolling_start + k.rolling_period)
        after = t.current_advertisement()
        assert not after.active or after.service_data[:16] != adv.service_data[:16]
        t.erase_all()
        assert t.store_stats()["own_keys"] == 0 and t.store_stats()["sightings"] == 0


def test_batches_accept_the_good_and_count_the_bad(tmp_path):
    clock = Clock((DAY + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=clock, flush_count=2) as t:
        b = sotto.make_beacon(seed_tek(4), DAY + 10, sotto.Metadata(0, 8, 0))
        ok = sotto.encode_advertising_data(b, sotto.ADV_WITHOUT_FLAGS)
        n = t.on_advertisements([(ok, -60, (DAY + 10) * 600_000), (ok[:-1], -60, (DAY + 10) * 600_000),
                                 (b.service_data, 99, (DAY + 10) * 600_000), (b.service_data, -61, (DAY + 10) * 600_000 + 1)])
        assert n == 2
        s = t.status()
        assert s["heard"] == 2 and s["malformed"] == 1 and s["stored"] == 2
        with pytest.raises(ValueError):
            t.on_advertisements([(b"\0" * 32, -60, 0)])


def test_a_clock_a_month_ahead_deletes_nothing_until_the_host_confirms_it(tmp_path):
    clock = Clock((DAY + 48) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=clock) as t:
        t.tick()
        t.on_advertisement(bytes([0x3C] * 20), -60, clock.ms)
        t.flush()
        clock.ms += 30 * 86_400_000
        assert t.status()["clock_suspect"] is False
        assert t.tick().retention == "paused: clock suspect"
        assert t.status()["clock_suspect"] is True
        with pytest.raises(sotto.SottoError) as e:
            t.apply_retention()
        assert e.value.name == "SOTTO_ERR_CLOCK_SUSPECT"
        assert t.store_stats()["sightings"] == 1
        t.apply_retention(clock_confirmed=True)
        assert t.store_stats()["sightings"] == 0
        assert t.tick().retention == "ran"
        assert t.status()["clock_suspect"] is False
        assert t.tick().retention == "not due"


def test_a_batch_heard_before_forget_me_and_delivered_after_it_is_not_stored(tmp_path):
    clock = Clock((DAY + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=clock) as t:
        heard_at = clock.ms
        clock.ms += 5_000
        t.erase_all()
        clock.ms += 1_000
        # Android hands its batched scan results over late: one was heard before the erase.
        t.on_advertisements([(bytes([0x11] * 20), -60, heard_at),
                             (bytes([0x22] * 20), -60, clock.ms)])
        t.flush()
        assert t.status()["stored"] == 1
        assert t.store_stats()["sightings"] == 1


def test_the_status_counts_what_an_erase_dropped(tmp_path):
    clock = Clock((DAY + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=clock) as t:
        t.on_advertisement(bytes([0x41] * 20), -60, clock.ms - 2000)
        t.on_advertisement(bytes([0x42] * 20), -60, clock.ms - 1000)
        assert t.status()["pending"] == 2 and t.status()["discarded"] == 0
        t.erase_all()
        t.on_advertisement(bytes([0x43] * 20), -60, clock.ms - 500)  # stamped before the erase
        s = t.status()
        assert s["discarded"] == 3 and s["pending"] == 0 and s["heard"] == 2
        assert "struct_size" not in s and not any(k.startswith("reserved") for k in s)
        assert t.store_stats()["key_publications"] == 0


def _older_library(monkeypatch, name, first_layout):
    """Replaces the C function `name` by what a libsotto.so.1 released before its struct grew
    does (sotto.h, "Structs can grow"): it fills only its first `first_layout` bytes and reports
    that count in struct_size."""
    from sotto._lib import lib
    real = getattr(lib, name)

    def older(out, *args):
        c = out._obj
        full = type(c)()
        full.struct_size = ctypes.sizeof(full)
        status = real(ctypes.byref(full), *args)
        ctypes.memmove(ctypes.addressof(c), ctypes.addressof(full), first_layout)
        c.struct_size = first_layout
        return status
    monkeypatch.setattr(lib, name, older)


def test_fields_an_older_library_did_not_fill_are_none_not_zero(tmp_path, monkeypatch):
    clock = Clock((DAY + 72) * 600_000)
    with sotto.Tracer(tmp_path / "s.db", key=KEY, clock=clock) as t:
        t.on_advertisement(bytes([0x41] * 20), -60, clock.ms - 2000)
        t.erase_all()
        assert t.status()["discarded"] == 1 and t.status()["round_open"] is False
        # sotto_tracer_status before discarded (136 bytes), sotto_store_stats before
        # key_publications (56): the fields the library did not fill are unknown, not 0/False.
        _older_library(monkeypatch, "sotto_tracer_get_status", 136)
        _older_library(monkeypatch, "sotto_tracer_get_store_stats", 56)
        s = t.status()
        assert s["heard"] == 1 and s["pending"] == 0
        for name in ("discarded", "radio_attached", "round_open", "clock_suspect"):
            assert s[name] is None, name
        st = t.store_stats()
        assert st["key_publications"] is None and st["own_keys"] == 0 and st["days"] == 0
