"""One cold start in this fresh interpreter: `python -m bench.cold CASE DOCUMENT.json`.

Prints one JSON line, {"import": CPU seconds, "render": CPU seconds}: the case's imports,
then its first render of the document's post. bench/startup.py and bench/render.py run
this once per sample, so nothing is warm: no module imported, no Markdown parser, no
Pygments formatter or lexer, no Jinja environment or compiled template, no cache.
Whatever a library loads lazily on first use is part of the render. This module imports
nothing else of the project's at its top, so no case warms another's state.

Cases (CASES):
- "blog": `import app`, as the API function starts; then the first post page (Site.post:
  front matter, Markdown with highlighting, sanitizing, the template), its storage in
  memory (no AWS client, no network: CPU only, as on the other side).
- "mistune": `import boto3`, what any Python function that reads AWS starts with; then raw
  mistune's first render of the same Markdown (`import mistune` and `mistune.html`).
- "markdown": `import markdown`; then Python-Markdown's first render as Pelican makes it (a
  new instance with Pelican's settings: the extensions load on first use).

DOCUMENT.json holds {"body": Markdown, "item": the post's index item, "source": the post
file's text, "pelican": Python-Markdown's settings}.

`zip_import` is the deployed side of it: `import app` in a fresh interpreter from an unpacked
deployment zip, as Lambda starts the API function (bench/package.py, tests/test_bytecode.py).
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # at run time this module imports nothing of the project's before the clock starts
    from chalicelib.model import ImageSizes, PostRecord, SiteConfig
    from chalicelib.store import ContentStore, PostIndex, Slice

CASES = ("blog", "mistune", "markdown")
TIMEOUT_SECONDS = 120
Sample = dict[str, float]  # {"import": CPU seconds, "render": CPU seconds}

# Runs in the unpacked zip with only the Lambda runtime's packages besides it (argv[1]), as
# blogctl/emulator.py runs a function: times `import app`, and names the zip's modules compiled
# from source on the way (none when the zip's bytecode is used).
ZIP_IMPORT = r"""
import importlib.machinery, json, os, sys, time
sys.path[:0] = [os.getcwd(), sys.argv[1]]
compiled = []
to_code = importlib.machinery.SourceFileLoader.source_to_code
def source_to_code(self, data, path, **kwargs):
    compiled.append(os.path.relpath(path))
    return to_code(self, data, path, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = source_to_code
started = time.process_time()
import app
took = time.process_time() - started
print(json.dumps({"import": took, "compiled": [p for p in compiled if not p.startswith("..")],
                  "cached": app.__cached__}))
"""


class MemoryIndex:
    """The one post a page view needs, without AWS: no neighbours, no other posts of its tag."""

    def __init__(self, item: dict[str, Any]) -> None:
        self._item = item

    def post_page(self, slug: str) -> tuple[PostRecord | None, ImageSizes]:
        """The post (if `slug` is ours) and no image sizes, as PostIndex.post_page answers."""
        from chalicelib import model

        found = model.PostRecord.from_item(self._item) if slug == self._item["slug"] else None
        return found, model.ImageSizes.from_item(slug, None)

    def site_config(self) -> SiteConfig:
        """No imported site."""
        from chalicelib import model

        return model.SiteConfig.from_item(None)

    def redirect(self, path: str) -> None:
        """No old URLs here."""
        return None

    def neighbours(self, card: Any, upper: str) -> tuple[None, None]:
        """No other posts."""
        return None, None

    def group(self, group: str, upper: str, limit: int, after_sk: str | None = None) -> Slice:
        """No other posts."""
        from chalicelib.store import Slice

        return Slice([], None)


class MemoryContent:
    """The post's source bytes, without AWS."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read_version(self, key: str, version_id: str | None) -> bytes:
        """The source, whatever the version asked for."""
        return self._data


def as_index(index: MemoryIndex) -> PostIndex:
    """The in-memory index where Site expects the store's (a post page calls only these)."""
    return cast("PostIndex", index)


def as_content(content: MemoryContent) -> ContentStore:
    """The in-memory content where Site expects the store's (it calls only read_version)."""
    return cast("ContentStore", content)


def post_page(document: dict[str, Any]) -> Callable[[], str | bytes]:
    """The blog's first post page, on a Site over in-memory storage (imports chalicelib, not app)."""
    from chalicelib import config
    from chalicelib.links import Links
    from chalicelib.site import Site

    item = document["item"]
    index, content = MemoryIndex(item), MemoryContent(document["source"].encode("utf-8"))
    site = Site(as_index(index), as_content(content), config.get_settings())
    return lambda: site.post(Links(base_url="https://blog.example"), item["slug"]).body


def start(case: str) -> None:
    """The case's imports: what its process does before it serves anything."""
    if case == "blog":
        import app  # noqa: F401  (the API function's module: chalice, chalicelib, boto3)
    elif case == "mistune":
        import boto3  # noqa: F401
    elif case == "markdown":
        import markdown  # noqa: F401
    else:
        raise SystemExit(f"unknown case {case!r}; choose from {', '.join(CASES)}")


def first_render(case: str, document: dict[str, Any]) -> Any:
    """The case's first render of the document (its lazy imports and set-up included)."""
    if case == "blog":
        return post_page(document)()
    if case == "mistune":
        import mistune

        return mistune.html(document["body"])
    import markdown

    return markdown.Markdown(**document["pelican"]).convert(document["body"])


def sample(case: str, document: Path) -> Sample:
    """(In the benchmark's process) one cold start of `case` in a fresh interpreter, from the project directory."""
    from bench.world import environment
    from blogctl.stage import PROJECT_DIR

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BLOG_", "PYTHON"))}
    env.update(environment())  # app.py reads the queue name at import, as on Lambda
    done = subprocess.run([sys.executable, "-m", "bench.cold", case, str(document)], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, check=True, timeout=TIMEOUT_SECONDS)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {"import": float(found["import"]), "render": float(found["render"])}


def zip_import(code: Path, runtime: Path, env: dict[str, str]) -> dict[str, Any]:
    """(In the caller's process) `import app` from an unpacked zip in a fresh interpreter that writes
    no bytecode (-B; -I ignores PYTHONDONTWRITEBYTECODE): {"import": CPU seconds, "compiled": the
    zip's modules compiled from source, "cached": app.__cached__}."""
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", ZIP_IMPORT, str(runtime)], cwd=code, env=env,
                          capture_output=True, text=True, check=True, timeout=TIMEOUT_SECONDS)
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def samples(cases: tuple[str, ...], document: Path, rounds: int) -> dict[str, list[Sample]]:
    """`rounds` cold starts of each case, alternated (bench.timing.interleave), after one unmeasured
    start each: that one compiles the bytecode, which a deployed function has already."""
    from bench.timing import interleave

    for case in cases:
        sample(case, document)
    return interleave({case: functools.partial(sample, case, document) for case in cases}, rounds)


def main(argv: list[str]) -> int:
    """Import, render once; print the CPU seconds of each."""
    case, path = argv
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    started = time.process_time()
    start(case)
    imported = time.process_time()
    first_render(case, document)
    rendered = time.process_time()
    print(json.dumps({"import": imported - started, "render": rendered - imported}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
