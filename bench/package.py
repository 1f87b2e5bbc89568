"""The deployment zip: its size, and what its bytecode saves a cold start.

The zip is what `make package` ships: `chalice package --stage dev` (Linux wheels from PyPI
included), then the modules' bytecode added (blogctl/bytecode.py). It is built from a copy of
what Chalice packages (app.py, chalicelib/, requirements.txt, .chalice/), so the shared
checkout's .chalice/deployments cache is left alone.

The cold start is `import app` in a fresh interpreter from the zip unpacked, as Lambda starts
the API function (bench/cold.py's zip_import): the zip as shipped against the same zip without
its .pyc files, which compiles every module it imports. Neither side writes bytecode, the two
alternate, one unmeasured start each first (the file cache); the figure is the ratio of medians.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench import cold
from bench.figures import NO_GOAL, Figure, failed, guarded, judged, ms, reported, times
from bench.timing import interleave, median, ratio
from bench.world import environment
from blogctl import deploy, emulator
from blogctl.stage import LOCAL_REGION, PROJECT_DIR

GOAL_BYTES = 5 * 1024 * 1024
PACKAGED = ("app.py", "chalicelib", "requirements.txt", ".chalice", "vendor")
TIMEOUT_SECONDS = 300
KEY, LABEL, GOAL = "package.zip_bytes", "Deployment zip size", "≤ 5.0 MB"
COLD_KEY = "package.cold_import"
COLD_LABEL = "Cold start from the deployment zip: import app with its bytecode vs without"
ROUNDS = 15  # each round: two fresh interpreters, about 0.5 s together
PLACEHOLDER_POLICY = '{"Version": "2012-10-17", "Statement": []}\n'
# The `chalice` console script of this interpreter, whatever the PATH.
CHALICE = [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())"]


def copy_project(target: Path) -> list[str]:
    """Copy what Chalice packages into `target`; return notes on anything made up for the build."""
    notes = []
    for name in PACKAGED:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "deployments"))
        elif source.exists():
            shutil.copy2(source, target / name)
    policy = target / ".chalice" / "policy-dev.json"
    if not policy.exists():
        # The zip does not contain IAM policies; `chalice package` only refuses to start without one.
        policy.write_text(PLACEHOLDER_POLICY, encoding="utf-8")
        notes.append(".chalice/policy-dev.json missing: built with an empty placeholder policy")
    return notes


class NotBuilt(Exception):
    """The zip could not be built: the reason, for the table."""


def build(temp: Path) -> tuple[Path, list[str]]:
    """`make package`'s zip, built in `temp`: its path, and notes on anything made up for the build."""
    project, out = temp / "project", temp / "out"
    project.mkdir()
    notes = copy_project(project)
    env = {**os.environ, "AWS_DEFAULT_REGION": LOCAL_REGION}
    try:
        done = subprocess.run([*CHALICE, "package", "--stage", "dev", str(out)], cwd=project,
                              env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NotBuilt(f"chalice package: {err}") from err
    zip_path = out / deploy.ZIP
    if done.returncode != 0 or not zip_path.exists():
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NotBuilt(f"chalice package exited {done.returncode}: {last[0]}")
    try:
        deploy.compile_zip(out / deploy.TEMPLATE, zip_path)
    except deploy.StepFailed as err:
        raise NotBuilt(str(err)) from err
    return zip_path, notes


def size_figure(zip_path: Path, notes: list[str]) -> Figure:
    """The zip's size against the goal."""
    size = zip_path.stat().st_size
    measured = f"{size / 1024 / 1024:.2f} MB" + "".join(f" ({note})" for note in notes)
    return judged(KEY, LABEL, measured, GOAL, size <= GOAL_BYTES, bytes=size, notes=notes)


def unpack(zip_path: Path, folder: Path, bytecode: bool) -> Path:
    """The zip unpacked into `folder`, with or without its .pyc files."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder, [name for name in archive.namelist() if bytecode or not name.endswith(".pyc")])
    return folder


def cold_samples(zip_path: Path, temp: Path) -> dict[str, list[dict[str, Any]]]:
    """ROUNDS cold imports of each side, alternated, after one unmeasured import each."""
    runtime = emulator.runtime_dir(temp)
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", **environment()}
    sides = {name: functools.partial(cold.zip_import, unpack(zip_path, temp / name, name == "bytecode"), runtime, env)
             for name in ("bytecode", "source")}
    for start in sides.values():
        start()
    return interleave(sides, ROUNDS)


def cold_figure(found: dict[str, list[dict[str, Any]]]) -> Figure:
    """The import with the zip's bytecode against without it, reported."""
    with_pyc, without = (median([s["import"] for s in found[side]]) for side in ("bytecode", "source"))
    value = ratio(with_pyc, without)
    compiled = {side: max(len(s["compiled"]) for s in found[side]) for side in found}
    return reported(COLD_KEY, COLD_LABEL,
                    f"{times(value)} ({ms(with_pyc)} vs {ms(without)}; modules compiled from source: "
                    f"{compiled['bytecode']} vs {compiled['source']})",
                    ratio=round(value, 3), rounds=ROUNDS, fresh_interpreter=True, compiled=compiled,
                    median_ms={"bytecode": round(with_pyc * 1000, 1), "source": round(without * 1000, 1)})


def run(world: object = None) -> list[Figure]:
    """The size of deployment.zip and the cold import from it, or why they could not be measured."""
    with tempfile.TemporaryDirectory(prefix="bench-package-") as folder:
        temp = Path(folder)
        try:
            zip_path, notes = build(temp)
        except NotBuilt as err:
            return [failed(KEY, LABEL, GOAL, str(err)), failed(COLD_KEY, COLD_LABEL, NO_GOAL, str(err))]
        found = cold_samples(zip_path, temp)
        return [size_figure(zip_path, notes), guarded(COLD_KEY, COLD_LABEL, NO_GOAL, lambda: cold_figure(found))]
