"""`make audit`: Lighthouse, axe-core and screenshots of the reader's pages, on the local stack.

Starts `make run`'s stack (moto + `chalice local`) on free ports, with the sample posts and a
few more written here (a post with a sized image, code and a table; enough posts for a pager),
runs audit/audit.mjs with the system's Chromium, and stops everything. The run fails when a
Lighthouse category (performance, accessibility, best practices, SEO; mobile and desktop)
scores below 100 on any page, or axe-core finds any violation (1280 and 390 px, light and dark).
Reports and screenshots go to build/audit/ (CI keeps that folder as an artifact).

    python -m blogctl.audit [--out build/audit]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import zlib
from pathlib import Path

from blogctl.localstack import LocalStack, wait_for_http
from blogctl.stage import PROJECT_DIR

SCRIPT = PROJECT_DIR / "audit" / "audit.mjs"
DEFAULT_OUT = PROJECT_DIR / "build" / "audit"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; CHROME_PATH overrides
START_TIMEOUT_SECONDS = 90
DESCRIPTION = "Stories and news from the field, written in Markdown and published without a server."
# The pages audited, as a reader reaches them.
PAGES: dict[str, str | dict[str, object]] = {
    "home": "/",
    "post": "/posts/global-prayer-gathering-2013",
    "figures": "/posts/reading-the-figures",
    "tag": "/tags/ijm",
    "author": "/authors/sam-rivera",
    "search": "/search?q=prayer",
    "missing": {"path": "/no-such-page", "status": 404},
}
# The audits a page must fail, so its category may score below 100 for them and nothing else:
# the 404 page answers 404 (SEO's http-status-code), asks not to be indexed (SEO's is-crawlable),
# and Chromium logs the 404 of the document itself in the console (best practices'
# errors-in-console). Every other audit of it, and every audit of every other page, must pass.
EXCEPTIONS = ("missing:http-status-code", "missing:is-crawlable", "missing:errors-in-console")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def png(width: int, height: int) -> bytes:
    """A small PNG of a soft two-colour gradient (compresses to a few KB)."""
    rows = b"".join(b"\x00" + b"".join(bytes((40 + 160 * x // width, 90 + 100 * y // height, 170))
                                       for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


FIGURES_POST = """---
title: Reading the figures
date: 2013-05-02T18:30:00-04:00
tags: [IJM, Reports]
author: Sam Rivera
summary: What the year's numbers say, with a chart, a table and the script that made them.
---

Every spring we gather the year's numbers in one place. They are small numbers, and each of
them is a person, so we read them slowly.

![A chart of the year's numbers, rising from left to right](chart.png)

## The table

| Quarter | Visits | Partners |
|:--------|-------:|---------:|
| First   |     12 |        2 |
| Second  |     19 |        3 |
| Third   |     23 |        3 |
| Fourth  |     31 |        4 |

## How we count

The script below adds up the visits; it is short on purpose, so anyone can check it.

```python
visits = {"first": 12, "second": 19, "third": 23, "fourth": 31}
print(sum(visits.values()), "visits this year")
```

> Numbers tell us where to look; people tell us what we see.

## What comes next

We will publish the next figures in the autumn, with the partners' own words beside them.
"""


def write_content(root: Path) -> Path:
    """The sample posts plus the audit's own: a bundle with an image and enough posts to page."""
    shutil.copytree(PROJECT_DIR / "content", root, dirs_exist_ok=True)
    (root / "posts").mkdir(parents=True, exist_ok=True)
    (root / "posts" / "reading-the-figures.md").write_text(FIGURES_POST, encoding="utf-8")
    assets = root / "assets" / "reading-the-figures"
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "chart.png").write_bytes(png(960, 540))
    (assets / "chart-480w.png").write_bytes(png(480, 270))
    for n in range(1, 11):
        (root / "posts" / f"field-note-{n:02d}.md").write_text(
            f"---\ntitle: Field note {n}\ndate: 2012-{n:02d}-15\ntags: [Notes]\nauthor: Sam Rivera\n---\n\n"
            f"Note {n} of the year: a visit, a conversation and a list of things to pray for.\n",
            encoding="utf-8")
    return root


def main(argv: list[str] | None = None) -> int:
    """Start the stack, run the audit, stop the stack; the audit's exit status."""
    parser = argparse.ArgumentParser(prog="python -m blogctl.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports and screenshots (default build/audit)")
    args = parser.parse_args(argv)
    chromium = os.environ.get("CHROME_PATH", CHROMIUM)
    if not Path(chromium).exists():
        print(f"error: no Chromium at {chromium}: install Debian's chromium or set CHROME_PATH", file=sys.stderr)
        return 2
    if not (PROJECT_DIR / "node_modules" / "lighthouse").is_dir():
        print("error: the audit's npm packages are missing: run `npm ci` in the project folder", file=sys.stderr)
        return 2
    shutil.rmtree(args.out, ignore_errors=True)
    port, aws_port = free_port(), free_port()
    os.environ.setdefault("BLOG_DESCRIPTION", DESCRIPTION)
    with tempfile.TemporaryDirectory(prefix="blog-audit-") as folder:
        stack = LocalStack(port=port, aws_port=aws_port, content_dir=write_content(Path(folder)),
                           autoreload=False, log=lambda text: print(f"[local] {text}", flush=True))
        try:
            stack.start()
            threading.Thread(target=stack.serve, name="chalice-local", daemon=True).start()
            base = f"http://127.0.0.1:{port}"
            if not wait_for_http(base + "/", timeout=START_TIMEOUT_SECONDS):
                print("error: the local stack did not start", file=sys.stderr)
                return 2
            command = ["node", str(SCRIPT), "--base", base, "--out", str(args.out), "--pages", json.dumps(PAGES),
                       *(f"--except={exception}" for exception in EXCEPTIONS)]
            return subprocess.run(command, cwd=PROJECT_DIR, env={**os.environ, "CHROME_PATH": chromium}).returncode
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
