#!/usr/bin/env python3
"""Writes the seed corpus of keyfile_fuzz into corpus/keyfile/.

The files are crafted here byte by byte (an encoder independent of sotto's writer), signed with
the test-only key keyfile_seed_key.pem through the openssl tool, and zipped with Python's zipfile.
None of them is a copy of real data. Run from this directory: python3 make_keyfile_seeds.py
Input layouts understood by keyfile_fuzz.cpp: any file is tried as an export.zip and as a loose
export.bin; a file is also split as [2-byte little-endian length n][export.bin: n bytes][export.sig].
"""
import io
import os
import struct
import subprocess
import tempfile
import zipfile

HEADER = b"EK Export v1    "
OID = b"1.2.840.10045.4.3.2"
KEY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keyfile_seed_key.pem")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "keyfile")


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def tag(field, wire):
    return varint(field << 3 | wire)


def ld(field, payload):
    return tag(field, 2) + varint(len(payload)) + payload


def vi(field, value):
    return tag(field, 0) + varint(value)


def zigzag(n):
    return (n << 1) ^ (n >> 31)


def fixed64(field, value):
    return tag(field, 1) + struct.pack("<Q", value)


def key(tek, trl=None, start=None, period=None, rt=None, dsos=None, extra=b""):
    m = ld(1, tek) if tek is not None else b""
    if trl is not None:
        m += vi(2, trl)
    if start is not None:
        m += vi(3, start)
    if period is not None:
        m += vi(4, period)
    if rt is not None:
        m += vi(5, rt)
    if dsos is not None:
        m += vi(6, zigzag(dsos))
    return m + extra


def sig_info(key_id=b"fuzz", version=b"v1", algorithm=OID, extra=b""):
    return extra + ld(3, version) + ld(4, key_id) + ld(5, algorithm)


def export(keys, revised=(), infos=(sig_info(),), extra=b""):
    m = fixed64(1, 1614816000) + fixed64(2, 1614902400) + ld(3, b"FZ") + vi(4, 1) + vi(5, 1)
    for i in infos:
        m += ld(6, i)
    for k in keys:
        m += ld(7, k)
    for k in revised:
        m += ld(8, k)
    return HEADER + m + extra


def sign(bin_bytes):
    with tempfile.NamedTemporaryFile() as f:
        f.write(bin_bytes)
        f.flush()
        return subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY, f.name],
                              check=True, capture_output=True).stdout


def sig_list(bin_bytes, names=((b"fuzz", b"v1", OID),), batch=(1, 1)):
    der = sign(bin_bytes)
    out = b""
    for key_id, version, algorithm in names:
        info = ld(3, version) + ld(4, key_id) + (ld(5, algorithm) if algorithm else b"")
        out += ld(1, ld(1, info) + vi(2, batch[0]) + vi(3, batch[1]) + ld(4, der))
    return out


def zipped(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, method)
    return buf.getvalue()


def pair(bin_bytes, sig_bytes):
    return struct.pack("<H", len(bin_bytes)) + bin_bytes + sig_bytes


def tek(i):
    return bytes((i * 37 + j * 11) & 0xFF for j in range(16))


def main():
    os.makedirs(OUT, exist_ok=True)
    good_keys = [
        key(tek(1), trl=1, start=2689920, period=144, rt=4, dsos=1),
        key(tek(2), trl=8, start=2649980, period=1),
        key(tek(3), trl=5, start=2689776, rt=2, dsos=-14),  # period absent: 144
    ]
    good = export(good_keys)
    good_sig = sig_list(good)
    odd = export(
        good_keys + [
            key(tek(4)[:15], trl=1, start=2690000),            # 15-byte key_data
            key(None, trl=1, start=2690000),                    # no key_data
            key(tek(5), trl=1, start=2690000, period=0),
            key(tek(6), trl=1, start=2690000, period=145),
            key(tek(7), trl=1),                                 # no rolling start
            key(tek(8), trl=9, start=2690000),
            key(tek(9), trl=1, start=2690000, rt=9),
            key(tek(10), trl=1, start=2690000, dsos=15),
            key(tek(11), trl=1, start=0x7FFFFFF0),              # start + 144 overflows
            key(tek(12), trl=1, start=2690000, extra=vi(8, 2) + ld(16, b"abc")
                + tag(19, 3) + vi(1, 1) + tag(19, 4) + tag(17, 5) + b"\x01\x02\x03\x04"),
        ],
        revised=[key(tek(1), trl=1, start=2689920, rt=5), key(tek(2), trl=8, start=2649980, rt=1)],
        infos=[sig_info(extra=ld(1, b"app.bundle.id") + ld(2, b"android.package"))],
        extra=ld(99, b"unknown top-level field"))
    two_infos = export(good_keys, infos=[sig_info(), sig_info(key_id=b"other", version=b"v2")])
    seeds = {
        "signed.zip": zipped([("export.bin", good), ("export.sig", good_sig)]),
        "signed-stored.zip": zipped([("export.bin", good), ("export.sig", good_sig)], zipfile.ZIP_STORED),
        "unsigned.zip": zipped([("export.bin", good)]),
        "odd-fields.bin": odd,
        "signed.pair": pair(good, good_sig),
        "odd-fields.pair": pair(odd, sig_list(odd)),
        "two-signatures.pair": pair(two_infos, sig_list(two_infos, ((b"fuzz", b"v1", OID),
                                                                     (b"other", b"v2", None)))),
        "sha512-oid.pair": pair(good, sig_list(good, ((b"fuzz", b"v1", b"1.2.840.10045.4.3.4"),))),
        "batch-mismatch.pair": pair(good, sig_list(good, batch=(1, 2))),
        "truncated.bin": good[:len(good) - 7],
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
