"""The README's example runs as written (from the GAEN data directory, store in a temp dir)."""
import os
import pathlib
import re

import pytest

from conftest import GAEN_DATA

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    if not (GAEN_DATA / "cwa-real-2021-03-04").exists():
        pytest.skip("GAEN data not found")
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    code = code.replace('"/tmp/phone.db"', repr(str(tmp_path / "phone.db")))
    monkeypatch.chdir(GAEN_DATA)
    exec(compile(code, str(README), "exec"), {})
    out = capsys.readouterr().out
    assert "ImportResult(read=True, verified=True, matched=True" in out


def test_readme_example_fails_on_a_wrong_key_file(tmp_path, monkeypatch):
    if not (GAEN_DATA / "cwa-real-2021-03-04").exists():
        pytest.skip("GAEN data not found")
    import sotto
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    code = code.replace('"/tmp/phone.db"', repr(str(tmp_path / "phone.db")))
    code = code.replace('"262", "v1"', '"263", "v1"')  # a key name the file does not use
    monkeypatch.chdir(GAEN_DATA)
    with pytest.raises(sotto.SottoError) as e:
        exec(compile(code, str(README), "exec"), {})
    assert e.value.name == "SOTTO_ERR_UNTRUSTED_KEY"
