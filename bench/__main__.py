"""`python -m bench [GROUP ...]`: run the benchmarks, print the table, write the results.

With no group, everything runs, the results go to bench/results.json and the table into
README.md between its markers, with the commit it ran on: commit both with the code they
measured. With some groups (`python -m bench calls render`), to bench/results.local.json
(ignored) and the README is left alone.
`python -m bench --show bench/results.json` prints a stored run as Markdown, for the README.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from bench import (calls, figures, ingest, listing, localstack, markdown, package, render, scale, search, startup,
                   throughput, writes)
from bench.world import World
from blogctl.stage import PROJECT_DIR

GROUPS: dict[str, ModuleType] = {
    "calls": calls, "listing": listing, "render": render, "markdown": markdown, "startup": startup,
    "ingest": ingest, "writes": writes, "throughput": throughput, "package": package, "search": search,
    "scale": scale, "localstack": localstack,
}
BENCH_DIR = Path(__file__).resolve().parent
FULL_RESULTS = BENCH_DIR / "results.json"
README = PROJECT_DIR / "README.md"
PARTIAL_RESULTS = BENCH_DIR / "results.local.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line: groups to run, where to write, and Markdown output."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("groups", nargs="*", metavar="GROUP",
                        help=f"run only these ({', '.join(GROUPS)}); default: all")
    parser.add_argument("--output", type=Path, help="results file (default: bench/results.json for a "
                                                     "full run, bench/results.local.json for some groups)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown too")
    parser.add_argument("--show", type=Path, metavar="RESULTS", help="print a stored run as Markdown; run nothing")
    args = parser.parse_args(argv)
    unknown = [name for name in args.groups if name not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    return args


def run_group(name: str, world: World) -> list[figures.Figure]:
    """One group's figures; a group that crashes becomes an error row, and the others still run."""
    print(f"[bench] {name} …", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        found = GROUPS[name].run(world)
    except Exception as err:  # the table must say what could not be measured
        traceback.print_exc()
        found = [figures.failed(f"{name}.run", f"{name}: the benchmark itself failed", "-",
                                f"{type(err).__name__}: {err}")]
    print(f"[bench] {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    """Run, print, write; exit 1 if a benchmark could not run."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.show:
        document = json.loads(args.show.read_text(encoding="utf-8"))
        print(figures.markdown_table(figures.from_results(document)))
        return 0
    names = args.groups or list(GROUPS)
    output = args.output or (FULL_RESULTS if not args.groups else PARTIAL_RESULTS)
    started_at = dt.datetime.now(dt.timezone.utc)
    clock = time.monotonic()
    world = World()
    try:
        found = [figure for name in names for figure in run_group(name, world)]
    finally:
        world.stop()
    duration = time.monotonic() - clock
    document = figures.results(found, names, started_at, duration, PROJECT_DIR)
    figures.write_results(output, document)
    if output == FULL_RESULTS:
        README.write_text(figures.readme_with_table(README.read_text(encoding="utf-8"), document), encoding="utf-8")
    print(figures.text_table(found))
    if args.markdown:
        print("\n" + figures.markdown_table(found))
    machine = document["machine"]
    shown = output.relative_to(PROJECT_DIR) if output.is_relative_to(PROJECT_DIR) else output
    print(f"\n{document['date']}, {machine['processor']} ({machine['cpus']} CPUs), Python {machine['python']}; "
          f"{duration:.0f} s; written to {shown}" + (" and README.md" if output == FULL_RESULTS else ""))
    if document["commit"].endswith("+dirty"):
        print("[bench] the work tree had uncommitted changes: commit them and run again for a table "
              "that matches a commit", file=sys.stderr)
    return 1 if any(f.status == figures.ERROR for f in found) else 0


if __name__ == "__main__":
    sys.exit(main())
