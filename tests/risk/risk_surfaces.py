#!/usr/bin/env python3
"""ctest risk.five_surfaces: one result, one word (docs/risk.md, "One vocabulary").

    risk_surfaces.py --sotto EXE --sottod EXE --c EXE --libsotto SO --python-dir DIR --work DIR

Each scenario is one encrypted store (made by `sotto ingest` from a capture of one person's
beacons, heard yesterday for a number of minutes) and one key file signed by a test authority
(`sotto export build`). A copy of the store, taken before any check, goes to each of the five
surfaces, all real programs in child processes:

  1. `sotto match` text    ("risk (Corona-Warn-App): WORD (...)")
  2. `sotto match --json`  (risk.risk_level)
  3. sottod                (simulated radio with no peers, the file in --keys-dir; its status as
                            `sotto status --json` exposure.risk, and the text `sotto status`)
  4. the C ABI             (tests/risk/risk_c.c: sotto_check_summary.total_risk_level)
  5. Python                (sotto.Tracer(...).check().risk)

Every surface must say the scenario's word, and they must agree on the number of exposure
windows. The scenarios give each word: none (no key matches), none with an exposure window (a
day below CWA's day mapping: the case where surfaces used to disagree), low and high.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

TEK = "75c734c6dd1a782de7a965da5eb93125"
OTHER_TEK = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# (name, minutes heard at -55 dBm (attenuation 63 dB: weight 1.0), TEK in the key file, word).
# With CWA 1.15's defaults (docs/risk.md), TRL 6 and DSOS 1 (infectiousness STANDARD): 2 minutes
# stay below the day mapping (a window, no risk), 4 minutes are LOW, 10 minutes HIGH.
SCENARIOS = [
    ("no match", 10, OTHER_TEK, "none"),
    ("below the day mapping", 2, TEK, "none"),
    ("low", 4, TEK, "low"),
    ("high", 10, TEK, "high"),
]
SYSPATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)
    if p.returncode != 0:
        sys.exit("FAILED (exit %d): %s\n%s%s" % (p.returncode, " ".join(map(str, argv)),
                                                 p.stdout, p.stderr))
    return p.stdout


def make_scenario(a, d, minutes, tek_in_file):
    """d/store.db (+ .kdf), d/store.key, d/export.zip, d/authority.pem; no check run yet."""
    d.mkdir(parents=True)
    old = os.umask(0o077)
    try:
        run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
             str(d / "private.pem")])
        (d / "store.key").write_text(os.urandom(32).hex())
    finally:
        os.umask(old)
    run(["openssl", "ec", "-in", str(d / "private.pem"), "-pubout", "-out",
         str(d / "authority.pem")])
    # Yesterday (UTC): the key's whole rolling period is over, as in a published file.
    start = (int(time.time()) // 600) // 144 * 144 - 144
    first = start + 60  # 10:00 UTC
    lines = run([a.sotto, "derive", "--tek", TEK, "--interval", str(first), "--count", "2"])
    rpis = {int(e): r + m for e, r, m in (l.split() for l in lines.splitlines())}
    rows = []
    for i in range(minutes):  # one scan a minute, as GAEN's scanner at most
        t = first * 600 + i * 60
        rows.append("%d,-55,%s" % (t, rpis[t // 600]))
    (d / "capture.csv").write_text("\n".join(rows) + "\n")
    run([a.sotto, "ingest", "--store", str(d / "store.db"), "--key-file", str(d / "store.key"),
         str(d / "capture.csv")])
    # Report type 1 (confirmed test), days since onset 1: CWA's infectiousness STANDARD.
    (d / "keys.csv").write_text("%s,%d,144,6,1,1\n" % (tek_in_file, start))
    run([a.sotto, "export", "build", "--keys", str(d / "keys.csv"), "--signing-key",
         str(d / "private.pem"), "--key-id", "262", "--key-version", "v1", "--region", "DE",
         "-o", str(d / "export.zip")])


def store_copy(d, name):
    """A copy of the unchecked store for one surface (a check records the file as processed)."""
    c = d / name
    c.mkdir()
    for f in ("store.db", "store.db.kdf"):
        if (d / f).exists():
            shutil.copy2(d / f, c / f)
    shutil.copy2(d / "store.key", c / "store.key")
    os.chmod(c / "store.key", 0o600)
    return c


def cli_text(a, d):
    c = store_copy(d, "cli-text")
    out = run([a.sotto, "match", "--store", str(c / "store.db"), "--key-file",
               str(c / "store.key"), "--pubkey", str(d / "authority.pem"), str(d / "export.zip")])
    m = re.search(r"^risk \(Corona-Warn-App\): (\S+) \((\d+) exposure windows\)$", out, re.M)
    assert m, "sotto match printed no risk line:\n" + out
    return m.group(1), int(m.group(2))


def cli_json(a, d):
    c = store_copy(d, "cli-json")
    out = run([a.sotto, "match", "--json", "--store", str(c / "store.db"), "--key-file",
               str(c / "store.key"), "--pubkey", str(d / "authority.pem"), str(d / "export.zip")])
    j = json.loads(out)
    return j["risk"]["risk_level"], len(j["exposure_windows"])


def sottod(a, d):
    c = store_copy(d, "sottod")
    (c / "keys").mkdir()
    shutil.copy2(d / "export.zip", c / "keys" / "export.zip")
    sock = c / "status.sock"
    log = open(c / "sottod.log", "w")
    p = subprocess.Popen([a.sottod, "--radio", "simulated", "--sim-peers", "0", "--store",
                          str(c / "store.db"), "--key-file", str(c / "store.key"), "--keys-dir",
                          str(c / "keys"), "--pubkey", str(d / "authority.pem"),
                          "--status-socket", str(sock), "--check-every", "24h"],
                         stdout=log, stderr=subprocess.STDOUT, env={"PATH": SYSPATH})
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            if p.poll() is not None:
                break
            q = subprocess.run([a.sotto, "status", "--json", "--socket", str(sock)],
                               capture_output=True, text=True, timeout=10)
            if q.returncode == 0:
                s = json.loads(q.stdout)
                if s["keys"]["checks"] >= 1:
                    status = s
                    break
            time.sleep(0.1)
        if status is None:
            p.kill()
            p.wait()
            log.close()
            sys.exit("FAILED: sottod ran no check within 30 s:\n" +
                     (c / "sottod.log").read_text())
        text = run([a.sotto, "status", "--socket", str(sock)])
        m = re.search(r"^exposure: risk (\S+), (\d+) exposure windows$", text, re.M)
        assert m, "sotto status printed no exposure line:\n" + text
        assert m.group(1) == status["exposure"]["risk"], (text, status)
        return status["exposure"]["risk"], status["exposure"]["windows"]
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def c_abi(a, d):
    c = store_copy(d, "c")
    out = run([a.c, str(c / "store.db"), str(c / "store.key"), str(d / "authority.pem"),
               str(d / "export.zip")])
    m = re.fullmatch(r"risk=(\S+) level=(\d) windows=(\d+) valid_matches=\d+\n", out)
    assert m, "sotto_risk_c: " + out
    return m.group(1), int(m.group(3))


PYTHON_SURFACE = """
import sys, sotto
store, key_file, pem, zip_path = sys.argv[1:5]
trust = sotto.TrustStore()
trust.add_pem(open(pem).read())
with sotto.Tracer(store, key=bytes.fromhex(open(key_file).read().strip()), trust=trust) as t:
    r = t.import_key_file(path=zip_path)
    assert r.verified, r
    c = t.check()
    assert c.risk == sotto.tracer.RISK_NAMES[c.total_risk_level]
    print(c.risk, len(c.windows))
"""


def python(a, d):
    c = store_copy(d, "python")
    env = {"PATH": SYSPATH, "SOTTO_LIBRARY": a.libsotto, "PYTHONPATH": a.python_dir,
           "PYTHONDONTWRITEBYTECODE": "1"}
    out = run(["/usr/bin/python3", "-c", PYTHON_SURFACE, str(c / "store.db"),
               str(c / "store.key"), str(d / "authority.pem"), str(d / "export.zip")], env=env)
    word, windows = out.split()
    return word, int(windows)


SURFACES = [("sotto match (text)", cli_text), ("sotto match --json", cli_json),
            ("sottod status", sottod), ("C ABI", c_abi), ("Python", python)]


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--sotto", "--sottod", "--c", "--libsotto", "--python-dir", "--work"):
        ap.add_argument(opt, required=True)
    a = ap.parse_args()
    work = pathlib.Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    failures = []
    for i, (name, minutes, tek, expected) in enumerate(SCENARIOS):
        d = work / ("scenario-%d" % i)
        make_scenario(a, d, minutes, tek)
        said = {surface: fn(a, d) for surface, fn in SURFACES}
        print("%-22s expected %-5s %s" % (name, expected, ", ".join(
            "%s: %s (%d windows)" % (s, w, n) for s, (w, n) in said.items())))
        words = {w for w, _ in said.values()}
        windows = {n for _, n in said.values()}
        if words != {expected}:
            failures.append("%s: the surfaces say %s, expected %s everywhere" % (
                name, {s: w for s, (w, _) in said.items()}, expected))
        if len(windows) != 1:
            failures.append("%s: the surfaces count different exposure windows: %s" % (
                name, {s: n for s, (_, n) in said.items()}))
        if tek == TEK and windows == {0}:
            failures.append("%s: no exposure window: the scenario does not test a risk" % name)
    if failures:
        sys.exit("FAILED:\n" + "\n".join(failures))
    print("one word for one result on all five surfaces")


if __name__ == "__main__":
    main()
