"""The Tracer: an encrypted store with own keys, heard advertisements, key-file imports and the
exposure check, through the C ABI."""
import ctypes
import functools
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Optional, Tuple, TypeVar

from . import _lib
from ._lib import (AdvertisementC, CheckSummaryC, DailySummaryC, DiagnosisKeyC, ExposureWindowC, HeardC,
                   ImportResultC, RiskDayC, ScanInstanceC, StoreStatsC, TickReportC,
                   TracerOptionsC, TracerStatusC, UploadOptionsC, UploadResultC, buf, check,
                   filled, handle, int_arg, lib, sized, value_fields)
from .keyfiles import DiagnosisKey, KeyFileInfo, TrustStore, _info, _keys

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


RETENTION_NAMES = {0: "not due", 1: "ran", 2: "paused: clock suspect"}


@dataclass(frozen=True)
class TickReport:
    flushed: bool  # pending heard advertisements were written to the store
    rotated: bool  # a new advertisement (RPI, AEM, address) started
    retention: str  # "not due", "ran" or "paused: clock suspect" (nothing deleted)


@dataclass(frozen=True)
class ImportResult:
    read: bool
    verified: bool
    matched: bool
    already_processed: bool
    error: Optional[str]  # the status name when the file was refused
    matched_rpis: int
    info: KeyFileInfo


@dataclass(frozen=True)
class ExposureWindow:
    date_unix: int
    report_type: int
    infectiousness: int
    calibration_confidence: int
    scan_instances: List[Tuple[int, int, int]]  # of (typical_attenuation_db, min_attenuation_db, seconds_since_last_scan)


RISK_NAMES = {0: "none", 1: "low", 2: "high"}  # docs/risk.md: the words of every surface
_STATUS_FLAGS = ("radio_attached", "round_open", "clock_suspect")
# The counters of sotto_check_summary, in the order of CheckResult's last fields.
_CHECK_COUNTERS = ("disputed_matches", "encounters", "keys", "keys_revoked", "keys_checked",
                   "keys_skipped", "keys_invalid", "rpis_derived", "rpis_matched",
                   "matcher_keys_revoked")


@dataclass(frozen=True)
class RiskDay:
    """One day of the CWA risk evaluation (newest first)."""
    date_unix: int
    normalized_time: float
    risk: str  # "none", "low" or "high" (docs/risk.md)
    minimum_distinct_encounters_with_low_risk: int
    minimum_distinct_encounters_with_high_risk: int


@dataclass(frozen=True)
class CheckResult:
    computed_at: int
    sightings: int
    valid_matches: int
    suspect_matches: int
    total_risk_level: int  # 0 none, 1 low, 2 high (docs/risk.md)
    recorded: bool
    windows: List[ExposureWindow]
    daily_summaries: List[Tuple[int, float, float, float]]  # of (date_unix, maximum_score, score_sum, weighted_duration_sum)
    files: List[ImportResult] = field(default_factory=list)  # the round's files, import order
    risk_days: List[RiskDay] = field(default_factory=list)
    most_recent_low_risk_date: int = 0  # UTC midnight, Unix seconds; 0 when none
    most_recent_high_risk_date: int = 0
    # Counters of the round (C sotto_check_summary, C++ CheckReport's report, keys, matcher).
    disputed_matches: int = 0  # valid matches whose RPI was heard with more than one AEM
    encounters: int = 0        # contacts: windows of one (key, metadata) group
    keys: int = 0              # keys received from the matched files
    keys_revoked: int = 0      # of those, report type REVOKED: not matched
    keys_checked: int = 0      # keys whose RPIs the matcher derived
    keys_skipped: int = 0      # keys with no sighting in reach
    keys_invalid: int = 0      # rolling period outside 1..144
    rpis_derived: int = 0
    rpis_matched: int = 0      # derived RPIs found among the sightings
    matcher_keys_revoked: int = 0  # REVOKED keys the matcher itself skipped

    @property
    def risk(self) -> str:
        """"none", "low" or "high", the words of every surface (docs/risk.md)."""
        return RISK_NAMES[self.total_risk_level]


def _import_result(c):
    return ImportResult(bool(c.read), bool(c.verified), bool(c.matched), bool(c.already_processed),
                        None if c.error == 0 else lib.sotto_status_name(c.error).decode(),
                        c.matched_rpis, _info(c.info))


_F = TypeVar("_F", bound=Callable[..., Any])


def _clock_trampoline(clock: Callable[[], int], errors: List[BaseException]) -> Callable[[Any], int]:
    """The C clock callback over ``clock``. An exception cannot cross the C call: it is kept in
    ``errors``, the call sees the last time the clock gave (0 if none), and the method that
    called into C raises it afterwards (a time outside int64 is such an error: ValueError). It
    holds no reference to the Tracer, so dropping the Tracer closes it at once."""
    last = [0]

    def now(_ud: Any) -> int:
        try:
            last[0] = int_arg(clock(), "int64", "clock() result (Unix ms)")
        except BaseException as e:  # noqa: B902 - re-raised by Tracer._raise_clock_error
            if not errors:
                errors.append(e)
        return last[0]
    return now


def _locked(method: _F) -> _F:
    """Runs ``method`` under the Tracer's lock, on an open Tracer. ctypes releases the GIL during
    a C call, so without the lock ``close()`` on another thread would free the handle under a
    running call; with it, ``close()`` waits for the call, and a call after ``close()`` raises
    ValueError."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            if not self._h:
                raise ValueError("sotto.Tracer is closed")
            result = method(self, *args, **kwargs)
            self._raise_clock_error()
            return result
    return wrapper  # type: ignore[return-value]


def _array(getter, ctype, *extra):
    """An array of the C ABI (size, then fill), with `element_size` sizeof(ctype)."""
    needed = ctypes.c_size_t()
    size = ctypes.sizeof(ctype)
    status = getter(None, 0, size, ctypes.byref(needed), *extra)
    if needed.value == 0:
        check(status)
        return []
    arr = (ctype * needed.value)()
    check(getter(arr, needed.value, size, ctypes.byref(needed), *extra))
    return arr[:needed.value]


def _check_result(h) -> CheckResult:
    """The report of the check handle `h` (destroyed here)."""
    try:
        s = sized(CheckSummaryC)
        check(lib.sotto_check_get_summary(ctypes.byref(s), h))
        windows = []
        for i, w in enumerate(_array(lib.sotto_check_get_windows, ExposureWindowC, h)):
            scans = [(x.typical_attenuation_db, x.min_attenuation_db, x.seconds_since_last_scan)
                     for x in _array(lib.sotto_check_get_scan_instances, ScanInstanceC, h, i)]
            windows.append(ExposureWindow(w.date_unix, w.report_type, w.infectiousness,
                                          w.calibration_confidence, scans))
        days = [(d.date_unix, d.maximum_score, d.score_sum, d.weighted_duration_sum)
                for d in _array(lib.sotto_check_get_daily_summaries, DailySummaryC, h)]
        files = [_import_result(f) for f in _array(lib.sotto_check_get_files, ImportResultC, h)]
        risk_days = [RiskDay(d.date_unix, d.normalized_time, RISK_NAMES.get(d.risk_level, "none"),
                             d.minimum_distinct_encounters_with_low_risk,
                             d.minimum_distinct_encounters_with_high_risk)
                     for d in _array(lib.sotto_check_get_risk_days, RiskDayC, h)]
        return CheckResult(s.computed_at, s.sightings, s.valid_matches, s.suspect_matches,
                           s.total_risk_level, bool(s.recorded), windows, days, files, risk_days,
                           s.most_recent_low_risk_date, s.most_recent_high_risk_date,
                           *(getattr(s, name) for name in _CHECK_COUNTERS))
    finally:
        lib.sotto_check_destroy(h)


class Tracer:
    """Opens (or creates) the store at ``path`` with a 32-byte ``key`` or a ``passphrase``.

    ``clock`` is a callable returning Unix milliseconds (default: the system clock). ``trust``
    is copied. Use as a context manager or call ``close()``; pending advertisements are written.
    """

    def __init__(self, path: "os.PathLike[str] | str | bytes", key: Optional[bytes] = None,
                 passphrase: Optional[bytes] = None, trust: Optional[TrustStore] = None,
                 clock: Optional[Callable[[], int]] = None, kdf_cost: int = KDF_INTERACTIVE,
                 flush_count: Optional[int] = None, retention_days: Optional[int] = None) -> None:
        # Every method takes this lock (see _locked); reentrant so that the clock callback,
        # which runs inside a call, may use the Tracer's thread.
        self._lock = threading.RLock()
        self._clock_errors: List[BaseException] = []
        if (key is None) == (passphrase is None):
            raise ValueError("give exactly one of key and passphrase")
        opts = TracerOptionsC()
        check(lib.sotto_tracer_options_init_sized(ctypes.byref(opts), ctypes.sizeof(opts)))
        opts.kdf_cost = int_arg(kdf_cost, "uint8", "kdf_cost")
        if flush_count is not None:
            opts.flush_count = int_arg(flush_count, "uint32", "flush_count")
        if retention_days is not None:
            opts.retention_days = int_arg(retention_days, "uint32", "retention_days")
        # The callback object must live as long as the tracer.
        self._clock = (_lib.CLOCK_FN(_clock_trampoline(clock, self._clock_errors)) if clock
                       else _lib.CLOCK_FN())
        self._h = handle()
        secret = key if key is not None else passphrase
        p, n, _keep = buf(secret)
        fn = lib.sotto_tracer_open if key is not None else lib.sotto_tracer_open_passphrase
        status = fn(ctypes.byref(self._h), os.fsencode(path), p, n, trust._h if trust else None,
                    self._clock, None, ctypes.byref(opts))
        if self._clock_errors:
            self.close()
            self._raise_clock_error()
        check(status)

    def _raise_clock_error(self) -> None:
        if self._clock_errors:
            err = self._clock_errors[0]
            self._clock_errors.clear()
            raise err

    def close(self) -> None:
        """Writes what is pending and closes the store. Waits for a call running on another
        thread; afterwards every method raises ValueError. Closing twice does nothing."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ failed before the handle existed
            return
        with lock:
            h = getattr(self, "_h", None)
            if h:
                lib.sotto_tracer_destroy(h)
            self._h = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Tracer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @_locked
    def current_advertisement(self) -> Advertisement:
        c = sized(AdvertisementC)
        check(lib.sotto_tracer_current_advertisement(ctypes.byref(c), self._h))
        return Advertisement(bytes(c.service_data), bytes(c.advertising_data)[:c.advertising_data_len],
                             bytes(c.address), c.interval, c.valid_until_ms, bool(c.active))

    @_locked
    def on_advertisement(self, data: bytes, rssi_dbm: int, time_ms: int) -> None:
        """One heard advertisement (20-byte service data or full advertising data). ValueError
        for an RSSI outside int32 or a time outside int64."""
        rssi_dbm = int_arg(rssi_dbm, "int32", "rssi_dbm")
        time_ms = int_arg(time_ms, "int64", "time_ms")
        p, n, _keep = buf(data)
        check(lib.sotto_tracer_on_advertisement(self._h, p, n, rssi_dbm, time_ms))

    @_locked
    def on_advertisements(self, heard: Iterable[Tuple[bytes, int, int]]) -> int:
        """Many heard advertisements, ``(data, rssi_dbm, time_ms)`` each, in one call. Malformed
        ones are skipped and counted; returns how many were accepted."""
        heard = list(heard)
        arr = (HeardC * max(len(heard), 1))()
        for c, (data, rssi, time_ms) in zip(arr, heard):
            if len(data) > 31:
                raise ValueError("at most 31 bytes per advertisement")
            c.time_ms = int_arg(time_ms, "int64", "time_ms")
            c.rssi_dbm = int_arg(rssi, "int32", "rssi_dbm")
            c.len = len(data)
            ctypes.memmove(c.bytes, bytes(data), len(data))
        accepted = ctypes.c_size_t()
        check(lib.sotto_tracer_on_advertisements(self._h, arr, len(heard), ctypes.byref(accepted)))
        return accepted.value

    @_locked
    def flush(self) -> None:
        check(lib.sotto_tracer_flush(self._h))

    @_locked
    def tick(self) -> TickReport:
        """Periodic work (call at least once a minute). A suspect clock is not an error: the
        report's ``retention`` is "paused: clock suspect" (nothing deleted; see
        ``apply_retention(clock_confirmed=True)``). Raises SottoError only when something
        failed."""
        c = TickReportC()
        c.struct_size = ctypes.sizeof(TickReportC)
        check(lib.sotto_tracer_tick(ctypes.byref(c), self._h))
        return TickReport(bool(c.flushed), bool(c.rotated), RETENTION_NAMES[c.retention])

    @_locked
    def apply_retention(self, clock_confirmed: bool = False) -> None:
        """Deletes what is past the retention window as of the clock's now. Without
        ``clock_confirmed``, a clock more than 3 days from the store's last trusted time raises
        SOTTO_ERR_CLOCK_SUSPECT and deletes nothing."""
        check(lib.sotto_tracer_apply_retention(self._h, RETENTION_CLOCK_CONFIRMED if clock_confirmed
                                               else 0))

    @_locked
    def import_key_file(self, zip_bytes: Optional[bytes] = None,
                        path: "os.PathLike[str] | str | bytes | None" = None, verify: bool = True,
                        rematch: bool = False) -> ImportResult:
        """Imports an export.zip (bytes) or a path into the current check round. A refused file
        is reported in the result (``error``), not raised."""
        flags = (0 if verify else IMPORT_PARSE_ONLY) | (IMPORT_REMATCH if rematch else 0)
        out = sized(ImportResultC)
        if path is not None:
            check(lib.sotto_tracer_import_keyfile_path(ctypes.byref(out), self._h,
                                                       os.fsencode(path), flags))
        else:
            p, n, _keep = buf(zip_bytes)
            check(lib.sotto_tracer_import_keyfile(ctypes.byref(out), self._h, p, n, flags))
        return _import_result(out)

    @_locked
    def import_key_pair(self, export_bin: bytes, export_sig: bytes, verify: bool = True,
                        rematch: bool = False) -> ImportResult:
        flags = (0 if verify else IMPORT_PARSE_ONLY) | (IMPORT_REMATCH if rematch else 0)
        out = sized(ImportResultC)
        pb, nb, _kb = buf(export_bin)
        ps, ns, _ks = buf(export_sig)
        check(lib.sotto_tracer_import_keyfile_pair(ctypes.byref(out), self._h, pb, nb, ps, ns, flags))
        return _import_result(out)

    @_locked
    def check(self) -> CheckResult:
        """Closes the round and returns the report."""
        h = handle()
        check(lib.sotto_tracer_check(ctypes.byref(h), self._h))
        return _check_result(h)

    @_locked
    def release_own_keys(self, consent: int) -> List[DiagnosisKey]:
        """Own TEKs for upload; ``consent`` must be USER_CONFIRMED_UPLOAD_OF_OWN_KEYS."""
        consent = int_arg(consent, "uint32", "consent")
        h = handle()
        check(lib.sotto_tracer_release_own_keys(ctypes.byref(h), self._h, consent))
        try:
            arr = _array(lib.sotto_key_list_get, DiagnosisKeyC, h)
            return _keys(arr, len(arr))
        finally:
            lib.sotto_key_list_destroy(h)

    @_locked
    def upload_own_keys(self, consent: int, url: str, health_authority_id: str,
                        verification_payload: str, transmission_risk: int = 0,
                        symptom_onset_interval: int = 0, revision_token: str = "",
                        ca_file: str = "", timeout_ms: int = 30000,
                        verification_server: str = "", api_key: str = "") -> dict:
        """Releases own keys (``consent`` must be USER_CONFIRMED_UPLOAD_OF_OWN_KEYS) and sends them
        to a key server in the Exposure Notifications Server publish format. Returns the answer:
        ``accepted``, ``http_status``, ``code``, ``message``, ``revision_token``,
        ``inserted_exposures``, ``keys_sent``, ``body_bytes``, ``stage`` (None from an older
        libsotto.so.1 that does not report it). A refusal by the server is
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
        consent = int_arg(consent, "uint32", "consent")
        check(lib.sotto_upload_own_keys(ctypes.byref(r), self._h, ctypes.byref(o), consent))
        return {"accepted": bool(r.accepted), "http_status": r.http_status,
                "code": r.code.decode(), "message": r.message.decode(),
                "revision_token": r.revision_token.decode(),
                "inserted_exposures": r.inserted_exposures, "keys_sent": r.keys_sent,
                "body_bytes": r.body_bytes,
                "stage": None if filled(r, "stage") is None else r.stage.decode()}

    @_locked
    def erase_all(self) -> None:
        check(lib.sotto_tracer_erase_all(self._h))

    @_locked
    def status(self) -> "dict[str, Optional[int]]":
        """The counters of C `sotto_tracer_status` (C++ `sotto::TracerStatus`) by name; the flags
        ``radio_attached``, ``round_open`` and ``clock_suspect`` as bools. None for a field an
        older libsotto.so.1 did not fill."""
        c = sized(TracerStatusC)
        check(lib.sotto_tracer_get_status(ctypes.byref(c), self._h))
        values = {name: filled(c, name) for name in value_fields(TracerStatusC)}
        return {name: (bool(v) if name in _STATUS_FLAGS and v is not None else v)
                for name, v in values.items()}

    @_locked
    def store_stats(self) -> "dict[str, Optional[int]]":
        """C `sotto_tracer_get_store_stats` by name (None for a field an older library did not
        fill)."""
        c = sized(StoreStatsC)
        check(lib.sotto_tracer_get_store_stats(ctypes.byref(c), self._h))
        return {name: filled(c, name) for name in value_fields(StoreStatsC)}
