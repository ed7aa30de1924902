"""Trust stores and diagnosis-key files (export.zip, or export.bin + export.sig)."""
import ctypes
import os
from dataclasses import dataclass
from typing import Any, List, Optional, Union

from ._lib import DiagnosisKeyC, KeyFileInfoC, SottoError, buf, check, handle, lib, sized

VERIFY_REQUIRE = 0
VERIFY_PARSE_ONLY = 1
SIGNATURE_NAMES = {0: "verified", 1: "unsigned", 2: "untrusted_key", 3: "bad_signature",
                   4: "malformed"}


class TrustStore:
    """The public keys (ECDSA P-256) key files may be signed with."""

    def __init__(self) -> None:
        self._h = handle()
        check(lib.sotto_trust_store_create(ctypes.byref(self._h)))

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            lib.sotto_trust_store_destroy(h)
            self._h = None

    def add_pem(self, pem: Union[str, bytes], key_id: Optional[str] = None,
                key_version: Optional[str] = None) -> "TrustStore":
        """Adds a PEM public key; with ``key_id`` None it is tried for any signature name."""
        self._add(pem.encode() if isinstance(pem, str) else pem, key_id, key_version, 1)
        return self

    def add_der(self, der: bytes, key_id: Optional[str] = None,
                key_version: Optional[str] = None) -> "TrustStore":
        """Adds a DER SubjectPublicKeyInfo."""
        self._add(der, key_id, key_version, 0)
        return self

    def _add(self, data, key_id, key_version, is_pem):
        p, n, _keep = buf(data)
        check(lib.sotto_trust_store_add(self._h, key_id.encode() if key_id is not None else None,
                                        key_version.encode() if key_version is not None else None,
                                        p, n, is_pem))

    def __len__(self) -> int:
        n = ctypes.c_size_t()
        check(lib.sotto_trust_store_size(ctypes.byref(n), self._h))
        return n.value


@dataclass(frozen=True)
class DiagnosisKey:
    tek: bytes
    rolling_start: int
    rolling_period: int
    transmission_risk_level: int
    report_type: int
    days_since_onset: Optional[int]


@dataclass(frozen=True)
class KeyFileInfo:
    start_timestamp: int
    end_timestamp: int
    region: str
    keys_valid: int
    keys_revoked: int
    keys_delivered: int
    keys_invalid: int
    export_bin_sha256: bytes
    signature_status: str
    verified: bool
    revised_keys_valid: int = 0  # valid keys in the revised list
    export_bin_bytes: int = 0    # size of export.bin, header included


def _info(c: KeyFileInfoC) -> KeyFileInfo:
    return KeyFileInfo(c.start_timestamp, c.end_timestamp, c.region.decode("utf-8", "replace"),
                       c.keys_valid, c.keys_revoked, c.keys_delivered, c.keys_invalid,
                       bytes(c.export_bin_sha256),
                       SIGNATURE_NAMES.get(c.signature_status, "malformed"), bool(c.verified),
                       c.revised_keys_valid, c.export_bin_bytes)


def _keys(c_array: Any, count: int) -> List[DiagnosisKey]:
    return [DiagnosisKey(bytes(k.tek), k.rolling_start, k.rolling_period, k.transmission_risk_level,
                         k.report_type, k.days_since_onset if k.has_days_since_onset else None)
            for k in c_array[:count]]


class KeyFile:
    """A key file read into memory. ``verify=False`` reads without refusing on signature grounds
    (``info.verified`` then says what the check found): never match such keys blindly."""

    def __init__(self, h: handle) -> None:
        self._h = h

    @classmethod
    def from_bytes(cls, zip_bytes: bytes, trust: Optional[TrustStore],
                   verify: bool = True) -> "KeyFile":
        h = handle()
        p, n, _keep = buf(zip_bytes)
        check(lib.sotto_keyfile_read(ctypes.byref(h), p, n, trust._h if trust else None,
                                     VERIFY_REQUIRE if verify else VERIFY_PARSE_ONLY))
        return cls(h)

    @classmethod
    def from_pair(cls, export_bin: bytes, export_sig: bytes, trust: Optional[TrustStore],
                  verify: bool = True) -> "KeyFile":
        h = handle()
        pb, nb, _kb = buf(export_bin)
        ps, ns, _ks = buf(export_sig)
        check(lib.sotto_keyfile_read_pair(ctypes.byref(h), pb, nb, ps, ns,
                                          trust._h if trust else None,
                                          VERIFY_REQUIRE if verify else VERIFY_PARSE_ONLY))
        return cls(h)

    @classmethod
    def from_path(cls, path: "os.PathLike[str] | str | bytes", trust: Optional[TrustStore],
                  verify: bool = True) -> "KeyFile":
        h = handle()
        check(lib.sotto_keyfile_read_path(ctypes.byref(h), os.fsencode(path),
                                          trust._h if trust else None,
                                          VERIFY_REQUIRE if verify else VERIFY_PARSE_ONLY))
        return cls(h)

    def __del__(self):
        h = getattr(self, "_h", None)
        if h:
            lib.sotto_keyfile_destroy(h)
            self._h = None

    @property
    def info(self) -> KeyFileInfo:
        c = sized(KeyFileInfoC)
        check(lib.sotto_keyfile_get_info(ctypes.byref(c), self._h))
        return _info(c)

    def keys(self) -> List[DiagnosisKey]:
        needed = ctypes.c_size_t()
        size = ctypes.sizeof(DiagnosisKeyC)
        status = lib.sotto_keyfile_get_keys(None, 0, size, ctypes.byref(needed), self._h)
        if needed.value == 0:
            check(status)
            return []
        arr = (DiagnosisKeyC * needed.value)()
        check(lib.sotto_keyfile_get_keys(arr, needed.value, size, ctypes.byref(needed), self._h))
        return _keys(arr, needed.value)


__all__ = ["TrustStore", "KeyFile", "KeyFileInfo", "DiagnosisKey", "SottoError"]
