"""The layering rules (blogctl/layering.py) hold for the code, and catch a module that breaks them."""
from __future__ import annotations

from pathlib import Path

import pytest

from blogctl import layering


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    """A project of the given files (every listed pure module present, empty unless given)."""
    for path in (*layering.PURE_MODULES, *files):
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(files.get(path, ""), encoding="utf-8")
    return tmp_path


def found(tmp_path: Path, files: dict[str, str]) -> list[str]:
    return [str(v) for v in layering.check(project(tmp_path, files))]


def test_the_deployed_code_keeps_its_layers():
    assert [str(v) for v in layering.check()] == []


def test_pure_modules_exist_and_are_the_documented_ones():
    assert set(layering.PURE_MODULES) >= {"chalicelib/posts.py", "chalicelib/render.py", "chalicelib/search/text.py",
                                          "chalicelib/feeds.py", "chalicelib/pages.py"}
    assert all((layering.PROJECT_DIR / path).exists() for path in layering.PURE_MODULES)


def test_io_inside_a_function_of_a_pure_module_is_caught(tmp_path):
    source = "import re\n\n\ndef load():\n    import boto3\n    from os import path\n    return boto3, path\n"
    assert found(tmp_path, {"chalicelib/search/text.py": source}) == [
        "chalicelib/search/text.py:5: imports boto3: a pure module does no I/O",
        "chalicelib/search/text.py:5: imports boto3: only chalicelib/store.py, chalicelib/aws.py, chalicelib/cdn.py talk to AWS",
        "chalicelib/search/text.py:6: imports os: a pure module does no I/O",
        "chalicelib/search/text.py:6: imports os.path: a pure module does no I/O",
    ]


def test_a_pure_module_reaching_the_store_through_chalicelib_is_caught(tmp_path):
    files = {"chalicelib/render.py": "from chalicelib import store, errors\nfrom . import services\n"}
    assert found(tmp_path, files) == [
        "chalicelib/render.py:1: imports chalicelib.store: a pure module imports only pure modules and chalicelib.errors",
        "chalicelib/render.py:2: imports chalicelib.services: "
        "a pure module imports only pure modules and chalicelib.errors",
    ]


def test_pure_modules_may_use_each_other_pure_libraries_and_parsing_helpers(tmp_path):
    source = "from urllib.parse import quote\nimport mistune\nfrom chalicelib.posts import slugify\n" \
             "from chalicelib.errors import NotFound\nimport datetime as dt\n"
    assert found(tmp_path, {"chalicelib/feeds.py": source}) == []


def test_an_allow_listed_exception_allows_only_what_it_names(tmp_path):
    assert found(tmp_path, {"chalicelib/highlighting.py": "from io import StringIO\n"}) == []
    assert found(tmp_path, {"chalicelib/highlighting.py": "import socket\n"}) == [
        "chalicelib/highlighting.py:1: imports socket: a pure module does no I/O"]


def test_pages_reads_no_file_since_templates_do(tmp_path):
    assert found(tmp_path, {"chalicelib/pages.py": "from pathlib import Path\n"}) == [
        "chalicelib/pages.py:1: imports pathlib: a pure module does no I/O",
        "chalicelib/pages.py:1: imports pathlib.Path: a pure module does no I/O"]


def test_dynamic_imports_in_a_pure_module_are_caught(tmp_path):
    source = "import importlib\n\n\ndef sneaky():\n    return importlib.import_module('bo' + 'to3')\n"
    assert found(tmp_path, {"chalicelib/posts.py": source}) == [
        "chalicelib/posts.py:5: imports <dynamic import>: a pure module imports only what can be checked"]


@pytest.mark.parametrize("statement, module", [
    ("from chalice import Response", "chalice"),
    ("import blogctl.cli", "blogctl.cli"),
    ("from bench.world import World", "bench.world"),
    ("from .. import app", "app"),
])
def test_chalicelib_importing_chalice_app_or_the_tools_is_caught(tmp_path, statement, module):
    source = f"def later():\n    {statement}\n"
    assert f"chalicelib/site.py:2: imports {module}: chalicelib imports neither chalice, app.py nor the tools" \
        in found(tmp_path, {"chalicelib/site.py": source})


def test_only_the_store_and_the_clients_import_the_aws_sdk(tmp_path):
    files = {"chalicelib/store.py": "from botocore.exceptions import ClientError\n",
             "chalicelib/aws.py": "import boto3\n",
             "chalicelib/site.py": "from botocore.exceptions import ClientError\n",
             "app.py": "import boto3\n"}
    assert found(tmp_path, files) == [
        "app.py:1: imports boto3: only chalicelib/store.py, chalicelib/aws.py, chalicelib/cdn.py talk to AWS",
        "chalicelib/site.py:1: imports botocore.exceptions: only chalicelib/store.py, chalicelib/aws.py, chalicelib/cdn.py talk to AWS",
        "chalicelib/site.py:1: imports botocore.exceptions.ClientError: "
        "only chalicelib/store.py, chalicelib/aws.py, chalicelib/cdn.py talk to AWS",
    ]


def test_a_missing_pure_module_is_reported_not_skipped(tmp_path):
    project(tmp_path, {})
    (tmp_path / "chalicelib" / "feeds.py").unlink()
    assert [str(v) for v in layering.check(tmp_path)] == [
        "chalicelib/feeds.py:0: imports -: listed in PURE_MODULES but missing: update the list"]


def test_the_command_fails_on_a_violation(tmp_path, capsys):
    root = project(tmp_path, {"chalicelib/render.py": "import subprocess\n"})
    assert layering.main(root) == 1
    assert "chalicelib/render.py:1: imports subprocess: a pure module does no I/O" in capsys.readouterr().out
    assert layering.main() == 0


def test_a_flow_importing_another_flow_is_caught(tmp_path):
    files = {"chalicelib/rebuild.py": "from chalicelib import ingest, indexer, model\n",
             "chalicelib/site.py": "from chalicelib.rebuild import run\n"}
    assert found(tmp_path, files) == [
        "chalicelib/rebuild.py:1: imports chalicelib.ingest: a flow does not import another flow (site, ingest, rebuild)",
        "chalicelib/site.py:1: imports chalicelib.rebuild: a flow does not import another flow (site, ingest, rebuild)",
        "chalicelib/site.py:1: imports chalicelib.rebuild.run: "
        "a flow does not import another flow (site, ingest, rebuild)",
    ]
