"""Cold start: `import app` against `import boto3`, each in fresh interpreters, alternated.

Each interpreter times its own import in CPU time (the interpreter's start-up is the same
for both and is left out, so the ratio is the stricter one; CPU time, so that whatever
else the machine runs does not count). The first pair runs unmeasured, so both read
compiled bytecode, as a deployed function does.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys

from bench.figures import Figure, judged, ms, times
from bench.timing import interleave, median, ratio
from bench.world import environment
from blogctl.stage import PROJECT_DIR

ROUNDS = 40
GOAL = 1.4
TIMED_IMPORT = "import time; started = time.process_time(); import {module}; print(time.process_time() - started)"


def import_seconds(module: str) -> float:
    """Seconds a fresh interpreter takes to import `module` (from the project directory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BLOG_", "PYTHON"))}
    env.update(environment())  # app.py reads the queue name at import, as on Lambda
    done = subprocess.run([sys.executable, "-c", TIMED_IMPORT.format(module=module)], cwd=PROJECT_DIR,
                          env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def run(world: object = None) -> list[Figure]:
    """The ratio of the median import times."""
    cases = {module: functools.partial(import_seconds, module) for module in ("app", "boto3")}
    for case in cases.values():
        case()
    medians = {module: median(samples) for module, samples in interleave(cases, ROUNDS).items()}
    value = ratio(medians["app"], medians["boto3"])
    return [judged("startup.import_ratio", "Cold start: import app vs import boto3",
                   f"{times(value)} ({ms(medians['app'])} vs {ms(medians['boto3'])})", f"≤ {times(GOAL)}",
                   value <= GOAL, ratio=round(value, 3), rounds=ROUNDS,
                   median_ms={module: round(v * 1000, 1) for module, v in medians.items()})]
