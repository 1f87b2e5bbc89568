"""One cold render in this fresh interpreter: `python -m bench.cold CASE DOCUMENT.json`; prints CPU seconds.

bench/render.py runs this once per sample, so nothing is warm: no Markdown parser, no
Pygments formatter or lexer, no Jinja environment or compiled template, no cache. Only
the case's own top-level module is imported before the clock starts (as in a container
that has run its imports and serves its first post); whatever that library loads lazily
on first use is part of the render. This module imports nothing else of the project's
at its top, so no case warms another's state.

CASE is one of CASES; DOCUMENT.json holds {"body": Markdown, "item": the post's index item,
"source": the post file's text, "pelican": Python-Markdown's settings}.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # at run time this module imports nothing of the project's before the clock starts
    from chalicelib.store import ContentStore, PostIndex

CASES = ("blog", "mistune", "markdown")


class MemoryIndex:
    """The one post a render needs, without AWS: no neighbours, no other posts of its tag."""

    def __init__(self, item: dict[str, Any]) -> None:
        self._item = item

    def post(self, slug: str) -> Any:
        """The post (chalicelib.model.PostRecord), if `slug` is ours."""
        from chalicelib import model

        return model.PostRecord.from_item(self._item) if slug == self._item["slug"] else None

    def redirect(self, path: str) -> None:
        """No old URLs here."""
        return None

    def neighbours(self, card: Any, upper: str) -> tuple[None, None]:
        """No other posts."""
        return None, None

    def group(self, group: str, upper: str, limit: int, after_sk: str | None = None) -> Any:
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
    """The in-memory index where Site expects the store's (a post page calls only these four)."""
    return cast("PostIndex", index)


def as_content(content: MemoryContent) -> ContentStore:
    """The in-memory content where Site expects the store's (it calls only read_version)."""
    return cast("ContentStore", content)


def prepare(case: str, document: dict[str, Any]) -> Callable[[], Any]:
    """Import the case's library and return its render, not yet run."""
    if case == "blog":
        from chalicelib import config
        from chalicelib.links import Links
        from chalicelib.site import Site

        item = document["item"]
        index, content = MemoryIndex(item), MemoryContent(document["source"].encode("utf-8"))
        site = Site(as_index(index), as_content(content), config.get_settings())
        links = Links(base_url="https://blog.example")
        return lambda: site.post(links, item["slug"]).body
    if case == "mistune":
        import mistune

        return lambda: mistune.html(document["body"])
    if case == "markdown":
        import markdown

        return lambda: markdown.Markdown(**document["pelican"]).convert(document["body"])
    raise SystemExit(f"unknown case {case!r}; choose from {', '.join(CASES)}")


def main(argv: list[str]) -> int:
    """Render once, print the CPU seconds the render took."""
    case, path = argv
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    render = prepare(case, document)
    started = time.process_time()
    render()
    print(time.process_time() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
