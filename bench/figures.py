"""Figures and their report: each measured value beside its goal, as a table and as results.json."""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.timing import NotMeasured

PASS, FAIL, INFO, ERROR = "pass", "FAIL", "info", "error"
NO_GOAL = "none set (reported)"
COLUMNS = ("figure", "measured", "goal", "result")


@dataclass(frozen=True)
class Figure:
    """One row of the results: what was measured, the goal, and whether it was met."""

    key: str  # stable name in results.json, "<group>.<figure>"
    label: str
    measured: str
    goal: str
    status: str  # PASS, FAIL, INFO (no goal) or ERROR (could not be measured)
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The figure as plain data for results.json."""
        return {"label": self.label, "measured": self.measured, "goal": self.goal,
                "result": self.status, "data": self.data}


def verdict(met: bool) -> str:
    """PASS or FAIL."""
    return PASS if met else FAIL


def judged(key: str, label: str, measured: str, goal: str, met: bool, **data: Any) -> Figure:
    """A figure with a goal."""
    return Figure(key, label, measured, goal, verdict(met), data)


def reported(key: str, label: str, measured: str, **data: Any) -> Figure:
    """A figure the issue asks for without a goal."""
    return Figure(key, label, measured, NO_GOAL, INFO, data)


def failed(key: str, label: str, goal: str, reason: str) -> Figure:
    """A figure that could not be measured: the table says why instead of showing a number."""
    return Figure(key, label, f"not measured: {reason}", goal, ERROR, {"error": reason})


def guarded(key: str, label: str, goal: str, build: Callable[[], Figure]) -> Figure:
    """The figure `build` makes, or an error row when one of its measurements is zero or missing."""
    try:
        return build()
    except NotMeasured as err:
        return failed(key, label, goal, str(err))


def times(value: float) -> str:
    """A ratio as the table shows it: '1.23×'."""
    return f"{value:.2f}×"


def ms(value_seconds: float) -> str:
    """Seconds as milliseconds: '12.3 ms'."""
    return f"{value_seconds * 1000:.1f} ms"


def text_table(figures: list[Figure]) -> str:
    """The figures as an aligned plain-text table for the terminal."""
    rows = [COLUMNS, *((f.label, f.measured, f.goal, f.status) for f in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(figures: list[Figure]) -> str:
    """The figures as a Markdown table (for the README's performance section)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(c) for c in (f.label, f.measured, f.goal, f.status)) + " |" for f in figures]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "processor": _cpu_model() or platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def commit(project_dir: Path) -> str:
    """The checked-out commit, '+dirty' when the work tree has changes ('' outside git)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project_dir, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return ""


def results(figures: list[Figure], groups: list[str], started: dt.datetime, duration: float,
            project_dir: Path, machine_info: Callable[[], dict[str, Any]] = machine) -> dict[str, Any]:
    """The run as a JSON-ready document: date, machine, commit, and every figure by key."""
    return {
        "date": started.strftime("%Y-%m-%d"),
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_seconds": round(duration, 1),
        "machine": machine_info(),
        "commit": commit(project_dir),
        "groups": groups,
        "figures": {f.key: f.as_dict() for f in figures},
        "order": [f.key for f in figures],  # the table's order
        "summary": {status: sum(f.status == status for f in figures) for status in (PASS, FAIL, INFO, ERROR)},
    }


def from_results(document: dict[str, Any]) -> list[Figure]:
    """The figures of a results document, in the table's order."""
    return [Figure(key, f["label"], f["measured"], f["goal"], f["result"], f["data"])
            for key in document["order"] for f in [document["figures"][key]]]


README_BEGIN = "<!-- bench-table:begin (written by `make bench`; edit bench/, not this table) -->"
README_END = "<!-- bench-table:end -->"


def readme_table(document: dict[str, Any]) -> str:
    """What `make bench` writes between the README's markers: when, where, on which commit, and the table."""
    machine_info = document["machine"]
    commit_id = document.get("commit") or "unknown"
    return (f"Measured {document['date']} on {machine_info['processor']}, {machine_info['cpus']} CPUs, "
            f"Python {machine_info['python']}, commit `{commit_id}`:\n\n"
            + markdown_table(from_results(document)))


def readme_with_table(readme: str, document: dict[str, Any]) -> str:
    """`readme` with the text between its bench markers replaced by this run's table."""
    begin, end = readme.find(README_BEGIN), readme.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(f"README.md lacks the markers {README_BEGIN!r} ... {README_END!r}")
    return readme[:begin + len(README_BEGIN)] + "\n" + readme_table(document) + "\n" + readme[end:]


def table_in_readme(readme: str) -> str:
    """The text between the README's bench markers (stripped)."""
    begin, end = readme.find(README_BEGIN), readme.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError("README.md has no bench table markers")
    return readme[begin + len(README_BEGIN):end].strip()


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Write results.json: sorted keys and indentation, so runs diff cleanly."""
    path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
