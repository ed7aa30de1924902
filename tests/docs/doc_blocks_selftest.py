"""The selftest of doc_blocks.py (ctest docs.blocks_catches_violations): `check` on a small fake
source tree refuses each kind of violation with its reason, and passes a good file."""
import argparse
import re
import shutil

GOOD = """# A good file
```sh
echo ok > ok.txt
```
```sh
grep -q ok ok.txt     # the blocks of a file run in order, in one directory
sotto derive --tek 75c734c6dd1a782de7a965da5eb93125 --interval 2642976 --count 1
```
```sh ci
bash scripts/test.sh   # a comment
```
```sh synopsis
sotto match --store S --key-file F --pubkey P [--json] export.zip...
sotto store verify --store S (--key-file F | --passphrase-file F)
SOTTOD_SYNOPSIS
```
```sh synopsis
sotto derive --tek T --interval N
sotto ingest --store S --key-file F capture.csv
sotto store stats --store S --key-file F
sotto store rekey --store S --key-file F --new-key-file G
sotto store erase --store S --yes
sotto export inspect export.zip
sotto export build --keys K --signing-key P --key-id 1 --key-version v1 --region DE -o x.zip
sotto fetch --source DIR --state-dir D --pubkey P
sotto keys list --store S --key-file F
sotto keys publish --store S --key-file F
sotto keys upload --store S --key-file F
sotto token pairing-key -o p.key
sotto token import --store S --key-file F --pairing-key p.key x.bin
sotto status
sotto demo
```
```sh build
cmake -S . -B build-x -G Ninja -DSOTTO_THING=ON -DCMAKE_BUILD_TYPE=Release
cmake --build build-x --target thing
```
```sh hardware
sudo btmon
```
```sh test=readme.owner
ls
```
```text
a diagram
```
```cpp file=examples/readme/main.cpp
int main() {   return 0; }   // whitespace and comments aside
```
```cpp
int main() { return 2; }
```
"""
BAD = {
    "a block with no info string": "```\nls\n```\n",
    "the block failed": "```sh\ntrue\nfalse\necho never\n```\n",
    "README.md:3: the block failed": "```sh\nsotto derive --tek 00 --interval 1\n```\n",
    "is not a line of .ci/run": "```sh ci\nbash scripts/other.sh\n```\n",
    "--no-such-option is not an option of `sotto match`":
        "```sh synopsis\nsotto match --store S --no-such-option\n```\n",
    "the sottod synopsis leaves out --adapter": "```sh synopsis\nsottod --radio simulated\n```\n",
    "`frobnicate` is not a command of sotto": "```sh synopsis\nsotto frobnicate --x\n```\n",
    "but `sotto token import` is missing": "```sh synopsis\nsotto token pairing-key -o k\n```\n",
    "unknown marking `sh someday`": "```sh someday\nls\n```\n",
    "-DSOTTO_NOPE: no such option": "```sh build\ncmake -S . -B b -DSOTTO_NOPE=ON\n```\n",
    "no ctest no.such.test": "```sh test=no.such.test\nls\n```\n",
    "the ctest other.owner does not run this file's blocks":
        "```sh test=other.owner\nls\n```\n",
    "the ctest sub.owner does not run this file's blocks": "```sh test=sub.owner\nls\n```\n",
    "scripts/package-test.sh does not run": "```sh package-test\nls\n```\n",
    "the block is not closed": "```sh\nls\n",
    "markings are for shell blocks": "```cpp hardware\nint x;\n```\n",
    "unknown language `rust`": "```rust\nfn main() {}\n```\n",
    "docs/gone.md does not exist": "```sh build\ncmake -P docs/gone.md\n```\n",
    "the block differs from examples/readme/main.cpp":
        "```cpp file=examples/readme/main.cpp\nint main() { return 1; }\n```\n",
    "file=examples/nothing.cpp: no such file": "```cpp file=examples/nothing.cpp\nint x;\n```\n",
}


def selftest(ctx, db):
    failures = []

    def fake_tree(readme):
        root = ctx.work / "selftest-src"
        shutil.rmtree(root, ignore_errors=True)
        (root / ".ci").mkdir(parents=True)
        (root / "scripts").mkdir()
        (root / ".ci" / "run").write_text("#!/bin/sh\nbash scripts/test.sh\n# bash scripts/other.sh\n")
        # Runs another file's package-test blocks, whose name ends in README.md.
        (root / "scripts" / "package-test.sh").write_text(
            '#!/bin/sh\npython3 "$ROOT/tests/docs/doc_blocks.py" extract --mark package-test '
            "bindings/x/README.md >x.sh\n")
        (root / "CMakeLists.txt").write_text(
            'option(SOTTO_THING "x" ON)\nadd_custom_target(thing)\n'
            # A test that owns README.md's `test=readme.owner` blocks; two that run others'.
            "add_test(NAME readme.owner COMMAND python3 doc_blocks.py run --mark test=readme.owner"
            " README.md)\n"
            "add_test(NAME other.owner COMMAND python3 doc_blocks.py run --mark test=other.owner"
            " docs/other.md)\n"
            "add_test(NAME sub.owner COMMAND python3 doc_blocks.py run --mark test=sub.owner"
            " bindings/x/README.md)\n")
        (root / "examples" / "readme").mkdir(parents=True)
        (root / "examples" / "readme" / "main.cpp").write_text("// x\nint main() { return 0; }\n")
        (root / "README.md").write_text(readme)
        return root

    # The good file's sottod synopsis names every option its --help lists.
    _, text = db.help_text(ctx, [ctx.sottod])
    options = sorted(set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", text)) - {"--help"})
    good = GOOD.replace("SOTTOD_SYNOPSIS", "sottod " + " \\\n  ".join(options))
    for expect, text in [(None, good)] + [(k, "# Bad\n\n" + v) for k, v in BAD.items()]:
        sub = argparse.Namespace(**vars(ctx))
        sub.src = fake_tree(text)
        sub.work = ctx.work / "selftest-work"
        errors = db.check(sub, [sub.src / "README.md"])
        if expect is None:
            if errors:
                failures.append("the good file was refused:\n" + "\n".join(errors))
        elif not any(expect in e for e in errors):
            failures.append("not refused with `%s`:\n%s\ngot: %s" % (expect, text, errors))
        else:
            print("refused as expected: %s" % expect)
    return failures


