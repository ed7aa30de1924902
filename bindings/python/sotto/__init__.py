"""sotto: privacy-preserving GAEN contact tracing, over the libsotto C ABI (ctypes).

SPDX-License-Identifier: Apache-2.0
"""
from ._lib import SottoError, lib as _cdll

from .keyfiles import DiagnosisKey, KeyFile, KeyFileInfo, TrustStore
from .protocol import (ADV_WITH_FLAGS, ADV_WITHOUT_FLAGS, Beacon, Metadata, decode_payload,
                       derive_rpis, encode_advertising_data, interval_number, make_beacon,
                       open_metadata)
from .tracer import USER_CONFIRMED_UPLOAD_OF_OWN_KEYS, CheckResult, ImportResult, TickReport, Tracer
from .updater import KeyUpdater, UpdateFile, UpdateProgress, UpdateReport


def version() -> str:
    """The libsotto version ("0.1.0")."""
    return _cdll.sotto_version().decode()


__version__ = "0.1.0"
