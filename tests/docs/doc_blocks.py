#!/usr/bin/env python3
"""Every command block in README.md, docs/*.md, bindings/*/README.md and examples/*/README.md
is run by a test or marked with why it cannot run here (the markings: docs/building.md,
"Command blocks in the docs").

    doc_blocks.py check    --src SRC --build BUILD --work DIR --sotto EXE --sottod EXE --cmake EXE
    doc_blocks.py run      --src SRC --build BUILD --work DIR --sotto EXE --sottod EXE
                           --mark MARK FILE...
    doc_blocks.py extract  --mark MARK FILE...
    doc_blocks.py selftest --src SRC --build BUILD --work DIR --sotto EXE --sottod EXE --cmake EXE

check (ctest docs.blocks): every fenced block has an info string; shell blocks carry a known
marking; plain `sh` blocks run, file by file in order, under `bash -euo pipefail` in a scratch
directory (`build` there is the build tree, the source tree's top-level entries are linked in,
PATH starts with the built sotto and sottod, HOME is a scratch home) after the file's fixture
(FIXTURES below) put there what the text says the reader has; `bench` blocks run the same way with
their large counts cut to 1000; `ci` lines must be lines of .ci/run; `package-test` files must be
run by scripts/package-test.sh; `test=NAME` blocks must belong to a registered ctest that runs
them; `synopsis` commands must name only commands and options their `--help` lists; `build` and
`sdk` blocks may use only CMake options, targets and repository paths that exist.
run: runs the blocks with that marking as check runs plain ones (for the test that owns them).
extract: prints the blocks with that marking as one shell script (scripts/package-test.sh).
selftest (ctest docs.blocks_catches_violations): check fails on each kind of violation, with the
reason, and passes on a good file.
"""
import argparse
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import textwrap

SHELL_LANGS = {"sh", "bash", "shell", "console"}
CODE_LANGS = {"c", "cpp", "python", "java", "kotlin", "swift", "cmake", "sql", "xml", "json",
              "ini", "text"}
# Markings of shell blocks (the info string's second word). docs/building.md explains them.
MARKS = {
    "": "run by docs.blocks",
    "bench": "a benchmark: run by docs.blocks with its counts cut to 1000",
    "ci": "run as written by .ci/run",
    "package-test": "run as root by scripts/package-test.sh with the packages installed",
    "synopsis": "a usage summary: commands and options checked against --help",
    "build": "a build from source (minutes): options, targets and paths checked",
    "sdk": "needs a toolchain Debian 12 does not ship (Android NDK, Xcode, Gradle)",
    "hardware": "needs a Bluetooth controller or a Raspberry Pi",
    "booted": "changes a booted systemd system (systemctl, journalctl)",
}
SYSPATH = "/usr/sbin:/usr/bin:/sbin:/bin"
BLOCK_TIMEOUT = 180


class Block:
    def __init__(self, path, rel, line, lang, mark, body):
        self.path, self.rel, self.line, self.lang, self.mark, self.body = (
            path, rel, line, lang, mark, body)

    def where(self):
        return "%s:%d" % (self.rel, self.line)


def doc_files(src):
    files = [src / "README.md"]
    files += sorted((src / "docs").glob("*.md"))
    files += sorted(src.glob("bindings/*/README.md"))
    files += sorted(src.glob("examples/*/README.md"))
    return [f for f in files if f.is_file()]


def parse(path, rel, errors):
    """The fenced blocks of one Markdown file (indented fences inside list items included)."""
    lines = path.read_text().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^( *)(`{3,}|~{3,})(.*)$", lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3).strip()
        close = re.compile(r"^ *" + re.escape(fence[0]) + "{%d,} *$" % len(fence))
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            errors.append("%s:%d: the block is not closed" % (rel, i + 1))
            return blocks
        body = "\n".join(l[indent:] if l[:indent].strip() == "" else l for l in lines[i + 1:j])
        lang, _, mark = info.partition(" ")
        blocks.append(Block(path, rel, i + 1, lang, mark.strip(), body + "\n"))
        i = j + 1
    return blocks


def classify(blocks, errors):
    """Checks every info string; returns the shell blocks."""
    shell = []
    for b in blocks:
        if b.lang == "":
            errors.append("%s: a block with no info string: give its language, `text` if it is "
                          "not a command, or `sh MARKING` (docs/building.md)" % b.where())
        elif b.lang in SHELL_LANGS:
            if b.mark in MARKS or re.fullmatch(r"test=[\w.-]+", b.mark):
                shell.append(b)
            else:
                errors.append("%s: unknown marking `%s %s` (known: %s, test=CTEST)" % (
                    b.where(), b.lang, b.mark, ", ".join(sorted(m for m in MARKS if m))))
        elif b.lang in CODE_LANGS:
            if b.mark and not re.fullmatch(r"file=[\w./-]+", b.mark):
                errors.append("%s: `%s %s`: code blocks take only file=PATH (markings are for "
                              "shell blocks)" % (b.where(), b.lang, b.mark))
        else:
            errors.append("%s: unknown language `%s` (known: %s)" % (
                b.where(), b.lang, ", ".join(sorted(SHELL_LANGS | CODE_LANGS))))
    return shell


def strip_comment(line):
    return re.sub(r"(^|\s+)#.*$", "", line).rstrip()


def command_lines(body):
    return [l.strip() for l in (strip_comment(x) for x in body.splitlines()) if l.strip()]


# --- fixtures: what a file's text says the reader already has ------------------------------------

def _keys_and_capture(ctx, cwd):
    """keys.csv: one TEK of yesterday (UTC); capture.csv: 30 beacons of it heard for 30 minutes."""
    import time
    tek = "75c734c6dd1a782de7a965da5eb93125"
    start = (int(time.time()) // 600) // 144 * 144 - 144
    (cwd / "keys.csv").write_text(
        "tek_hex,rolling_start,rolling_period,transmission_risk_level\n%s,%d,144,6\n" % (tek, start))
    out = subprocess.run([ctx.sotto, "derive", "--tek", tek, "--interval", str(start + 60),
                          "--count", "3"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        enin, rpi, aem = line.split()
        rows += ["%d,-55,%s%s" % (int(enin) * 600 + s, rpi, aem) for s in range(0, 600, 60)]
    (cwd / "capture.csv").write_text("\n".join(rows) + "\n")


def _authority(ctx, cwd):
    """private.pem (0600) and authority.pem: a test health authority's key pair."""
    old = os.umask(0o077)
    try:
        subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                        "-out", str(cwd / "private.pem")], check=True, capture_output=True)
    finally:
        os.umask(old)
    subprocess.run(["openssl", "ec", "-in", str(cwd / "private.pem"), "-pubout", "-out",
                    str(cwd / "authority.pem")], check=True, capture_output=True)


def _installed_prefix(ctx, cwd, env):
    """app.c (tests/packaging/c/consumer.c) and pkg-config pointed at an install of the build."""
    shutil.copy(ctx.src / "tests" / "packaging" / "c" / "consumer.c", cwd / "app.c")
    prefix = ctx.work / "prefix"
    shutil.rmtree(prefix, ignore_errors=True)
    subprocess.run([ctx.cmake, "--install", str(ctx.build), "--prefix", str(prefix)],
                   check=True, capture_output=True)
    pcs = list(prefix.rglob("sotto.pc"))
    assert len(pcs) == 1, pcs
    env["PKG_CONFIG_PATH"] = env["PKG_CONFIG_LIBDIR"] = str(pcs[0].parent)


def _java(ctx, cwd, env):
    """The Java binding is built only when CMake found a JDK (docs/building.md)."""
    if not (ctx.build / "bindings" / "java" / "sotto-java-bench.jar").is_file():
        return "the Java binding is not built here (no JDK 17)"
    return None


# Each returns None, or why the file's blocks cannot run in this build (a failure with CI=true).
FIXTURES = {
    "README.md": lambda ctx, cwd, env: _keys_and_capture(ctx, cwd),
    "docs/keyfile.md": lambda ctx, cwd, env: _keys_and_capture(ctx, cwd) or _authority(ctx, cwd),
    "docs/building.md": _installed_prefix,
    "bindings/java/README.md": _java,
}
PASSED_ENV = ("CI", "SOTTO_GAEN_DATA_DIR", "SOTTO_TEST_CORPUS")


def scratch(ctx, rel):
    """A fresh working directory for one file's blocks, and the environment they run in."""
    work = ctx.work / re.sub(r"[^\w.-]", "_", rel)
    shutil.rmtree(work, ignore_errors=True)
    cwd, home, tmp = work / "cwd", work / "home", work / "tmp"
    for d in (cwd, home, tmp):
        d.mkdir(parents=True)
    for entry in ctx.src.iterdir():
        if not entry.name.startswith((".", "build")):
            (cwd / entry.name).symlink_to(entry)
    (cwd / "build").symlink_to(ctx.build)
    bins = [str(pathlib.Path(p).parent) for p in (ctx.sotto, ctx.sottod) if p]
    env = {"PATH": ":".join(bins + [SYSPATH]), "HOME": str(home), "TMPDIR": str(tmp),
           "LANG": "C.UTF-8", "USER": os.environ.get("USER", "sotto"),
           "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_ADDOPTS": "-p no:cacheprovider"}
    env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
    return cwd, env


def run_blocks(ctx, blocks, errors):
    """Runs the blocks of each file in order in that file's scratch directory."""
    by_file = {}
    for b in blocks:
        by_file.setdefault(b.rel, []).append(b)
    for rel, bs in by_file.items():
        cwd, env = scratch(ctx, rel)
        try:
            skip = FIXTURES[rel](ctx, cwd, env) if rel in FIXTURES else None
        except (subprocess.CalledProcessError, OSError, AssertionError) as e:
            out = (getattr(e, "stdout", b"") or b"") + (getattr(e, "stderr", b"") or b"")
            errors.append("%s: its fixture failed: %s\n%s" % (
                rel, e, out.decode(errors="replace")[-2000:]))
            continue
        if skip:
            if os.environ.get("CI") == "true":
                errors.append("%s: cannot run its blocks: %s" % (rel, skip))
            else:
                print("--- %s: SKIPPED: %s" % (rel, skip))
            continue
        for b in bs:
            body = b.body
            if b.mark == "bench":
                body = re.sub(r"(?<![\w./-])\d{5,}(?![\w./-])", "1000", body)
            print("--- %s (%s)" % (b.where(), MARKS.get(b.mark, b.mark)), flush=True)
            # A session of its own: on a timeout the whole process group goes, not just bash.
            p = subprocess.Popen(["bash", "-euo", "pipefail", "-c", body], cwd=cwd, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 start_new_session=True)
            try:
                out, _ = p.communicate(timeout=BLOCK_TIMEOUT)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, _ = p.communicate()
                rc = "timeout after %d s" % BLOCK_TIMEOUT
            print(textwrap.indent(out.rstrip()[-3000:], "    ") if out.strip() else "", end="")
            print("" if not out.strip() else "\n", end="")
            if rc != 0:
                errors.append("%s: the block failed (%s):\n%s" % (
                    b.where(), rc, textwrap.indent(body.rstrip(), "    ")))
                break  # later blocks of the file build on this one


# --- the checks of marked blocks -------------------------------------------------------------

def check_ci(ctx, b, errors):
    ci = ctx.src / ".ci" / "run"
    lines = {l.strip() for l in ci.read_text().splitlines() if not l.strip().startswith("#")} \
        if ci.is_file() else set()
    for cmd in command_lines(b.body):
        if cmd not in lines:
            errors.append("%s: `%s` is marked ci but is not a line of .ci/run" % (b.where(), cmd))


def check_package_test(ctx, b, errors):
    script = ctx.src / "scripts" / "package-test.sh"
    text = script.read_text() if script.is_file() else ""
    runs = re.findall(r"doc_blocks\.py\"? extract --mark package-test ([^>\n]*)", text)
    rel = re.compile(r"(?<![\w./-])" + re.escape(b.rel) + r"(?![\w/-])")  # not x/README.md
    if not any(rel.search(r) for r in runs):
        errors.append("%s: marked package-test, but scripts/package-test.sh does not run this "
                      "file's package-test blocks (doc_blocks.py extract --mark package-test %s)"
                      % (b.where(), b.rel))


def cmake_files(src):
    return [p for p in src.rglob("*")
            if (p.name == "CMakeLists.txt" or p.suffix == ".cmake")
            and not any(part.startswith(("build", ".")) for part in p.relative_to(src).parts[:-1])]


def check_test_owner(ctx, b, errors):
    """`sh test=NAME`: the ctest NAME runs this file's blocks so marked: its add_test call names
    the marking and this file (doc_blocks.py run --mark test=NAME FILE), or runs a script that
    names both (a test that runs another file's blocks does not own these)."""
    name = b.mark[len("test="):]
    cm = "\n".join(p.read_text() for p in cmake_files(ctx.src))
    call = re.search(r"add_test\(\s*NAME\s+" + re.escape(name) + r"\s([^)]*)\)", cm)
    if not call:
        errors.append("%s: marked %s, but there is no ctest %s" % (b.where(), b.mark, name))
        return
    mark = re.compile(r"(?<![\w.=-])" + re.escape(b.mark) + r"(?![\w.-])")
    rel = re.compile(r"(?<![\w./-])" + re.escape(b.rel) + r"(?![\w/-])")
    texts = [call.group(1)]
    for script in re.findall(r"[\w.-]+\.(?:py|sh)\b", call.group(1)):
        texts += [p.read_text(errors="replace") for p in (ctx.src / "tests").rglob(script)
                  if p.is_file()]
    if not any(mark.search(t) and rel.search(t) for t in texts):
        errors.append("%s: marked %s, but the ctest %s does not run this file's blocks so marked "
                      "(neither its command nor a script it runs names both `%s` and %s)" % (
                          b.where(), b.mark, name, b.mark, b.rel))


def synopsis_commands(body):
    """Joins continuation lines: a trailing backslash, or a line that does not start a command."""
    cmds = []
    for raw in body.splitlines():
        line = strip_comment(raw)
        if not line.strip():
            continue
        if cmds and (cmds[-1].endswith("\\") or not re.match(r"^\S", line)):
            cmds[-1] = cmds[-1].rstrip("\\") + " " + line.strip()
        else:
            cmds.append(line.strip())
    return cmds


def help_text(ctx, argv):
    p = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30,
                       env={"PATH": SYSPATH, "LANG": "C.UTF-8"})
    return p.returncode, p.stdout + p.stderr


def check_synopsis(ctx, b, errors):
    for cmd in synopsis_commands(b.body):
        words = cmd.split()
        prog = {"sotto": ctx.sotto, "sottod": ctx.sottod}.get(words[0])
        if not prog:
            errors.append("%s: synopsis line `%s` is not a sotto or sottod command" % (
                b.where(), cmd))
            continue
        words_ = []
        for w in words[1:3]:
            if not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            words_.append(w)
        # The longest prefix that is a command: its --help succeeds and its usage names it.
        path = list(words_)
        while True:
            rc, text = help_text(ctx, [prog] + path)
            usage = re.search(r"^Usage: (.*)$", text, re.M)
            if rc == 0 and usage and usage.group(1).split()[1:1 + len(path)] == path:
                break
            if not path:
                errors.append("%s: `%s --help` failed" % (b.where(), words[0]))
                break
            path.pop()
        if len(path) < len(words_):
            errors.append("%s: `%s`: `%s` is not a command of %s" % (
                b.where(), cmd, words_[len(path)], " ".join([words[0]] + path)))
            continue
        named = re.findall(r"(?<![\w./=-])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])(?![\w-])", cmd)
        for opt in named:
            if not re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text):
                errors.append("%s: `%s`: %s is not an option of `%s`" % (
                    b.where(), cmd, opt, " ".join([words[0]] + path)))
        if words[0] == "sottod":  # the daemon's synopsis is its option reference (daemon.md)
            missing = sorted(set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", text))
                             - set(named) - {"--help"})
            if missing:
                errors.append("%s: the sottod synopsis leaves out %s" % (
                    b.where(), ", ".join(missing)))


def subcommands(ctx, path):
    """The subcommands `sotto PATH --help` lists (first names, aliases dropped)."""
    _, text = help_text(ctx, [ctx.sotto] + path)
    part = text.split("Subcommands:", 1)
    return re.findall(r"^  ([a-z][a-z-]*)[ ,]", part[1], re.M) if len(part) == 2 else []


def check_every_command(ctx, blocks, errors):
    """README.md's synopsis says it shows every command: each leaf of `sotto --help` is in it."""
    shown = set()
    for b in blocks:
        for cmd in synopsis_commands(b.body):
            words = cmd.split()
            shown.add(" ".join(w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]*", w)))
    where = blocks[0].where() if blocks else "README.md"
    for top in subcommands(ctx, []):
        subs = subcommands(ctx, [top])
        for leaf in ([top + " " + x for x in subs] if subs else [top]):
            if not any(s == leaf or s.startswith(leaf + " ") for s in shown):
                errors.append("%s: the synopsis says it shows every command, but `sotto %s` is "
                              "missing" % (where, leaf))


def check_build(ctx, b, errors):
    cm = "\n".join(p.read_text() for p in cmake_files(ctx.src))
    body = "\n".join(strip_comment(l) for l in b.body.splitlines())
    for name, value in re.findall(r"-D([A-Za-z_][A-Za-z0-9_]*)=(\S*)", body):
        if name.startswith("SOTTO_"):
            # An option or cache variable, or one a toolchain file reads.
            if not re.search(r"(option|cmake_dependent_option)\(\s*" + name + r"\s|set\(\s*" + name
                             + r"\s[^)]*CACHE|\$\{" + name + r"\}", cm):
                errors.append("%s: -D%s: no such option in the CMake files" % (b.where(), name))
        elif not name.startswith(("CMAKE_", "ANDROID_")):
            errors.append("%s: -D%s: neither a sotto, CMake nor Android NDK variable" % (
                b.where(), name))
        if name == "CMAKE_TOOLCHAIN_FILE" and "$" not in value and not (ctx.src / value).is_file():
            errors.append("%s: the toolchain file %s does not exist" % (b.where(), value))
    for target in re.findall(r"--target\s+(\S+)", body):
        if not re.search(r"(?<![\w-])" + re.escape(target) + r"(?![\w-])", cm):
            errors.append("%s: --target %s: no such target in the CMake files" % (
                b.where(), target))
    for tok in body.split():
        tok = tok.strip("\"'")
        if "=" in tok:
            tok = tok.split("=", 1)[1]
        if not re.fullmatch(r"[a-z][\w.-]*/[\w./-]*", tok):  # repository paths; no $VAR, no /abs
            continue
        if not tok.startswith(("build", "sysroot")) and not (ctx.src / tok).exists():
            errors.append("%s: %s does not exist in the repository" % (b.where(), tok))


def normalized(text, lang):
    """Code without comments and whitespace, to compare a quoted file with the file."""
    if lang == "xml":
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    elif lang in ("c", "cpp", "java", "kotlin", "swift"):
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r"//[^\n]*", "", text)
    elif lang in ("python", "cmake", "ini"):
        text = re.sub(r"(?m)#[^\n]*", "", text)
    return re.sub(r"\s+", "", text)


def check_quoted_file(ctx, b, errors):
    """`LANG file=PATH`: the block shows that repository file (comments and layout aside)."""
    path = ctx.src / b.mark[len("file="):]
    if not path.is_file():
        errors.append("%s: %s: no such file" % (b.where(), b.mark))
    elif normalized(b.body, b.lang) != normalized(path.read_text(), b.lang):
        errors.append("%s: the block differs from %s" % (b.where(), b.mark[len("file="):]))


def check(ctx, files):
    errors, shell, blocks = [], [], []
    for f in files:
        rel = str(f.relative_to(ctx.src))
        blocks += parse(f, rel, errors)
    shell = classify(blocks, errors)
    for b in blocks:
        if b.lang in CODE_LANGS and b.mark.startswith("file="):
            check_quoted_file(ctx, b, errors)
    counts = {}
    for b in shell:
        counts[b.mark] = counts.get(b.mark, 0) + 1
        if b.mark == "ci":
            check_ci(ctx, b, errors)
        elif b.mark == "package-test":
            check_package_test(ctx, b, errors)
        elif b.mark.startswith("test="):
            check_test_owner(ctx, b, errors)
        elif b.mark == "synopsis":
            check_synopsis(ctx, b, errors)
        elif b.mark in ("build", "sdk"):
            check_build(ctx, b, errors)
    readme = [b for b in shell if b.rel == "README.md" and b.mark == "synopsis"]
    if readme and ctx.sotto:
        check_every_command(ctx, readme, errors)
    run_blocks(ctx, [b for b in shell if b.mark in ("", "bench")], errors)
    print("shell blocks by marking: " + ", ".join(
        "%s %d" % (m or "sh (run)", n) for m, n in sorted(counts.items())))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("action", choices=["check", "run", "extract", "selftest"])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--src", type=pathlib.Path)
    ap.add_argument("--build", type=pathlib.Path)
    ap.add_argument("--work", type=pathlib.Path)
    ap.add_argument("--sotto")
    ap.add_argument("--sottod")
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--mark")
    ctx = ap.parse_intermixed_args()
    for k in ("src", "build", "work"):
        if getattr(ctx, k):
            setattr(ctx, k, getattr(ctx, k).resolve())

    if ctx.action == "extract":
        for f in ctx.files:
            errors = []
            for b in parse(pathlib.Path(f), f, errors):
                if b.lang in SHELL_LANGS and b.mark == ctx.mark:
                    print("echo '--- %s'\n%s" % (b.where(), b.body), end="")
            if errors:
                sys.exit("\n".join(errors))
        return
    if ctx.action == "selftest":
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        from doc_blocks_selftest import selftest  # beside this file
        failures = selftest(ctx, sys.modules[__name__])
        if failures:
            sys.exit("FAILED:\n" + "\n\n".join(failures))
        print("selftest: every violation was refused, the good file passed")
        return
    if ctx.action == "run":
        errors, blocks = [], []
        for f in ctx.files:
            blocks += [b for b in parse(ctx.src / f, f, errors)
                       if b.lang in SHELL_LANGS and b.mark == ctx.mark]
        if not blocks:
            errors.append("no block marked `%s` in %s" % (ctx.mark, " ".join(ctx.files)))
        else:
            run_blocks(ctx, blocks, errors)
    else:
        errors = check(ctx, doc_files(ctx.src))
    if errors:
        sys.exit("FAILED:\n" + "\n".join(errors))
    print("all command blocks are run or marked")


if __name__ == "__main__":
    main()
