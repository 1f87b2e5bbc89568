"""The cold post view, judged as a whole: a fresh API function's imports and its first post page,
against `import boto3` and raw mistune's first render of the same Markdown.

The team's goal (it replaces "cold render ≤ 1.5× raw mistune", retired because raw mistune
neither highlights, sanitizes nor fills a template, and "import app ≤ 1.4× import boto3"):
import plus first render ≤ GOAL × (import boto3 plus raw mistune's first render).

Each sample is one fresh interpreter (bench/cold.py) that times its own imports and its
first render in CPU time; the interpreter's own start-up is the same on both sides and is
left out, so the ratio is the stricter one. The two sides alternate, and the figure is the
ratio of the medians of the totals. The document is bench/render.py's long technical post
(headings, a table, code in three languages); the blog's storage is in memory (no AWS
client is made on either side). The imports alone are reported beside (the old cold-start
row), from the same samples.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench import cold
from bench.figures import NO_GOAL, Figure, guarded, judged, ms, reported, times
from bench.render import document, write_document
from bench.timing import median, ratio

ROUNDS = 20  # each round: two fresh interpreters, about 0.4 s together
GOAL = 1.5
GOAL_TEXT = f"≤ {times(GOAL)}"
CASES = ("blog", "mistune")  # bench/cold.py's: import app + post page; import boto3 + raw mistune
VIEW = "Cold post view: import app + first post page vs import boto3 + raw mistune's first render"
IMPORTS = "Cold start: import app vs import boto3 (same samples)"


def medians(found: dict[str, list[cold.Sample]]) -> dict[str, dict[str, float]]:
    """Per case, the medians of its import, render and total (import + render of one sample) seconds."""
    return {case: {"import": median([s["import"] for s in runs]), "render": median([s["render"] for s in runs]),
                   "total": median([s["import"] + s["render"] for s in runs])}
            for case, runs in found.items()}


def view_figure(m: dict[str, dict[str, float]], data: dict[str, Any]) -> Figure:
    """The judged figure: whole cold view against its baseline."""
    blog, base = m["blog"], m["mistune"]
    value = ratio(blog["total"], base["total"])
    ratio(blog["render"], base["render"])  # a part that measured nothing is an error, not a pass
    return judged("startup.cold_view", VIEW,
                  f"{times(value)} ({ms(blog['total'])}: import {ms(blog['import'])} + page {ms(blog['render'])} "
                  f"vs {ms(base['total'])}: import {ms(base['import'])} + mistune {ms(base['render'])})",
                  GOAL_TEXT, value <= GOAL, ratio=round(value, 3), **data)


def imports_figure(m: dict[str, dict[str, float]], data: dict[str, Any]) -> Figure:
    """The imports alone, reported."""
    value = ratio(m["blog"]["import"], m["mistune"]["import"])
    return reported("startup.import_ratio", IMPORTS,
                    f"{times(value)} ({ms(m['blog']['import'])} vs {ms(m['mistune']['import'])})",
                    ratio=round(value, 3), **data)


def run(world: object = None) -> list[Figure]:
    """The cold view's figure, and the imports beside it."""
    data_bytes, body = document()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        found = cold.samples(CASES, write_document(Path(folder), data_bytes, body), ROUNDS)
    m: dict[str, dict[str, float]] = {}
    data: dict[str, Any] = {"rounds": ROUNDS, "fresh_interpreter": True}

    def measured() -> dict[str, dict[str, float]]:
        if not m:
            m.update(medians(found))
            data["median_ms"] = {case: {part: round(v * 1000, 1) for part, v in parts.items()}
                                 for case, parts in m.items()}
        return m

    return [guarded("startup.cold_view", VIEW, GOAL_TEXT, lambda: view_figure(measured(), data)),
            guarded("startup.import_ratio", IMPORTS, NO_GOAL, lambda: imports_figure(measured(), data))]
