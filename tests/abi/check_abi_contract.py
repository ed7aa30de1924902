#!/usr/bin/env python3
"""What the C ABI headers say, held against the code, so that a future mismatch fails a test.

1. Defaults: every "(default X)" a field of an options struct states in include/sotto/*.h equals
   what its `*_options_init` function sets, read through ctypes from the built libsotto (the
   struct layout is rebuilt from the header text and checked against its static asserts). An
   enum constant marked "(default)" must be the init value of the fields that name its family.
2. Field sets: every field of the C++ status and summary structs is a field of the C struct,
   and every value field of the C struct is exposed by the Python and the Java binding, except
   the documented exceptions below (each with its reason). The Python binding's ctypes layouts
   must equal the header's, field by field and offset by offset.

Usage: check_abi_contract.py SOURCE_DIR [--self-test] (SOTTO_LIBRARY: the built libsotto.so.1;
the Python package is imported from SOURCE_DIR/bindings/python). --self-test applies known drifts
to the header text and fails unless each is caught.
"""
import ctypes
import os
import re
import sys
import tempfile

_args = [a for a in sys.argv[1:] if not a.startswith("--")]
SRC = os.path.abspath(_args[0] if _args else os.path.join(os.path.dirname(__file__), "..", ".."))
HEADERS = [os.path.join(SRC, "include", "sotto", n) for n in ("sotto.h", "sotto_updater.h")]
failures = []
quiet = False  # the self-test expects failures: it prints only what it did not catch


def fail(msg):
    failures.append(msg)
    if not quiet:
        print("FAIL: " + msg)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# ---- The C header, parsed ------------------------------------------------------------------

CTYPES = {"uint8_t": ctypes.c_uint8, "int8_t": ctypes.c_int8, "uint32_t": ctypes.c_uint32,
          "int32_t": ctypes.c_int32, "uint64_t": ctypes.c_uint64, "int64_t": ctypes.c_int64,
          "double": ctypes.c_double, "char": ctypes.c_char, "size_t": ctypes.c_size_t,
          "sotto_status": ctypes.c_int32}
DECL = re.compile(r"^(const\s+)?(\w+)\s*(\*?)\s*(\w+)\s*(?:\[(\w+)\])?$")


def parse_structs(text):
    """{name: [(field, ctype_name, is_pointer, array_len or None, trailing comment)]}"""
    macros = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define (SOTTO_\w+) (\d+)", text)}
    structs = {}
    for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} \1;", text, re.S):
        fields = []
        for tok in re.finditer(r"/\*\*<(.*?)\*/|/\*.*?\*/|([^;/]+);", m.group(2), re.S):
            if tok.group(1) is not None:
                if fields:
                    fields[-1] = fields[-1][:4] + (fields[-1][4] + " " + " ".join(tok.group(1).split()),)
                continue
            if tok.group(2) is None:
                continue
            d = DECL.match(" ".join(tok.group(2).split()))
            if not d:
                fail("%s: cannot parse the member %r" % (m.group(1), tok.group(2).strip()))
                continue
            n = d.group(5)
            length = None if n is None else (int(n) if n.isdigit() else macros[n])
            fields.append((d.group(4), d.group(2), bool(d.group(3)), length, ""))
        structs[m.group(1)] = fields
    return structs


def load(text):
    """Parses the header text into the globals the checks read."""
    global TEXT, STRUCTS, ENUMS, SIZES, _built
    TEXT = text
    STRUCTS = parse_structs(text)
    ENUMS = {m.group(1): int(m.group(2))
             for m in re.finditer(r"\b(SOTTO_[A-Z0-9_]+)\s*=\s*(-?\d+)\b", text)}
    SIZES = {m.group(1): int(m.group(2))
             for m in re.finditer(r"SOTTO_STATIC_ASSERT\(sizeof\((\w+)\) == (\d+)", text)}
    _built = {}


load("\n".join(read(h) for h in HEADERS))


def ctype_of(struct):
    """A ctypes Structure with the header's layout of `struct`."""
    if struct in _built:
        return _built[struct]
    fields = []
    for name, tname, ptr, length, _ in STRUCTS[struct]:
        t = ctypes.c_void_p if ptr else (CTYPES.get(tname) or ctype_of(tname))
        fields.append((name, t * length if length else t))
    cls = type(struct, (ctypes.Structure,), {"_fields_": fields})
    if struct in SIZES and ctypes.sizeof(cls) != SIZES[struct]:
        fail("%s: the parsed layout has %d bytes, the header asserts %d"
             % (struct, ctypes.sizeof(cls), SIZES[struct]))
    _built[struct] = cls
    return cls


def value_fields(struct):
    return [f[0] for f in STRUCTS[struct] if f[0] != "struct_size" and not f[0].startswith("reserved")]


# ---- 1. Defaults ---------------------------------------------------------------------------

UNITS = {None: 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def claimed_default(struct, field, comment):
    """The value a field's comment claims as its default, or None when it claims none."""
    if "default" not in comment:
        return None
    m = re.search(r"\bdefault (-?\d+)(?: (KiB|MiB|GiB))?\b", comment)
    if m:
        return int(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"\bdefault (SOTTO_[A-Z0-9_]+)\b", comment)
    if m and m.group(1) in ENUMS:
        return ENUMS[m.group(1)]
    fail("%s.%s: a default the test cannot read (write \"(default N)\", \"(default N MiB)\" or "
         "\"(default SOTTO_NAME)\"): %r" % (struct, field, comment))
    return None


def say(msg):
    if not quiet:
        print(msg)


def check_defaults(lib):
    inits = re.findall(r"sotto_status (\w+)_init\((\w+)\* out\)", TEXT)
    if len(inits) < 2:
        fail("found %d *_options_init functions in the headers, expected at least 2" % len(inits))
    checked = 0
    for fn_prefix, struct in inits:
        cls = ctype_of(struct)
        value = cls()
        # The exported function; `_init` is the header's inline passing sizeof.
        fn = getattr(lib, fn_prefix + "_init_sized")
        fn.restype = ctypes.c_int32
        fn.argtypes = [ctypes.POINTER(cls), ctypes.c_size_t]
        if fn(ctypes.byref(value), ctypes.sizeof(cls)) != 0:
            fail("%s_init failed" % fn_prefix)
            continue
        if value.struct_size != ctypes.sizeof(cls):
            fail("%s_init: struct_size %d, sizeof %d" % (fn_prefix, value.struct_size, ctypes.sizeof(cls)))
        for name, _t, _p, _l, comment in STRUCTS[struct]:
            claim = claimed_default(struct, name, comment)
            if claim is None:
                continue
            checked += 1
            got = getattr(value, name)
            if got != claim:
                fail("%s.%s: the header says default %d, %s_init sets %d" % (struct, name, claim, fn_prefix, got))
        # Enum constants marked "(default)": the fields naming their family ("SOTTO_KDF_*").
        for const, comment in re.findall(r"\b(SOTTO_[A-Z0-9_]+)\s*=\s*-?\d+,?\s*/\*\*<([^*]*)\*/", TEXT):
            if "(default)" not in comment:
                continue
            family = re.match(r"SOTTO_[A-Z0-9]+_", const).group(0)
            for name, _t, _p, _l, fcomment in STRUCTS[struct]:
                if family + "*" in fcomment:
                    checked += 1
                    if getattr(value, name) != ENUMS[const]:
                        fail("%s.%s: %s is marked (default), %s_init sets %d"
                             % (struct, name, const, fn_prefix, getattr(value, name)))
    if checked < 10:
        fail("only %d default claims were checked: the header parse is broken" % checked)
    say("defaults: %d claims checked" % checked)


# ---- 2. Field sets -------------------------------------------------------------------------

def cpp_members(path, struct):
    """(type, name) of the data members of `struct` in a C++ header."""
    text = read(os.path.join(SRC, path))
    m = re.search(r"\bstruct %s \{(.*?)\n\};" % struct, text, re.S)
    if not m:
        fail("%s: no struct %s" % (path, struct))
        return []
    body = re.sub(r"//[^\n]*", "", m.group(1))
    while True:  # drop function bodies (braces holding statements); keep `{}` initializers
        shorter = re.sub(r"\{[^{}]*;[^{}]*\}", ";", body)
        if shorter == body:
            break
        body = shorter
    members = []
    for decl in body.split(";"):
        decl = " ".join(decl.split())
        if not decl or "(" in decl:
            continue
        d = re.match(r"^([\w:<>, ]+?)[\s>*&]+(\w+)(?:\s*(?:=.*|\{.*\}))?$", decl)
        if d:
            members.append((d.group(1).strip(), d.group(2)))
    return members


def cpp_fields(path, struct):
    return [name for _, name in cpp_members(path, struct)]


def find_struct(type_name):
    """The header (relative to SRC) that defines `struct type_name {` under include/sotto."""
    if "<" in type_name:
        return None  # std::vector<...>, std::optional<...>: a leaf
    base = type_name.split("::")[-1]
    for root, _dirs, files in os.walk(os.path.join(SRC, "include", "sotto")):
        for f in sorted(files):
            if f.endswith(".hpp") and re.search(r"\bstruct %s \{" % base, read(os.path.join(root, f))):
                return os.path.relpath(os.path.join(root, f), SRC), base
    return None


def cpp_flat_fields(path, struct):
    """The members of `struct`, with those of struct-typed members one level down ("keys.keys")."""
    out = []
    for type_name, name in cpp_members(path, struct):
        inner = find_struct(type_name)
        if inner:
            out.extend(name + "." + sub for sub in cpp_fields(*inner))
        else:
            out.append(name)
    return out


# C++ CheckReport (nested: the engine's report and counters) against the flat C summary: every
# member path maps to C fields, or to None with the reason C does without it.
CHECK_REPORT = {
    "computed_at": ["computed_at"], "files": ["files"], "sightings": ["sightings"],
    "recorded": ["recorded"], "risk": ["total_risk_level"],
    "matches": None,  # the matched keys and RPIs are identifiers: C gives their counts
    "report.windows": ["windows"], "report.daily_summaries": ["daily_summaries"],
    "report.risk": ["risk_days", "most_recent_low_risk_date", "most_recent_high_risk_date"],
    "report.encounters": ["encounters"], "report.valid_matches": ["valid_matches"],
    "report.suspect_matches": ["suspect_matches"], "report.disputed_matches": ["disputed_matches"],
    "keys.keys": ["keys"], "keys.keys_revoked": ["keys_revoked"],
    "matcher.keys_checked": ["keys_checked"], "matcher.keys_skipped": ["keys_skipped"],
    "matcher.rpis_derived": ["rpis_derived"], "matcher.rpis_matched": ["rpis_matched"],
    "matcher.keys_revoked": ["matcher_keys_revoked"], "matcher.keys_invalid": ["keys_invalid"],
}


def check_check_report():
    flat = cpp_flat_fields("include/sotto/tracer/results.hpp", "CheckReport")
    c_set = set(value_fields("sotto_check_summary"))
    for path in flat:
        if path not in CHECK_REPORT:
            fail("C++ CheckReport.%s is not in C sotto_check_summary (map it in CHECK_REPORT)" % path)
    for path, c_names in CHECK_REPORT.items():
        if path not in flat:
            fail("CHECK_REPORT maps CheckReport.%s, which C++ no longer has" % path)
        for name in c_names or []:
            if name not in c_set:
                fail("C++ CheckReport.%s: C sotto_check_summary has no %s" % (path, name))


def java_fields(path, *records):
    """The components of `records` in a Java file, in snake_case."""
    text = read(os.path.join(SRC, "bindings", "java", "src", "main", "java", "org", "sotto", path))
    names = []
    for record in records:
        m = re.search(r"record %s\((.*?)\)\s*(?:implements[^{]*)?\{" % record, text, re.S)
        if not m:
            fail("%s: no record %s" % (path, record))
            continue
        names += [p.split()[-1] for p in " ".join(m.group(1).split()).split(",")]
    return [re.sub(r"([A-Z])", lambda c: "_" + c.group(1).lower(), n) for n in names]


def python_surfaces():
    """{name: field names} of the Python binding's public results."""
    import dataclasses
    import sotto
    from sotto import tracer as pt, updater as pu, keyfiles as pk
    out = {name: [f.name for f in dataclasses.fields(cls)] for name, cls in (
        ("CheckResult", pt.CheckResult), ("ImportResult", pt.ImportResult),
        ("TickReport", pt.TickReport), ("KeyFileInfo", pk.KeyFileInfo),
        ("UpdateReport", pu.UpdateReport), ("UpdateFile", pu.UpdateFile))}
    with tempfile.TemporaryDirectory() as d:
        with sotto.Tracer(os.path.join(d, "s.db"), key=b"\x01" * 32) as t:
            out["status()"] = list(t.status())
            out["store_stats()"] = list(t.store_stats())
    return out


# (C struct, C++ (header, struct) or None, Python surface, Java (file, record),
#  {"py:" or "java:" + C field, or "cpp:" + C++ field: why that surface does without it (the
#   documented exceptions)},
#  {C++ or binding name: C name}). The check summary is held to C++ CheckReport by
#  check_check_report (CheckReport nests its parts); the import result and key-file info have
#  no C++ struct of their own: C, Python and Java are compared.
SURFACES = [
    ("sotto_tracer_status", ("include/sotto/tracer/results.hpp", "TracerStatus"), "status()",
     ("TracerStatus.java", "TracerStatus"), {}, {}),
    ("sotto_store_stats", ("include/sotto/store/records.hpp", "StoreStats"), "store_stats()",
     ("StoreStats.java", "StoreStats"), {}, {}),
    ("sotto_tick_report", ("include/sotto/tracer/results.hpp", "TickReport"), "TickReport",
     ("TickReport.java", "TickReport"), {}, {}),
    ("sotto_update_summary", ("include/sotto/update/key_updater.hpp", "UpdateReport"), "UpdateReport",
     ("KeyUpdater.java", "Round"), {
         # C counts the files per outcome; Python counts them from its list of files.
         "py:checked": "UpdateReport.count(\"checked\")",
         "py:unchanged": "UpdateReport.count(\"unchanged\")",
         "py:refused": "UpdateReport.count(\"refused\")",
         "py:still_refused": "UpdateReport.count(\"still refused\")",
         "py:failed": "UpdateReport.count(\"failed\")",
         "py:postponed": "UpdateReport.count(\"postponed\")",
     },
     # C++ and the bindings hold the check itself; C says whether one ran (take it with
     # sotto_updater_take_check). `files` is a list in C++ and the bindings, a count in C.
     {"index": "index_status", "check": "check_ran"}),
    ("sotto_update_file", ("include/sotto/update/key_updater.hpp", "UpdateFile"), "UpdateFile",
     ("KeyUpdater.java", "FileResult"), {
         "cpp:path": "a string: sotto_updater_get_file_path",
         "cpp:spool_file": "only for an updater without a Tracer, which C does not offer",
     }, {}),
    ("sotto_check_summary", None, "CheckResult", ("CheckResult.java", "CheckResult", "Counters"),
     {}, {}),
    ("sotto_import_result", None, "ImportResult", ("ImportResult.java", "ImportResult"), {}, {}),
    ("sotto_keyfile_info", None, "KeyFileInfo", ("KeyFileInfo.java", "KeyFileInfo"), {}, {}),
]
def check_field_sets():
    py = python_surfaces()
    for c_struct, cpp, py_name, java, why, rename in SURFACES:
        c_names = value_fields(c_struct)
        c_set = set(c_names)
        if cpp:
            for name in cpp_fields(*cpp):
                if "cpp:" + name in why:
                    continue
                if rename.get(name, name) not in c_set:
                    fail("C++ %s::%s has no field in C %s" % (cpp[1], name, c_struct))
        py_set = {rename.get(n, n) for n in py[py_name]}
        java_set = {rename.get(n, n) for n in java_fields(*java)}
        for name in c_names:
            if name not in py_set and "py:" + name not in why:
                fail("C %s.%s is not in Python %s" % (c_struct, name, py_name))
            if name not in java_set and "java:" + name not in why:
                fail("C %s.%s is not in Java %s" % (c_struct, name, java[1]))
    check_check_report()
    say("field sets: %d structs checked" % len(SURFACES))


def check_python_layouts():
    """The Python binding's ctypes structs have the header's fields at the header's offsets."""
    from sotto import _lib, updater
    pairs = {"sotto_beacon": getattr(_lib, "Beacon", None), "sotto_metadata": getattr(_lib, "Metadata", None),
             "sotto_diagnosis_key": getattr(_lib, "DiagnosisKeyC", None), "sotto_keyfile_info": getattr(_lib, "KeyFileInfoC", None),
             "sotto_upload_options": getattr(_lib, "UploadOptionsC", None), "sotto_upload_result": getattr(_lib, "UploadResultC", None),
             "sotto_tracer_options": getattr(_lib, "TracerOptionsC", None), "sotto_advertisement": getattr(_lib, "AdvertisementC", None),
             "sotto_import_result": getattr(_lib, "ImportResultC", None), "sotto_check_summary": getattr(_lib, "CheckSummaryC", None),
             "sotto_exposure_window": getattr(_lib, "ExposureWindowC", None), "sotto_scan_instance": getattr(_lib, "ScanInstanceC", None),
             "sotto_daily_summary": getattr(_lib, "DailySummaryC", None), "sotto_risk_day": getattr(_lib, "RiskDayC", None),
             "sotto_heard_advertisement": getattr(_lib, "HeardC", None), "sotto_tick_report": getattr(_lib, "TickReportC", None),
             "sotto_tracer_status": getattr(_lib, "TracerStatusC", None), "sotto_store_stats": getattr(_lib, "StoreStatsC", None),
             "sotto_updater_options": getattr(updater, "UpdaterOptionsC", None),
             "sotto_update_progress": getattr(updater, "UpdateProgressC", None),
             "sotto_update_summary": getattr(updater, "UpdateSummaryC", None), "sotto_update_file": getattr(updater, "UpdateFileC", None)}
    missing = set(STRUCTS) - set(pairs)
    if missing:
        fail("structs of the header without a Python layout: %s" % sorted(missing))
    for struct, cls in pairs.items():
        if cls is None:
            fail("the Python binding has no layout for %s" % struct)
            continue
        want = ctype_of(struct)
        got_fields = [f[0] for f in cls._fields_]
        want_fields = [f[0] for f in want._fields_]
        if got_fields != want_fields:
            fail("Python %s fields %s != header %s" % (cls.__name__, got_fields, want_fields))
            continue
        for name in want_fields:
            if getattr(cls, name).offset != getattr(want, name).offset or \
                    getattr(cls, name).size != getattr(want, name).size:
                fail("Python %s.%s at %d (%d bytes), header at %d (%d bytes)" % (
                    cls.__name__, name, getattr(cls, name).offset, getattr(cls, name).size,
                    getattr(want, name).offset, getattr(want, name).size))
        if ctypes.sizeof(cls) != ctypes.sizeof(want):
            fail("Python %s: %d bytes, header %d" % (cls.__name__, ctypes.sizeof(cls), ctypes.sizeof(want)))
    say("python layouts: %d structs checked" % len(pairs))


def check_struct_sizes():
    """struct_size is a uint32_t and the first member wherever it appears."""
    for struct, fields in STRUCTS.items():
        for i, (name, tname, _p, _l, _c) in enumerate(fields):
            if name == "struct_size" and (i != 0 or tname != "uint32_t"):
                fail("%s.struct_size must be the first member and a uint32_t (is %s, member %d)"
                     % (struct, tname, i))


def run_all(lib):
    check_struct_sizes()
    check_defaults(lib)
    check_python_layouts()
    check_field_sets()


# The drift each check must catch: (what, edit of the header text, a words of the failure).
DRIFTS = [
    ("a default the code does not set", lambda t: t.replace("(default 16384)", "(default 4096)"),
     "the header says default 4096"),
    ("a default in a form the test cannot read", lambda t: t.replace("(default -8)", "(-8 by default)"),
     "a default the test cannot read"),
    ("a C++ status field missing in C",
     lambda t: t.replace("    uint64_t discarded;", "    uint64_t discarded_count;"),
     "TracerStatus::discarded has no field in C"),
    ("a C++ check counter missing in C",
     lambda t: t.replace("    uint64_t rpis_matched; ", "    uint64_t rpis_found; "),
     "C++ CheckReport.matcher.rpis_matched: C sotto_check_summary has no rpis_matched"),
    ("a struct_size that is not a uint32_t",
     lambda t: t.replace("typedef struct sotto_store_stats {\n    uint32_t struct_size;",
                         "typedef struct sotto_store_stats {\n    uint64_t struct_size;"),
     "sotto_store_stats.struct_size must be"),
]


def self_test(lib):
    """Each drift in DRIFTS, applied to the real header text, must make the checks fail."""
    global quiet
    good = TEXT
    missed = []
    quiet = True
    for what, edit, words in DRIFTS:
        bad = edit(good)
        if bad == good:
            missed.append("%s: the edit did not apply (the header changed: update DRIFTS)" % what)
            continue
        del failures[:]
        load(bad)
        run_all(lib)
        if not any(words in f for f in failures):
            missed.append("%s: not caught (%d other failures)" % (what, len(failures)))
        else:
            print("caught: " + what)
    load(good)
    del failures[:]
    quiet = False
    for m in missed:
        print("FAIL: " + m)
    print("%d passed, %d failed" % (len(DRIFTS) - len(missed), len(missed)))
    return 1 if missed else 0


def main():
    sys.path.insert(0, os.path.join(SRC, "bindings", "python"))
    path = os.environ.get("SOTTO_LIBRARY")
    if not path:
        print("SOTTO_LIBRARY: set it to the built libsotto.so.1")
        return 2
    lib = ctypes.CDLL(path)
    if "--self-test" in sys.argv:
        return self_test(lib)
    run_all(lib)
    if failures:
        print("%d passed, %d failed" % (0, len(failures)))
        return 1
    print("abi contract: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
