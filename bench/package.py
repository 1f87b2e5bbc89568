"""Deployment zip size: what `chalice package --stage dev` builds, Linux wheels from PyPI included.

It runs on a copy of what Chalice packages (app.py, chalicelib/, requirements.txt,
.chalice/), so the shared checkout's .chalice/deployments cache is left alone.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.figures import Figure, failed, judged
from blogctl.stage import LOCAL_REGION, PROJECT_DIR

GOAL_BYTES = 5 * 1024 * 1024
PACKAGED = ("app.py", "chalicelib", "requirements.txt", ".chalice", "vendor")
TIMEOUT_SECONDS = 300
KEY, LABEL, GOAL = "package.zip_bytes", "Deployment zip size", "≤ 5.0 MB"
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


def run(world: object = None) -> list[Figure]:
    """The size of deployment.zip, or why it could not be built."""
    with tempfile.TemporaryDirectory(prefix="bench-package-") as temp:
        project, out = Path(temp) / "project", Path(temp) / "out"
        project.mkdir()
        notes = copy_project(project)
        env = {**os.environ, "AWS_DEFAULT_REGION": LOCAL_REGION}
        try:
            done = subprocess.run([*CHALICE, "package", "--stage", "dev", str(out)], cwd=project,
                                  env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as err:
            return [failed(KEY, LABEL, GOAL, f"chalice package: {err}")]
        zip_path = out / "deployment.zip"
        if done.returncode != 0 or not zip_path.exists():
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return [failed(KEY, LABEL, GOAL, f"chalice package exited {done.returncode}: {last[0]}")]
        size = zip_path.stat().st_size
    measured = f"{size / 1024 / 1024:.2f} MB" + "".join(f" ({note})" for note in notes)
    return [judged(KEY, LABEL, measured, GOAL, size <= GOAL_BYTES, bytes=size, notes=notes)]
