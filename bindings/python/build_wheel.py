#!/usr/bin/env python3
"""Builds the sotto wheel from this directory without touching it.

    python3 bindings/python/build_wheel.py --out DIR [--library PATH/libsotto.so.1]

The sources are copied to a scratch directory (so no build/ or *.egg-info is left here) and
built there with this Python's setuptools and wheel (Debian: python3-setuptools, python3-wheel),
offline: pip wheel --no-build-isolation --no-index. With --library the wheel carries that
libsotto as sotto/libsotto.so.1 and is tagged for this platform; `import sotto` then needs no
variable. Without it the wheel is pure and uses an installed libsotto (Debian: libsotto1).
Prints the path of the wheel.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory the wheel is written to")
    parser.add_argument("--library", help="libsotto.so.1 to carry in the wheel")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sotto-wheel-") as scratch:
        src = os.path.join(scratch, "src")
        shutil.copytree(HERE, src, ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", "build", "dist", "*.egg-info", "tests", "libsotto.so*",
            ".pytest_cache"))
        if args.library:
            # The real file, not the symlink chain: the wheel holds one regular file.
            carried = os.path.join(src, "sotto", "libsotto.so.1")
            shutil.copyfile(os.path.realpath(args.library), carried)
            strip = shutil.which("strip")
            if strip:  # debug information stays with the build, not in the wheel
                subprocess.run([strip, "--strip-debug", carried], check=True)
        before = set(os.listdir(out))
        env = dict(os.environ, PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        env.pop("SOTTO_LIBRARY", None)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation",
                        "--no-deps", "--no-index", "--wheel-dir", out, src],
                       check=True, env=env, cwd=scratch)
        made = sorted(set(os.listdir(out)) - before) or sorted(
            f for f in os.listdir(out) if f.startswith("sotto-") and f.endswith(".whl"))
        for name in made:
            print(os.path.join(out, name))


if __name__ == "__main__":
    main()
