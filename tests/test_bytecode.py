"""The deployment zip ships its bytecode: `make package` (the real `chalice package`), then a
fresh interpreter imports the API function's module from an unpacked copy, as Lambda does.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from pathlib import Path

import pytest

from bench import cold
from blogctl import bytecode, deploy, emulator
from blogctl.cli import main
from blogctl.stage import load_stage

@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> Path:
    """`make package STAGE=prod`: the zip as it would be deployed."""
    out = tmp_path_factory.mktemp("package")
    assert main(["package", "--stage", "prod", "--out", str(out)]) == 0
    return out / deploy.ZIP


@pytest.fixture(scope="module")
def entries(packaged) -> dict[str, bytes]:
    with zipfile.ZipFile(packaged) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def unpacked(packaged, tmp_path) -> Path:
    """The zip unpacked as Lambda unpacks it: every file's mtime is now, not the one the build saw."""
    folder = tmp_path / "task"
    with zipfile.ZipFile(packaged) as archive:
        archive.extractall(folder)
    return folder


def modules(entries) -> list[str]:
    return [name for name in entries if name.endswith(".py")]


def test_each_module_has_its_pyc_where_this_python_looks(entries, monkeypatch):
    monkeypatch.setattr(sys, "pycache_prefix", None)  # as on Lambda
    lexers = [name for name in modules(entries) if not bytecode.compiles(name)]
    assert lexers and all(name.startswith(bytecode.SOURCE_ONLY) for name in lexers)
    compiled = [name for name in modules(entries) if bytecode.compiles(name)]
    assert {"app.py", "chalicelib/site.py", "jinja2/environment.py", "pygments/lexers/_mapping.py"} <= set(compiled)
    for name in compiled:
        pyc = entries.get(importlib.util.cache_from_source(name))
        assert pyc is not None, f"{name} has no bytecode"
        assert pyc[:4] == importlib.util.MAGIC_NUMBER


def test_the_pycs_are_unchecked_hash_and_match_their_source(entries):
    for name in filter(bytecode.compiles, modules(entries)):
        header = entries[bytecode.pyc_name(name)][:16]
        flags = int.from_bytes(header[4:8], "little")
        assert flags == 0b01, f"{name}: flags {flags:#b}"  # hash-based, source not checked (PEP 552)
        assert header[8:16] == importlib.util.source_hash(entries[name])


def test_the_zip_is_sorted_and_keeps_chalices_times_and_modes(packaged):
    with zipfile.ZipFile(packaged) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names) and len(names) == len(set(names))
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}  # Chalice's fixed time
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}


def test_compiling_again_gives_the_same_zip(tmp_path):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, mode in (("z.py", 0o100755), ("a/b.py", 0o100644), ("a/data.txt", 0o100600)):
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.external_attr, info.compress_type = mode << 16, zipfile.ZIP_DEFLATED
            archive.writestr(info, f"'''{name}'''\n")
    bytecode.add_bytecode(path)
    once = path.read_bytes()
    bytecode.add_bytecode(path)
    assert path.read_bytes() == once
    with zipfile.ZipFile(path) as archive:
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert modes[bytecode.pyc_name("z.py")] == 0o100755 and modes[bytecode.pyc_name("a/b.py")] == 0o100644


def test_a_fresh_lambda_like_interpreter_imports_app_from_the_bytecode(unpacked, tmp_path):
    later = 2_000_000_000  # 2033: every source newer than its pyc, as a timestamp pyc would see it
    for source in unpacked.rglob("*.py"):
        os.utime(source, (later, later))
    before = sorted(unpacked.rglob("*"))
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", **load_stage("prod").environment("api_handler")}
    found = cold.zip_import(unpacked, emulator.runtime_dir(tmp_path), env)
    assert found["compiled"] == []
    assert Path(found["cached"]) == unpacked / bytecode.pyc_name("app.py")  # set from the spec, found or not:
    assert Path(found["cached"]).is_file()
    assert sorted(unpacked.rglob("*")) == before  # nothing written beside the code (read-only on Lambda)


def test_the_zip_keeps_no_pyc_but_its_modules_own(tmp_path):
    # What Chalice may zip: a local run's pycs from chalicelib/__pycache__ (a deleted module's too),
    # and, in a zip it reuses, bytecode added before the source changed.
    path = tmp_path / "deployment.zip"
    stale = bytecode.compile_sources({"app.py": b"VERSION = 1\n"})["app.py"]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "VERSION = 2\n")
        archive.writestr(bytecode.pyc_name("app.py"), stale)
        archive.writestr(bytecode.pyc_name("chalicelib/gone.py"), stale)
        archive.writestr("chalicelib/__pycache__/site.cpython-39.pyc", stale)
        archive.writestr("vendored/sourceless.pyc", stale)  # not in a __pycache__: a module of its own, kept
    bytecode.add_bytecode(path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        pyc = archive.read(bytecode.pyc_name("app.py"))
    assert names == {"app.py", bytecode.pyc_name("app.py"), "vendored/sourceless.pyc"}
    assert pyc[8:16] == importlib.util.source_hash(b"VERSION = 2\n")


def test_the_zip_is_replaced_whole_and_keeps_its_file_mode(tmp_path):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "x = 1\n")
    path.chmod(0o640)
    bytecode.add_bytecode(path)
    assert list(tmp_path.iterdir()) == [path]  # no partial file left beside it
    assert path.stat().st_mode & 0o777 == 0o640
