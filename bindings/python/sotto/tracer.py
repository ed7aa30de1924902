"""The Tracer: an encrypted store with own keys, heard advertisements, key-file imports and the
exposure check, through the C ABI."""
import ctypes
import os
from dataclasses import dataclass
from typing import Callable, Optional

from . import _lib
from ._lib import (AdvertisementC, CheckSummaryC, DailySummaryC, DiagnosisKeyC, ExposureWindowC, HeardC,
                   ImportResultC, ScanInstanceC, StoreStatsC, TracerOptionsC, TracerStatusC,
                   UploadOptionsC, UploadResultC, buf,
                   check, handle, lib)
from .keyfiles import TrustStore, _info, _keys

IMPORT_PARSE_ONLY = 1
RETENTION_CLOCK_CONFIRMED = 1
IMPORT_REMATCH = 2
USER_CONFIRMED_UPLOAD_OF_OWN_KEYS = 0x55504C44
KDF_INTERACTIVE, KDF_MODERATE, KDF_MINIMUM = 0, 1, 2


@dataclass(frozen=True)
class Advertisement:
    service_data: bytes
    advertising_data: bytes
    address: bytes
    interval: int
    valid_until_ms: int
    active: bool  # False: broadcast nothing until valid_until_ms


@dataclass(frozen=True)
class ImportResult:
    read: bool
    verified: bool
    matched: bool
    already_processed: bool
    error: Optional[str]  # the status name when the file was refused
    matched_rpis: int
    info: object


@dataclass(frozen=True)
class ExposureWindow:
    date_unix: int
    report_type: int
    infectiousness: int
    calibration_confidence: int
    scan_instances: list  # of (typical_attenuation_db, min_attenuation_db, seconds_since_last_scan)


@dataclass(frozen=True)
class CheckResult:
    computed_at: int
    sightings: int
    valid_matches: int
    suspect_matches: int
    total_risk_level: int  # 1 low, 2 high (CWA)
    recorded: bool
    windows: list
    daily_summaries: list  # of (date_unix, maximum_score, score_sum, weighted_duration_sum)


def _import_result(c):
    return ImportResult(bool(c.read), bool(c.verified), bool(c.matched), bool(c.already_processed),
                        None if c.error == 0 else lib.sotto_status_name(c.error).decode(),
                        c.matched_rpis, _info(c.info))


def _array(getter, ctype, *extra):
    needed = ctypes.c_size_t()
    status = getter(None, 0, ctypes.byref(needed), *extra)
    if needed.value == 0:
        check(status)
        return []
    arr = (ctype * needed.value)()
    check(getter(arr, needed.value, ctypes.byref(needed), *extra))
    return arr[:needed.value]


class Tracer:
    """Opens (or creates) the store at ``path`` with a 32-byte ``key`` or a ``passphrase``.

    ``clock`` is a callable returning Unix milliseconds (default: the system clock). ``trust``
    is copied. Use as a context manager or call ``close()``; pending advertisements are written.
    """

    def __init__(self, path, key: Optional[bytes] = None, passphrase: Optional[bytes] = None,
                 trust: Optional[TrustStore] = None, clock: Optional[Callable[[], int]] = None,
                 kdf_cost: int = KDF_INTERACTIVE, flush_count: Optional[int] = None,
                 retention_days: Optional[int] = None):
        if (key is None) == (passphrase is None):
            raise ValueError("give exactly one of key and passphrase")
        opts = TracerOptionsC()
        check(lib.sotto_tracer_options_init(ctypes.byref(opts)))
        opts.kdf_cost = kdf_cost
        if flush_count is not None:
            opts.flush_count = flush_count
        if retention_days is not None:
            opts.retention_days = retention_days
        # The callback object must live as long as the tracer.
        self._clock = _lib.CLOCK_FN(lambda _ud: int(clock())) if clock else _lib.CLOCK_FN()
        self._h = handle()
        secret = key if key is not None else passphrase
        p, n, _keep = buf(secret)
        fn = lib.sotto_tracer_open if key is not None else lib.sotto_tracer_open_passphrase
        check(fn(ctypes.byref(self._h), os.fsencode(path), p, n, trust._h if trust else None,
                 self._clock, None, ctypes.byref(opts)))

    def close(self):
        h = getattr(self, "_h", None)
        if h:
            lib.sotto_tracer_destroy(h)
            self._h = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def current_advertisement(self) -> Advertisement:
        c = AdvertisementC()
        check(lib.sotto_tracer_current_advertisement(ctypes.byref(c), self._h))
        return Advertisement(bytes(c.service_data), bytes(c.advertising_data)[:c.advertising_data_len],
                             bytes(c.address), c.interval, c.valid_until_ms, bool(c.active))

    def on_advertisement(self, data: bytes, rssi_dbm: int, time_ms: int):
        """One heard advertisement (20-byte service data or full advertising data)."""
        p, n, _keep = buf(data)
        check(lib.sotto_tracer_on_advertisement(self._h, p, n, rssi_dbm, time_ms))

    def on_advertisements(self, heard) -> int:
        """Many heard advertisements, ``(data, rssi_dbm, time_ms)`` each, in one call. Malformed
        ones are skipped and counted; returns how many were accepted."""
        heard = list(heard)
        arr = (HeardC * max(len(heard), 1))()
        for c, (data, rssi, time_ms) in zip(arr, heard):
            if len(data) > 31:
                raise ValueError("at most 31 bytes per advertisement")
            c.time_ms, c.rssi_dbm, c.len = time_ms, rssi, len(data)
            ctypes.memmove(c.bytes, bytes(data), len(data))
        accepted = ctypes.c_size_t()
        check(lib.sotto_tracer_on_advertisements(self._h, arr, len(heard), ctypes.byref(accepted)))
        return accepted.value

    def flush(self):
        check(lib.sotto_tracer_flush(self._h))

    def tick(self):
        """Periodic work. Raises SottoError SOTTO_ERR_CLOCK_SUSPECT when retention was refused
        because the clock is far from the store's last trusted time, or ran ahead of the time
        elapsed since the last run (nothing deleted)."""
        check(lib.sotto_tracer_tick(self._h))

    def apply_retention(self, clock_confirmed: bool = False):
        """Deletes what is past the retention window as of the clock's now. Without
        ``clock_confirmed``, a clock more than 3 days from the store's last trusted time raises
        SOTTO_ERR_CLOCK_SUSPECT and deletes nothing."""
        check(lib.sotto_tracer_apply_retention(self._h, RETENTION_CLOCK_CONFIRMED if clock_confirmed
                                               else 0))

    def import_key_file(self, zip_bytes: bytes = None, path=None, verify: bool = True,
                        rematch: bool = False) -> ImportResult:
        """Imports an export.zip (bytes) or a path into the current check round. A refused file
        is reported in the result (``error``), not raised."""
        flags = (0 if verify else IMPORT_PARSE_ONLY) | (IMPORT_REMATCH if rematch else 0)
        out = ImportResultC()
        if path is not None:
            check(lib.sotto_tracer_import_keyfile_path(ctypes.byref(out), self._h,
                                                       os.fsencode(path), flags))
        else:
            p, n, _keep = buf(zip_bytes)
            check(lib.sotto_tracer_import_keyfile(ctypes.byref(out), self._h, p, n, flags))
        return _import_result(out)

    def import_key_pair(self, export_bin: bytes, export_sig: bytes, verify: bool = True,
                        rematch: bool = False) -> ImportResult:
        flags = (0 if verify else IMPORT_PARSE_ONLY) | (IMPORT_REMATCH if rematch else 0)
        out = ImportResultC()
        pb, nb, _kb = buf(export_bin)
        ps, ns, _ks = buf(export_sig)
        check(lib.sotto_tracer_import_keyfile_pair(ctypes.byref(out), self._h, pb, nb, ps, ns, flags))
        return _import_result(out)

    def check(self) -> CheckResult:
        """Closes the round and returns the report."""
        h = handle()
        check(lib.sotto_tracer_check(ctypes.byref(h), self._h))
        try:
            s = CheckSummaryC()
            check(lib.sotto_check_get_summary(ctypes.byref(s), h))
            windows = []
            for i, w in enumerate(_array(lib.sotto_check_get_windows, ExposureWindowC, h)):
                scans = [(x.typical_attenuation_db, x.min_attenuation_db, x.seconds_since_last_scan)
                         for x in _array(lib.sotto_check_get_scan_instances, ScanInstanceC, h, i)]
                windows.append(ExposureWindow(w.date_unix, w.report_type, w.infectiousness,
                                              w.calibration_confidence, scans))
            days = [(d.date_unix, d.maximum_score, d.score_sum, d.weighted_duration_sum)
                    for d in _array(lib.sotto_check_get_daily_summaries, DailySummaryC, h)]
            return CheckResult(s.computed_at, s.sightings, s.valid_matches, s.suspect_matches,
                               s.total_risk_level, bool(s.recorded), windows, days)
        finally:
            lib.sotto_check_destroy(h)

    def release_own_keys(self, consent: int) -> list:
        """Own TEKs for upload; ``consent`` must be USER_CONFIRMED_UPLOAD_OF_OWN_KEYS."""
        h = handle()
        check(lib.sotto_tracer_release_own_keys(ctypes.byref(h), self._h, consent))
        try:
            arr = _array(lib.sotto_key_list_get, DiagnosisKeyC, h)
            return _keys(arr, len(arr))
        finally:
            lib.sotto_key_list_destroy(h)

    def upload_own_keys(self, consent: int, url: str, health_authority_id: str,
                        verification_payload: str, transmission_risk: int = 0,
                        symptom_onset_interval: int = 0, revision_token: str = "",
                        ca_file: str = "", timeout_ms: int = 30000,
                        verification_server: str = "", api_key: str = "") -> dict:
        """Releases own keys (``consent`` must be USER_CONFIRMED_UPLOAD_OF_OWN_KEYS) and sends them
        to a key server in the Exposure Notifications Server publish format. Returns the answer:
        ``accepted``, ``http_status``, ``code``, ``message``, ``revision_token``,
        ``inserted_exposures``, ``keys_sent``, ``body_bytes``, ``stage``. A refusal by the server is
        an answer with ``accepted`` False, not an exception; a failed exchange raises SottoError.

        With ``verification_server`` (base URL) and ``api_key``, ``verification_payload`` is the
        code: it is exchanged for a certificate over the keys' HMAC (/api/verify, /api/certificate)
        before the publish; a refusal there has ``stage`` "verify" or "certificate" and ``code``
        the verification server's errorCode ("code_invalid", "code_expired", ...)."""
        for name, value in (("transmission_risk", transmission_risk),
                            ("symptom_onset_interval", symptom_onset_interval),
                            ("timeout_ms", timeout_ms)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError("%s must be an int" % name)
        if not 0 <= transmission_risk <= 8:
            raise ValueError("transmission_risk must be 0..8")
        if not 0 <= symptom_onset_interval < 2**32 or not 0 <= timeout_ms <= 600000:
            raise ValueError("symptom_onset_interval or timeout_ms out of range")
        o = UploadOptionsC()
        o.struct_size = ctypes.sizeof(UploadOptionsC)
        o.url = url.encode("ascii")
        o.health_authority_id = health_authority_id.encode("ascii")
        o.verification_payload = verification_payload.encode("ascii")
        o.revision_token = revision_token.encode("ascii")
        o.ca_file = ca_file.encode() if ca_file else None
        o.timeout_ms = timeout_ms
        o.transmission_risk = transmission_risk
        o.symptom_onset_interval = symptom_onset_interval
        o.verification_server = verification_server.encode("ascii") if verification_server else None
        o.api_key = api_key.encode("ascii") if api_key else None
        r = UploadResultC()
        r.struct_size = ctypes.sizeof(UploadResultC)
        check(lib.sotto_upload_own_keys(ctypes.byref(r), self._h, ctypes.byref(o), consent))
        return {"accepted": bool(r.accepted), "http_status": r.http_status,
                "code": r.code.decode(), "message": r.message.decode(),
                "revision_token": r.revision_token.decode(),
                "inserted_exposures": r.inserted_exposures, "keys_sent": r.keys_sent,
                "body_bytes": r.body_bytes, "stage": r.stage.decode()}

    def erase_all(self):
        check(lib.sotto_tracer_erase_all(self._h))

    def status(self) -> dict:
        c = TracerStatusC()
        check(lib.sotto_tracer_get_status(ctypes.byref(c), self._h))
        return {name: getattr(c, name) for name, _ in TracerStatusC._fields_}

    def store_stats(self) -> dict:
        c = StoreStatsC()
        check(lib.sotto_tracer_get_store_stats(ctypes.byref(c), self._h))
        return {name: getattr(c, name) for name, _ in StoreStatsC._fields_}
