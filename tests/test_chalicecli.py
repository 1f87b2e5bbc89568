"""`make deploy` uploads bytecode: the real deploy steps (the real `chalice deploy`, through
blogctl/chalicecli.py) against the rehearsal's local stack, from a copy of the project.

Deployed three times, once for the file: the project as it is, with a local run's leftover pyc
of a module since deleted; again unchanged (Chalice reuses its cached zip, which the first
deploy rewrote); and after the app code changed (a new zip). Each upload is read from moto's
Lambda, which runs in this process.
"""
from __future__ import annotations

import importlib.util
import io
import random
import zipfile
from pathlib import Path

import pytest

from blogctl import bytecode, chalicecli, deploy, rehearsal
from blogctl.emulator import local_aws
from blogctl.stage import load_stage
from blogctl.target import Target

CHANGED = {"app.py": "\nDEPLOYED_AGAIN = True\n", "chalicelib/__init__.py": "\n# deployed again\n"}
ADDED = "chalicelib/added_later.py"
DELETED = "chalicelib/deleted.py"  # gone, but a local run left its pyc in chalicelib/__pycache__


def uploaded(stage) -> dict[str, dict[str, bytes]]:
    """Each function's zip as moto's Lambda holds it: its files by name."""
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends["123456789012"][stage.region]
    zips = {function: backend.get_function(stage.function_name(function)).code_bytes for function in stage.functions}
    return {function: files(code) for function, code in zips.items()}


def files(code: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def change_the_app(folder: Path) -> None:
    for name, more in CHANGED.items():
        with (folder / name).open("a", encoding="utf-8") as source:
            source.write(more)
    (folder / ADDED).write_text("ADDED = 1\n", encoding="utf-8")


def leave_a_deleted_modules_pyc(folder: Path) -> None:
    """What a local run leaves in chalicelib/__pycache__, which Chalice zips as it finds it."""
    pyc = folder / bytecode.pyc_name(DELETED)
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(bytecode.compile_sources({DELETED: b"DELETED = 1\n"})[DELETED])


def cached_zips(folder: Path) -> list[str]:
    return sorted(path.name for path in (folder / ".chalice" / "deployments").glob("*.zip"))


@pytest.fixture(scope="module")
def deploys(tmp_path_factory) -> dict[str, dict]:
    """What each of the three deploys uploaded, and the zips in Chalice's cache after it."""
    folder = tmp_path_factory.mktemp("project")
    said: list[str] = []
    runs: dict[str, dict] = {}
    with local_aws() as endpoint:
        config_file, _ = rehearsal.copy_project(folder, "dev")
        leave_a_deleted_modules_pyc(folder)
        stage = load_stage("dev", config_file)
        target = Target(stage.region, endpoint)
        for name in ("first", "unchanged", "changed"):
            if name == "changed":
                change_the_app(folder)
            assert deploy.deploy(stage, target, out=said.append) == 0, "\n".join(said)
            runs[name] = {"zips": uploaded(stage), "cached": cached_zips(folder)}
            said.clear()
    return runs


def pycs_match_their_sources(zipped: dict[str, bytes]) -> None:
    modules = [name for name in zipped if bytecode.compiles(name)]
    for name in modules:
        pyc = zipped.get(bytecode.pyc_name(name))
        assert pyc is not None, f"{name} has no bytecode"
        assert pyc[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(pyc[4:8], "little") == 0b01, f"{name}: not an unchecked-hash pyc"
        assert pyc[8:16] == importlib.util.source_hash(zipped[name]), f"{name}: its pyc is of another source"
    cached = [name for name in zipped if bytecode.is_cached_bytecode(name)]
    assert sorted(cached) == sorted(map(bytecode.pyc_name, modules))  # no pyc without its module


@pytest.mark.parametrize("run", ["first", "unchanged", "changed"])
def test_each_function_gets_bytecode_matching_each_module(deploys, run):
    for function, zipped in deploys[run]["zips"].items():
        assert {"app.py", "chalicelib/site.py", "jinja2/environment.py"} <= set(zipped), function
        pycs_match_their_sources(zipped)


def test_the_changed_app_is_deployed_with_its_own_bytecode(deploys):
    before, after = deploys["first"]["zips"]["api_handler"], deploys["changed"]["zips"]["api_handler"]
    for name, more in CHANGED.items():
        assert after[name] == before[name] + more.encode()
        assert after[bytecode.pyc_name(name)] != before[bytecode.pyc_name(name)]
    assert bytecode.pyc_name(ADDED) in after and bytecode.pyc_name(ADDED) not in before


def test_chalice_reuses_its_rewritten_zip_and_builds_a_new_one_for_new_code(deploys):
    first, unchanged, changed = (deploys[run] for run in ("first", "unchanged", "changed"))
    assert unchanged["zips"] == first["zips"]  # the same zip, its bytecode compiled again the same
    assert unchanged["cached"] == first["cached"]
    # the cache's key is the app's sources: new code, a new zip (never the old one, stale)
    assert len(set(changed["cached"]) - set(unchanged["cached"])) == 1


def test_a_deploy_from_another_python_is_refused_before_anything_is_uploaded(tmp_path, capsys):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "x = 1\n")
    with pytest.raises(SystemExit) as exit_:
        chalicecli.give_bytecode(str(path), "python3.99")
    assert f"this is {bytecode.runtime()}, whose bytecode the functions cannot use (every function runs python3.99)" \
        in str(exit_.value.code) and "nothing was deployed" in str(exit_.value.code)
    assert zipfile.ZipFile(path).namelist() == ["app.py"]


def test_a_zip_over_the_size_limit_is_refused_before_anything_is_uploaded(tmp_path, monkeypatch, capsys):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "x = 1\n")
        archive.writestr("vendor/big.bin", random.Random(0).randbytes(16 * 1024))  # 16 KiB that do not compress
    monkeypatch.setattr(deploy, "MAX_ZIP_BYTES", 8 * 1024)
    with pytest.raises(SystemExit) as exit_:
        chalicecli.give_bytecode(str(path), bytecode.runtime())
    assert "deployment.zip" in str(exit_.value.code) and "too big" in str(exit_.value.code)
    assert "nothing was deployed" in str(exit_.value.code)
    monkeypatch.setattr(deploy, "MAX_ZIP_BYTES", 1024 * 1024)
    chalicecli.give_bytecode(str(path), bytecode.runtime())
    assert "Size: deployment.zip:" in capsys.readouterr().out
