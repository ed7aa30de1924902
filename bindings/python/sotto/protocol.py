"""The GAEN protocol functions: RPIs, beacons, metadata, BLE payloads (pure, no store)."""
import ctypes
from dataclasses import dataclass
from typing import List

from ._lib import Beacon as _Beacon, Metadata as _Metadata, buf, check, int_arg, lib

TEK_BYTES = 16
RPI_BYTES = 16
ADV_WITH_FLAGS = 0
ADV_WITHOUT_FLAGS = 1


@dataclass(frozen=True)
class Beacon:
    """What a device broadcasts during one 10-minute interval."""
    rpi: bytes
    aem: bytes

    @property
    def service_data(self) -> bytes:
        return self.rpi + self.aem


@dataclass(frozen=True)
class Metadata:
    minor_version: int = 0
    tx_power_dbm: int = 0
    calibration_confidence: int = 0


def _beacon_from_c(b: _Beacon) -> Beacon:
    return Beacon(bytes(b.rpi), bytes(b.aem))


def _beacon_to_c(beacon: Beacon) -> _Beacon:
    c = _Beacon()
    if len(beacon.rpi) != 16 or len(beacon.aem) != 4:
        raise ValueError("a beacon has a 16-byte RPI and a 4-byte AEM")
    ctypes.memmove(c.rpi, beacon.rpi, 16)
    ctypes.memmove(c.aem, beacon.aem, 4)
    return c


def interval_number(unix_seconds: int) -> int:
    """ENIntervalNumber of a Unix time (floor(t / 600))."""
    out = ctypes.c_uint32()
    check(lib.sotto_interval_number(ctypes.byref(out), int_arg(unix_seconds, "int64", "unix_seconds")))
    return out.value


def derive_rpis(tek: bytes, first_interval: int, count: int = 144) -> List[bytes]:
    """The RPIs of ``tek`` for ``count`` (1..144) intervals from ``first_interval``."""
    first_interval = int_arg(first_interval, "uint32", "first_interval")
    count = int_arg(count, "uint32", "count")
    # Sized for at most 144 (the C call refuses more) so a huge count cannot exhaust memory.
    out = (ctypes.c_uint8 * (16 * min(max(count, 1), 144)))()
    p, n, _keep = buf(tek)
    check(lib.sotto_derive_rpis(out, len(out), p, n, first_interval, count))
    raw = bytes(out)
    return [raw[16 * i:16 * i + 16] for i in range(count)]


def make_beacon(tek: bytes, interval: int, metadata: Metadata = Metadata()) -> Beacon:
    """The beacon a device holding ``tek`` broadcasts during ``interval``."""
    interval = int_arg(interval, "uint32", "interval")
    out = _Beacon()
    m = _Metadata(int_arg(metadata.minor_version, "uint8", "minor_version"),
                  int_arg(metadata.tx_power_dbm, "int8", "tx_power_dbm"),
                  int_arg(metadata.calibration_confidence, "uint8", "calibration_confidence"), 0)
    p, n, _keep = buf(tek)
    check(lib.sotto_beacon_make(ctypes.byref(out), p, n, interval, ctypes.byref(m)))
    return _beacon_from_c(out)


def open_metadata(beacon: Beacon, tek: bytes) -> Metadata:
    """Decrypts the AEM with the TEK that made it. The AEM has no MAC: a wrong TEK gives random
    bytes, refused (SottoError) only when they are not metadata version 1."""
    out = _Metadata()
    c = _beacon_to_c(beacon)
    p, n, _keep = buf(tek)
    check(lib.sotto_beacon_open_metadata(ctypes.byref(out), ctypes.byref(c), p, n))
    return Metadata(out.minor_version, out.tx_power_dbm, out.calibration_confidence)


def encode_advertising_data(beacon: Beacon, form: int = ADV_WITH_FLAGS) -> bytes:
    """Full legacy advertising data (31 bytes with Flags, 28 without)."""
    out = (ctypes.c_uint8 * 31)()
    n = ctypes.c_size_t()
    c = _beacon_to_c(beacon)
    check(lib.sotto_advertising_data_encode(out, 31, ctypes.byref(n), ctypes.byref(c),
                                            int_arg(form, "uint32", "form")))
    return bytes(out)[:n.value]


def decode_payload(data: bytes) -> Beacon:
    """Strictly decodes 20 bytes of service data or full advertising data."""
    out = _Beacon()
    p, n, _keep = buf(data)
    check(lib.sotto_payload_decode(ctypes.byref(out), p, n))
    return _beacon_from_c(out)


__all__ = ["Beacon", "Metadata", "interval_number", "derive_rpis", "make_beacon", "open_metadata",
           "encode_advertising_data", "decode_payload", "ADV_WITH_FLAGS", "ADV_WITHOUT_FLAGS"]
