"""The key updater: one round downloads the new key files of a source, verifies them, checks
them through a Tracer and remembers per file what happened (``sotto_updater_*`` in the C ABI)."""
import ctypes
import os
from ctypes import POINTER, Structure, c_char, c_char_p, c_int32, c_size_t, c_uint8, c_uint32, \
    c_uint64, c_void_p
from dataclasses import dataclass
from typing import Callable, Optional

from ._lib import check, filled, handle, lib
from .tracer import CheckResult, Tracer, _check_result

CHECKED, UNCHANGED, REFUSED, STILL_REFUSED, FAILED, POSTPONED = range(6)
OUTCOMES = ("checked", "unchanged", "refused", "still-refused", "failed", "postponed")
INDEX_NEW, INDEX_UNCHANGED, INDEX_FAILED = range(3)
PHASES = ("index", "download", "import", "check")


class UpdaterOptionsC(Structure):
    _fields_ = [("struct_size", c_uint32), ("connect_timeout_ms", c_uint32),
                ("total_timeout_ms", c_uint32), ("max_redirects", c_uint32),
                ("max_file_bytes", c_uint64), ("max_spool_bytes", c_uint64)]


class UpdateProgressC(Structure):
    _fields_ = [("struct_size", c_uint32), ("phase", c_uint32), ("files_done", c_uint64),
                ("files_total", c_uint64), ("bytes_done", c_uint64), ("bytes_total", c_uint64)]


class UpdateSummaryC(Structure):
    _fields_ = [("struct_size", c_uint32), ("index_status", c_uint32), ("index_error", c_int32),
                ("index_http_status", c_int32)] + [
        (name, c_uint64) for name in ("files", "checked", "unchanged", "refused", "still_refused",
                                      "failed", "postponed", "refusals_forgotten", "requests",
                                      "bytes_downloaded")] + [
        ("cancelled", c_uint8), ("check_ran", c_uint8), ("state_was_damaged", c_uint8),
        ("reserved", c_uint8 * 5), ("index_lines_refused", c_uint64)]


class UpdateFileC(Structure):
    _fields_ = [("struct_size", c_uint32), ("outcome", c_uint32), ("reason", c_int32),
                ("http_status", c_int32), ("sha256", c_uint8 * 32), ("bytes", c_uint64),
                ("keys", c_uint64), ("downloaded", c_uint8), ("reserved", c_uint8 * 7)]


for _struct, _size in ((UpdaterOptionsC, 32), (UpdateProgressC, 40), (UpdateSummaryC, 112),
                       (UpdateFileC, 72)):
    assert ctypes.sizeof(_struct) == _size, _struct.__name__

PROGRESS_FN = ctypes.CFUNCTYPE(None, c_void_p, POINTER(UpdateProgressC))
_PROTOTYPES = {
    "sotto_updater_options_init_sized": (c_int32, [POINTER(UpdaterOptionsC), c_size_t]),
    "sotto_updater_create": (c_int32, [POINTER(handle), handle, c_char_p, c_char_p,
                                       POINTER(UpdaterOptionsC)]),
    "sotto_updater_run": (c_int32, [handle, PROGRESS_FN, c_void_p]),
    "sotto_updater_cancel": (None, [handle]),
    "sotto_updater_get_summary": (c_int32, [POINTER(UpdateSummaryC), handle]),
    "sotto_updater_get_file": (c_int32, [POINTER(UpdateFileC), handle, c_size_t]),
    "sotto_updater_get_file_path": (c_int32, [POINTER(c_char), c_size_t, POINTER(c_size_t), handle,
                                              c_size_t]),
    "sotto_updater_take_check": (c_int32, [POINTER(handle), handle]),
    "sotto_updater_destroy": (None, [handle]),
}
for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes


def _status_name(status):
    return lib.sotto_status_name(status).decode() if status else None


@dataclass(frozen=True)
class UpdateFile:
    path: str
    outcome: str         # one of OUTCOMES
    reason: Optional[str]  # the status name for refused, failed, postponed (else None)
    http_status: int
    downloaded: bool
    sha256: bytes
    bytes: int
    keys: int


@dataclass(frozen=True)
class UpdateProgress:
    phase: str  # one of PHASES
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int


@dataclass(frozen=True)
class UpdateReport:
    index: str                  # "new", "unchanged" or "failed"
    index_error: Optional[str]  # the status name when the index failed
    index_http_status: int
    files: list                 # of UpdateFile, in index order
    check: Optional[CheckResult]  # when a check ran
    cancelled: bool
    refusals_forgotten: int
    requests: int
    bytes_downloaded: int
    state_was_damaged: bool = False  # the download state was unreadable and rebuilt
    index_lines_refused: Optional[int] = 0  # malformed or hostile index lines (skipped); None:
    # the library (an older libsotto.so.1) did not report it

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)


class KeyUpdater:
    """Keeps ``tracer``'s exposure check up to date from ``source`` (an ``https://`` bucket root,
    ``http://127.0.0.1:port/...``, or a directory), with its state in ``state_dir``.

    ``run()`` does one round; ``cancel()`` (from any thread) stops it within a fraction of a
    second whatever the server does. The tracer must stay open while the updater lives.
    """

    def __init__(self, tracer: Tracer, source, state_dir, max_file_bytes: Optional[int] = None,
                 total_timeout_ms: Optional[int] = None):
        opts = UpdaterOptionsC()
        check(lib.sotto_updater_options_init_sized(ctypes.byref(opts), ctypes.sizeof(opts)))
        if max_file_bytes is not None:
            opts.max_file_bytes = max_file_bytes
        if total_timeout_ms is not None:
            opts.total_timeout_ms = total_timeout_ms
        self._tracer = tracer  # keeps it alive
        self._h = handle()
        src = source if isinstance(source, str) else os.fspath(source)
        check(lib.sotto_updater_create(ctypes.byref(self._h), tracer._h, os.fsencode(src),
                                       os.fsencode(state_dir), ctypes.byref(opts)))

    def close(self):
        h = getattr(self, "_h", None)
        if h:
            lib.sotto_updater_destroy(h)
            self._h = handle()

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def cancel(self):
        """Stops the running round (or the next one). Safe from any thread."""
        lib.sotto_updater_cancel(self._h)

    def run(self, progress: Optional[Callable[[UpdateProgress], None]] = None) -> UpdateReport:
        """One round. Releases the GIL while it runs, so another thread may ``cancel()``."""
        errors = []

        def on_progress(_ud, p):
            try:
                c = p.contents
                progress(UpdateProgress(PHASES[c.phase], c.files_done, c.files_total,
                                        c.bytes_done, c.bytes_total))
            except BaseException as e:  # never unwind through C; cancel and re-raise after
                errors.append(e)
                lib.sotto_updater_cancel(self._h)

        fn = PROGRESS_FN(on_progress) if progress else PROGRESS_FN()
        check(lib.sotto_updater_run(self._h, fn, None))
        if errors:
            raise errors[0]
        s = UpdateSummaryC()
        s.struct_size = ctypes.sizeof(s)
        check(lib.sotto_updater_get_summary(ctypes.byref(s), self._h))
        files = []
        for i in range(s.files):
            f = UpdateFileC()
            f.struct_size = ctypes.sizeof(f)
            check(lib.sotto_updater_get_file(ctypes.byref(f), self._h, i))
            needed = c_size_t()
            lib.sotto_updater_get_file_path(None, 0, ctypes.byref(needed), self._h, i)
            path = ctypes.create_string_buffer(needed.value)
            check(lib.sotto_updater_get_file_path(path, needed.value, ctypes.byref(needed),
                                                  self._h, i))
            files.append(UpdateFile(path.value.decode("utf-8", "replace"), OUTCOMES[f.outcome],
                                    _status_name(f.reason), f.http_status, bool(f.downloaded),
                                    bytes(f.sha256), f.bytes, f.keys))
        result = None
        if s.check_ran:
            h = handle()
            check(lib.sotto_updater_take_check(ctypes.byref(h), self._h))
            if h:
                result = _check_result(h)
        return UpdateReport(("new", "unchanged", "failed")[s.index_status],
                            _status_name(s.index_error), s.index_http_status, files, result,
                            bool(s.cancelled), s.refusals_forgotten, s.requests,
                            s.bytes_downloaded, bool(s.state_was_damaged),
                            filled(s, "index_lines_refused"))
