#!/usr/bin/env python3
"""ctest packaging.python_wheel: bindings/python/README.md's install block, run as written.

    python_wheel.py SOURCE_DIR BUILD_DIR WORK_DIR GAEN_DATA_DIR

The block runs under bash in a scratch directory where `build` is the build tree, with HOME a
scratch home (so `~/sotto-venv` is fresh), the system PATH and none of SOTTO_LIBRARY,
LD_LIBRARY_PATH or PYTHONPATH. Then the README's Python example runs with the venv's python,
and must have used the libsotto the wheel carries. Also checked: the source tree holds no build/,
dist/ or *.egg-info afterwards, and without the carried library the import fails (or finds an
installed libsotto1), so the success came from the wheel.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

src, build, work, gaen = (pathlib.Path(a).resolve() for a in sys.argv[1:5])
readme = (src / "bindings/python/README.md").read_text()
install = re.findall(r"```sh test=packaging.python_wheel\n(.*?)```", readme, re.S)
assert len(install) == 1, "README: expected one ```sh test=packaging.python_wheel block"
example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)

shutil.rmtree(work, ignore_errors=True)
(work / "home").mkdir(parents=True)
(work / "cwd").mkdir()
(work / "cwd" / "build").symlink_to(build)
env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(work / "home"), "LANG": "C.UTF-8"}


def run(cmd, **kw):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, **kw)
    if p.returncode != 0:
        sys.exit("FAILED (%d): %s\n%s%s" % (p.returncode, cmd, p.stdout, p.stderr))
    return p.stdout


out = run(["bash", "-euo", "pipefail", "-c", install[0]], cwd=work / "cwd")
assert re.search(r"^\d+\.\d+\.\d+$", out.strip().splitlines()[-1]), out
venv_python = work / "home" / "sotto-venv" / "bin" / "python"
carried = run([str(venv_python), "-c", "import sotto, os; print(sotto._lib.lib._name)"],
              cwd=work).strip()
assert carried.startswith(str(work / "home" / "sotto-venv")) and carried.endswith(
    "sotto/libsotto.so.1"), "the wheel's own libsotto was not used: " + carried
print("import sotto used", carried)

if (gaen / "cwa-real-2021-03-04").exists():
    code = example.replace('"/tmp/phone.db"', repr(str(work / "phone.db")))
    out = run([str(venv_python), "-c", code], cwd=gaen)
    assert "ImportResult(read=True, verified=True, matched=True" in out, out
    print("README example ran in the venv")
else:
    print("GAEN data not found: the README example was not run")

left = [str(p) for p in (src / "bindings" / "python").rglob("*")
        if p.is_dir() and (p.name in ("build", "dist") or p.name.endswith(".egg-info"))]
assert not left, "the wheel build left files in the source tree: %s" % left

os.remove(carried)
p = subprocess.run([str(venv_python), "-c", "import sotto; print(sotto._lib.lib._name)"],
                   env=env, capture_output=True, text=True, cwd=work)
assert (p.returncode != 0 and "libsotto not found" in p.stderr) or \
    (p.returncode == 0 and p.stdout.strip() == "libsotto.so.1"), (p.returncode, p.stdout, p.stderr)
print("without the carried library:", "import fails" if p.returncode else "the system libsotto1")
