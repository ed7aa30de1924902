"""Loads libsotto (the C ABI) with ctypes and declares the prototypes this package uses.

Where the library is looked up, in order:
1. the environment variable ``SOTTO_LIBRARY`` (a full path to ``libsotto.so.1``), an explicit
   choice that wins over everything else;
2. beside this file: the ``libsotto.so.1`` a wheel built with ``build_wheel.py --library``
   carries, so that an installed wheel needs no variable (as PyNaCl carries libsodium);
3. the dynamic loader's usual search for ``libsotto.so.1`` (the soname of this ABI version): an
   installed libsotto (Debian: libsotto1), or ``LD_LIBRARY_PATH``.
"""
import ctypes
import operator
import os

from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_int8, c_int32, c_int64,
                    c_size_t, c_uint8, c_uint32, c_uint64, c_void_p)

ABI_VERSION = 1
_SONAME = "libsotto.so.%d" % ABI_VERSION


def _load() -> ctypes.CDLL:
    path = os.environ.get("SOTTO_LIBRARY")
    if path:
        return ctypes.CDLL(path)
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), _SONAME)
    if os.path.exists(beside):
        return ctypes.CDLL(beside)
    try:
        return ctypes.CDLL(_SONAME)
    except OSError:
        pass
    raise OSError("libsotto not found: set SOTTO_LIBRARY to the path of %s or install sotto "
                  "(Debian: libsotto1; or a wheel that carries it)" % _SONAME)


lib = _load()
if lib.sotto_abi_version() != ABI_VERSION:
    raise OSError("libsotto has C ABI version %d, this package needs %d"
                  % (lib.sotto_abi_version(), ABI_VERSION))


class Beacon(Structure):
    _fields_ = [("rpi", c_uint8 * 16), ("aem", c_uint8 * 4)]


class Metadata(Structure):
    _fields_ = [("minor_version", c_uint8), ("tx_power_dbm", c_int8),
                ("calibration_confidence", c_uint8), ("reserved", c_uint8)]


class DiagnosisKeyC(Structure):
    _fields_ = [("tek", c_uint8 * 16), ("rolling_start", c_uint32), ("rolling_period", c_uint32),
                ("transmission_risk_level", c_int32), ("report_type", c_int32),
                ("days_since_onset", c_int32), ("has_days_since_onset", c_uint8),
                ("reserved", c_uint8 * 3)]


class KeyFileInfoC(Structure):
    _fields_ = [("struct_size", c_uint32), ("signature_status", c_int32),
                ("start_timestamp", c_uint64), ("end_timestamp", c_uint64),
                ("keys_valid", c_uint64), ("revised_keys_valid", c_uint64),
                ("keys_revoked", c_uint64), ("keys_delivered", c_uint64),
                ("keys_invalid", c_uint64), ("export_bin_bytes", c_uint64),
                ("export_bin_sha256", c_uint8 * 32), ("verified", c_uint8),
                ("reserved", c_uint8 * 7), ("region", c_char * 16)]


class UploadOptionsC(Structure):
    _fields_ = [("struct_size", c_uint32), ("timeout_ms", c_uint32), ("url", c_char_p),
                ("health_authority_id", c_char_p), ("verification_payload", c_char_p),
                ("revision_token", c_char_p), ("ca_file", c_char_p),
                ("transmission_risk", c_int32), ("symptom_onset_interval", c_uint32),
                ("verification_server", c_char_p), ("api_key", c_char_p)]


class UploadResultC(Structure):
    _fields_ = [("struct_size", c_uint32), ("http_status", c_int32), ("accepted", c_uint8),
                ("reserved", c_uint8 * 3), ("keys_sent", c_uint32), ("body_bytes", c_uint32),
                ("reserved2", c_uint32), ("inserted_exposures", c_int64), ("code", c_char * 64),
                ("message", c_char * 256), ("revision_token", c_char * 2048),
                ("stage", c_char * 16)]


class TracerOptionsC(Structure):
    _fields_ = [("struct_size", c_uint32), ("retention_days", c_uint32),
                ("flush_count", c_uint32), ("advertising_form", c_uint32),
                ("flush_interval_ms", c_int64), ("max_store_bytes", c_uint64),
                ("tx_power_dbm", c_int8), ("calibration_confidence", c_uint8),
                ("metadata_minor_version", c_uint8), ("create_if_missing", c_uint8),
                ("kdf_cost", c_uint8), ("reserved", c_uint8 * 3)]


class AdvertisementC(Structure):
    _fields_ = [("struct_size", c_uint32), ("interval", c_uint32), ("valid_until_ms", c_int64),
                ("service_data", c_uint8 * 20), ("advertising_data", c_uint8 * 31),
                ("advertising_data_len", c_uint8), ("address", c_uint8 * 6),
                ("active", c_uint8), ("reserved", c_uint8 * 5)]


class ImportResultC(Structure):
    _fields_ = [("struct_size", c_uint32), ("error", c_int32), ("read", c_uint8),
                ("verified", c_uint8), ("matched", c_uint8), ("already_processed", c_uint8),
                ("reserved", c_uint8 * 4), ("matched_rpis", c_uint64), ("info", KeyFileInfoC)]


class CheckSummaryC(Structure):
    _fields_ = [("struct_size", c_uint32), ("total_risk_level", c_int32),
                ("computed_at", c_int64), ("files", c_uint64), ("sightings", c_uint64),
                ("valid_matches", c_uint64), ("suspect_matches", c_uint64),
                ("windows", c_uint64), ("daily_summaries", c_uint64), ("risk_days", c_uint64),
                ("most_recent_low_risk_date", c_int64), ("most_recent_high_risk_date", c_int64),
                ("recorded", c_uint8), ("reserved", c_uint8 * 7)] + [(name, c_uint64) for name in (
                    "disputed_matches", "encounters", "keys", "keys_revoked", "keys_checked",
                    "keys_skipped", "keys_invalid", "rpis_derived", "rpis_matched",
                    "matcher_keys_revoked")]


class ExposureWindowC(Structure):
    _fields_ = [("date_unix", c_int64), ("report_type", c_int32), ("infectiousness", c_int32),
                ("calibration_confidence", c_int32), ("scan_instance_count", c_uint32)]


class ScanInstanceC(Structure):
    _fields_ = [("typical_attenuation_db", c_int32), ("min_attenuation_db", c_int32),
                ("seconds_since_last_scan", c_int32)]


class DailySummaryC(Structure):
    _fields_ = [("date_unix", c_int64), ("maximum_score", c_double), ("score_sum", c_double),
                ("weighted_duration_sum", c_double)]


class HeardC(Structure):
    _fields_ = [("time_ms", c_int64), ("rssi_dbm", c_int32), ("len", c_uint8),
                ("bytes", c_uint8 * 31)]


class TickReportC(Structure):
    _fields_ = [("struct_size", c_uint32), ("retention", c_int32), ("flushed", c_uint8),
                ("rotated", c_uint8), ("reserved", c_uint8 * 2)]


class RiskDayC(Structure):
    _fields_ = [("date_unix", c_int64), ("normalized_time", c_double), ("risk_level", c_int32),
                ("minimum_distinct_encounters_with_low_risk", c_int32),
                ("minimum_distinct_encounters_with_high_risk", c_int32), ("reserved", c_int32)]


class TracerStatusC(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32)] + [(name, c_uint64) for name in (
        "heard", "malformed", "dropped_overflow", "pending", "stored", "rejected", "flushes",
        "flush_failures", "own_keys_created", "rotations", "files_imported", "files_refused",
        "files_skipped", "checks", "deduplicated", "radio_errors", "discarded")] + [
        ("radio_attached", c_uint8), ("round_open", c_uint8), ("clock_suspect", c_uint8),
        ("reserved2", c_uint8 * 5)]


class StoreStatsC(Structure):
    _fields_ = [("struct_size", c_uint32), ("reserved", c_uint32)] + [(name, c_uint64) for name in (
        "sightings", "rpis", "days", "own_keys", "exposure_records", "processed_files",
        "key_publications")]


# The layouts must be what the C header asserts.
for _struct, _size in ((Beacon, 20), (Metadata, 4), (DiagnosisKeyC, 40), (KeyFileInfoC, 128),
                       (TracerOptionsC, 40), (AdvertisementC, 80), (ImportResultC, 152),
                       (CheckSummaryC, 176), (ExposureWindowC, 24), (ScanInstanceC, 12),
                       (DailySummaryC, 32), (RiskDayC, 32), (HeardC, 48), (TracerStatusC, 152),
                       (StoreStatsC, 64), (UploadResultC, 2416)):
    assert ctypes.sizeof(_struct) == _size, _struct.__name__


def filled(c, name):
    """Field ``name`` of the output struct ``c`` after the call, or None when the library did not
    fill it: an older libsotto.so.1 writes only the fields it knows and reports how many bytes in
    ``struct_size`` (sotto.h, "Structs can grow"), so a field past that is unknown, not 0."""
    f = getattr(type(c), name)
    return getattr(c, name) if f.offset + f.size <= c.struct_size else None


def sized(ctype):
    """A zeroed ``ctype`` (an output struct of sotto.h) with ``struct_size`` set, as the C ABI's
    growable-struct convention asks."""
    c = ctype()
    c.struct_size = ctypes.sizeof(ctype)
    return c


def value_fields(ctype):
    """The names of ``ctype``'s fields that carry values (not ``struct_size`` or padding)."""
    return [name for name, _ in ctype._fields_
            if name != "struct_size" and not name.startswith("reserved")]

CLOCK_FN = ctypes.CFUNCTYPE(c_int64, c_void_p)
u8p = POINTER(c_uint8)
sz = c_size_t
szp = POINTER(c_size_t)
handle = c_void_p

_PROTOTYPES = {
    "sotto_status_name": (c_char_p, [c_int32]),
    "sotto_last_error_message": (c_char_p, []),
    "sotto_version": (c_char_p, []),
    "sotto_abi_version": (c_uint32, []),
    "sotto_interval_number": (c_int32, [POINTER(c_uint32), c_int64]),
    "sotto_derive_rpis": (c_int32, [u8p, sz, u8p, sz, c_uint32, c_uint32]),
    "sotto_beacon_make": (c_int32, [POINTER(Beacon), u8p, sz, c_uint32, POINTER(Metadata)]),
    "sotto_beacon_open_metadata": (c_int32, [POINTER(Metadata), POINTER(Beacon), u8p, sz]),
    "sotto_advertising_data_encode": (c_int32, [u8p, sz, szp, POINTER(Beacon), c_uint32]),
    "sotto_payload_decode": (c_int32, [POINTER(Beacon), u8p, sz]),
    "sotto_trust_store_create": (c_int32, [POINTER(handle)]),
    "sotto_trust_store_destroy": (None, [handle]),
    "sotto_trust_store_add": (c_int32, [handle, c_char_p, c_char_p, u8p, sz, c_int32]),
    "sotto_trust_store_size": (c_int32, [szp, handle]),
    "sotto_keyfile_read": (c_int32, [POINTER(handle), u8p, sz, handle, c_uint32]),
    "sotto_keyfile_read_pair": (c_int32, [POINTER(handle), u8p, sz, u8p, sz, handle, c_uint32]),
    "sotto_keyfile_read_path": (c_int32, [POINTER(handle), c_char_p, handle, c_uint32]),
    "sotto_keyfile_destroy": (None, [handle]),
    "sotto_keyfile_get_info": (c_int32, [POINTER(KeyFileInfoC), handle]),
    "sotto_keyfile_get_keys": (c_int32, [POINTER(DiagnosisKeyC), sz, c_uint32, szp, handle]),
    "sotto_tracer_options_init_sized": (c_int32, [POINTER(TracerOptionsC), c_size_t]),
    "sotto_tracer_open": (c_int32, [POINTER(handle), c_char_p, u8p, sz, handle, CLOCK_FN, c_void_p,
                                    POINTER(TracerOptionsC)]),
    "sotto_tracer_open_passphrase": (c_int32, [POINTER(handle), c_char_p, u8p, sz, handle, CLOCK_FN,
                                               c_void_p, POINTER(TracerOptionsC)]),
    "sotto_tracer_destroy": (None, [handle]),
    "sotto_tracer_current_advertisement": (c_int32, [POINTER(AdvertisementC), handle]),
    "sotto_tracer_on_advertisement": (c_int32, [handle, u8p, sz, c_int32, c_int64]),
    "sotto_tracer_on_advertisements": (c_int32, [handle, POINTER(HeardC), sz, szp]),
    "sotto_tracer_flush": (c_int32, [handle]),
    "sotto_tracer_tick": (c_int32, [POINTER(TickReportC), handle]),
    "sotto_tracer_apply_retention": (c_int32, [handle, c_uint32]),
    "sotto_tracer_import_keyfile": (c_int32, [POINTER(ImportResultC), handle, u8p, sz, c_uint32]),
    "sotto_tracer_import_keyfile_pair": (c_int32, [POINTER(ImportResultC), handle, u8p, sz, u8p, sz,
                                                   c_uint32]),
    "sotto_tracer_import_keyfile_path": (c_int32, [POINTER(ImportResultC), handle, c_char_p, c_uint32]),
    "sotto_tracer_check": (c_int32, [POINTER(handle), handle]),
    "sotto_check_destroy": (None, [handle]),
    "sotto_check_get_summary": (c_int32, [POINTER(CheckSummaryC), handle]),
    "sotto_check_get_files": (c_int32, [POINTER(ImportResultC), sz, c_uint32, szp, handle]),
    "sotto_check_get_windows": (c_int32, [POINTER(ExposureWindowC), sz, c_uint32, szp, handle]),
    "sotto_check_get_scan_instances": (c_int32, [POINTER(ScanInstanceC), sz, c_uint32, szp, handle,
                                                 sz]),
    "sotto_check_get_daily_summaries": (c_int32, [POINTER(DailySummaryC), sz, c_uint32, szp,
                                                  handle]),
    "sotto_check_get_risk_days": (c_int32, [POINTER(RiskDayC), sz, c_uint32, szp, handle]),
    "sotto_tracer_release_own_keys": (c_int32, [POINTER(handle), handle, c_uint32]),
    "sotto_key_list_get": (c_int32, [POINTER(DiagnosisKeyC), sz, c_uint32, szp, handle]),
    "sotto_key_list_destroy": (None, [handle]),
    "sotto_tracer_erase_all": (c_int32, [handle]),
    "sotto_upload_own_keys": (c_int32, [POINTER(UploadResultC), handle,
                                        POINTER(UploadOptionsC), c_uint32]),
    "sotto_tracer_get_status": (c_int32, [POINTER(TracerStatusC), handle]),
    "sotto_tracer_get_store_stats": (c_int32, [POINTER(StoreStatsC), handle]),
}
for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes


class SottoError(Exception):
    """A sotto call failed. ``status`` is the numeric code (``sotto::ErrorCode``), ``name`` its
    enumerator name (``"SOTTO_ERR_STORAGE_WRONG_KEY"``), ``message`` a static description."""

    def __init__(self, status, message=None):
        self.status = status
        self.name = lib.sotto_status_name(status).decode()
        self.message = message if message is not None else lib.sotto_last_error_message().decode()
        super().__init__("%s: %s" % (self.name, self.message))


def check(status):
    if status != 0:
        raise SottoError(status)


def buf(data):
    """A ctypes pointer to the bytes of ``data`` (bytes-like) and its length."""
    data = bytes(data)
    return (ctypes.cast(ctypes.c_char_p(data), u8p) if data else None), len(data), data


_INT_RANGES = {
    "int8": (-2**7, 2**7 - 1), "uint8": (0, 2**8 - 1), "int32": (-2**31, 2**31 - 1),
    "uint32": (0, 2**32 - 1), "int64": (-2**63, 2**63 - 1), "uint64": (0, 2**64 - 1),
}


def int_arg(value: int, kind: str, name: str) -> int:
    """``value`` as an int that fits the C type ``kind`` ("int8", "uint32", ...). ctypes would
    silently keep only the low bits (2**64 + t becomes t); this raises ValueError instead, and
    TypeError for what is not an integer (a float, a str)."""
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("%s must be an integer, not %s" % (name, type(value).__name__)) from None
    lo, hi = _INT_RANGES[kind]
    if not lo <= v <= hi:
        raise ValueError("%s out of range: %d is not in [%d, %d] (%s)" % (name, v, lo, hi, kind))
    return v
