"""The renderer against the CommonMark spec and against hostile bodies.

1. CommonMark 0.31.2: every example of the spec through the blog's renderer and through
   raw mistune, compared after normalizing the HTML. The blog's own decorations (heading
   ids and anchors, image loading and sizes) are taken out first; where the spec's own
   expected HTML is something the sanitizer must change (script, unknown tags, comments,
   unsafe URLs), the sanitized expectation counts. The spec comes from the npm package
   `commonmark-spec@0.31.2` (fetched with `npm pack` into a cache folder at bench time;
   its text is not in the repository).
2. Adversarial corpus: bodies of the inputs issue 12 names (each as large as an upload
   may be), highlighting bombs for every allowed lexer, shortcode and tag floods, text
   that JSON escapes many times over, plus seeded random Markdown-ish text, each as
   uploaded and cut to what check_render's markup count lets through: ingest's gate,
   what it accepts and the responses those make, against the budgets (bench/budgets.py).
"""
from __future__ import annotations

import random
import re
import subprocess
import tarfile
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import mistune

from bench import budgets
from bench.figures import Figure, failed, judged
from bench.world import World
from chalicelib import feeds, highlighting, posts, render, sanitizer

SPEC_PACKAGE = "commonmark-spec@0.31.2"
SPEC_CACHE = Path(tempfile.gettempdir()) / "blog-bench-commonmark-spec-0.31.2.txt"
FENCE = "`" * 32
MIB = 1024 * 1024
BODY_BYTES = posts.MAX_SOURCE_BYTES - 1024  # the largest body an upload holds, with room for its front matter
RANDOM_BODIES = 300
DECORATION_ATTRS = {"loading", "decoding", "fetchpriority", "width", "height", "srcset", "sizes"}


def spec_text() -> str:
    """The spec's text, from the pinned npm package (cached between runs)."""
    if not SPEC_CACHE.exists():
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run(["npm", "pack", SPEC_PACKAGE, "--silent"], cwd=folder, check=True,
                           capture_output=True, timeout=120)
            archive = next(Path(folder).glob("commonmark-spec-*.tgz"))
            with tarfile.open(archive) as tar:
                member = tar.extractfile("package/spec.txt")
                assert member is not None
                SPEC_CACHE.write_bytes(member.read())
    return SPEC_CACHE.read_text(encoding="utf-8")


def examples(text: str) -> list[tuple[int, str, str]]:
    """(number, markdown, expected html) of each example; '→' in the spec stands for a tab."""
    found = []
    pattern = re.compile(rf"^{FENCE} example\n(.*?)^\.\n(.*?)^{FENCE}$", re.M | re.S)
    for number, match in enumerate(pattern.finditer(text), start=1):
        found.append((number, match.group(1).replace("→", "\t"), match.group(2).replace("→", "\t")))
    return found


class _Normal(HTMLParser):
    """HTML as a list of events: tags with sorted attributes, text with white space collapsed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[str] = []
        self.skip = 0
        self.dropped: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("class") == "anchor":  # the blog's heading anchor
            self.skip += 1
            return
        if tag == "span" or (tag == "div" and values.get("class") == "highlight"):  # highlighting
            self.dropped.append(tag)
            return
        href = values.get("href") or ""
        if tag == "a" and href.startswith(("http:", "https:")):
            self.links.append(href)  # a bare URL the blog links: compared as text
            self.dropped.append("a")
            return
        if tag == "code":
            values.pop("class", None)  # the language class, or Pygments' markup
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            values.pop("id", None)
        if tag == "img":
            values = {k: v for k, v in values.items() if k not in DECORATION_ATTRS}
        self.events.append(f"<{tag} {sorted(values.items())}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.skip and tag == "a":
            self.skip -= 1
            return
        if tag in ("span", "div", "a") and tag in self.dropped:
            self.dropped.remove(tag)
            return
        self.events.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.events.append("\x00" + data)  # raw: merged with its neighbours, then collapsed


def normal(html: str) -> list[str]:
    parser = _Normal()
    parser.feed(html)
    parser.close()
    merged: list[str] = []
    for event in parser.events:  # text split by dropped tags is one text again
        if event.startswith("\x00") and merged and merged[-1].startswith("\x00"):
            merged[-1] += event[1:]
        else:
            merged.append(event)
    texts = [" ".join(e[1:].split()) if e.startswith("\x00") else e for e in merged]
    return [text for text in texts if text]


def commonmark() -> tuple[dict[str, Any], list[int]]:
    """Counts of examples passed; the numbers mistune passes and the blog does not."""
    cases = examples(spec_text())
    raw = mistune.create_markdown(escape=False)
    counts = {"examples": len(cases), "mistune": 0, "blog": 0, "blog_as_sanitized": 0}
    lost = []
    for number, markdown, expected in cases:
        wanted = normal(expected)
        mistune_ok = normal(str(raw(markdown))) == wanted
        blog = normal(render.render_markdown(markdown).html)
        blog_ok = blog == wanted
        sanitized_ok = not blog_ok and blog == normal(sanitizer.sanitize(expected))
        counts["mistune"] += mistune_ok
        counts["blog"] += blog_ok
        counts["blog_as_sanitized"] += sanitized_ok
        if mistune_ok and not (blog_ok or sanitized_ok):
            lost.append(number)
    return counts, lost


def adversarial_bodies() -> dict[str, str]:
    """Bodies an attacker or an unlucky editor could upload (issue 12), each about 1 MiB unless noted."""
    bodies = {
        "star_underscore": "*_" * (MIB // 2),
        "bracket_star": "[*[*" * (MIB // 4),
        "nested_lists": "".join("  " * (i % 400) + "- x\n" for i in range(MIB // 600)),
        "list_markers": "- " * (MIB // 2),
        "ordered_markers": "1. " * (MIB // 3),
        "quote_markers": ">" * MIB,
        "long_table": "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * (MIB // 10),
        "reference_links": "".join(f"[l{i}]: /u{i}\n" for i in range(MIB // 24))
                           + "".join(f"[l{i}] " for i in range(MIB // 24)),
        "task_lists": "- [x] t\n" * (MIB // 8),
        "same_headings_14000": "## a\n" * 14_000,
        "headings": "## a\n" * (MIB // 5),
        "emphasis_runs": "**a" * (MIB // 3),
        "open_links": "[a](" * (MIB // 4),
        "html_openers": "<a " * (MIB // 3),
        "comments": "<!--" * (MIB // 4),
        "backtick_runs": "".join("`" * (i % 50 + 1) + " " for i in range(MIB // 27)),
        "hugo_openers": "{{< " * (MIB // 4),
        "liquid_openers": "{% " * (MIB // 3),
        "liquid_highlight_openers": "{% highlight x %}" * (MIB // 17),
        "ial_openers": "{: " * (MIB // 3),
        "entities": "&amp;" * (MIB // 5),
        "code_listing": "```python\n" + "x = 1  # a line of code\n" * (MIB // 24) + "```\n",
        "easytrieve_tabs": "```easytrieve\n" + "\t" * 2_200 + "\n```\n",
        # JSON escapes these in the API answer, and again in Lambda's response envelope
        "quotes_in_code": "```\n" + ('"\\' * 40 + "\n") * (MIB // 81) + "```\n",
        "controls_in_code": "```\n" + ("\x01\x1b\x7f" * 30 + "\n") * (MIB // 91) + "```\n",
        "cjk_prose": ("文字化けしない段落。" * 30 + "\n\n") * (MIB // 902),
        "astral_prose": ("\U0001f600" * 60 + "\n\n") * (MIB // 242),
        "astral_headings": ("## " + "\U0001f600" * 200 + "\n") * 790,  # three copies each: just under 2 MiB
    }
    per_lexer = highlighting.MAX_HIGHLIGHTED_CHARS - 100  # as much as one post may highlight
    for lexer in sorted(highlighting.ALLOWED_LEXERS):
        for name, unit in (("tabs", "a\t\n"), ("comment", "/*\n"), ("string", '"\n'), ("paren", "(")):
            bodies[f"lexer_{lexer}_{name}"] = f"```{lexer}\n{(unit * per_lexer)[:per_lexer]}\n```\n"
    for n in range(feeds.FEED_SIZE):  # a feed's worth of posts just small enough to be shown whole in it
        paragraph = f"Entry {n} of a feed: " + "plain words and more words " * 20 + "\n\n"
        bodies[f"feed_entry_{n:02d}"] = paragraph * ((feeds.MAX_ENTRY_HTML_BYTES - 4096) // len(paragraph))
    return {name: _at_most(body, BODY_BYTES) for name, body in bodies.items()}


def _at_most(text: str, size: int) -> str:
    """The longest start of `text` of at most `size` bytes of UTF-8."""
    return text.encode("utf-8")[:size].decode("utf-8", "ignore")


def random_bodies(count: int, seed: int = 12) -> dict[str, str]:
    """Seeded Markdown-ish text: pieces of syntax, HTML, shortcodes and attacks."""
    pieces = list("ab *_[]()!<>`~#-|:{}%/\\\"'=&;\n\t1.") + [
        "<script>", "javascript:", "<img src=x onerror=", "{{< ", " >}}", "{% ", " %}", "{: ", "<iframe src=",
        "https://", "<!--", "-->", "```", "<a href=", "\n\n", "figure src=", "## ", "> ", "- ", "1. ", "| a |"]
    generator = random.Random(seed)
    return {f"random_{n}": "".join(generator.choice(pieces) for _ in range(generator.randint(1, 4000)))
            for n in range(count)}


def at_the_cap(body: str) -> str:
    """The longest start of `body` that check_render's markup count lets through."""
    count = render.markup_chars(body)
    if count <= render.MAX_MARKUP_CHARS:
        return body
    cut = body[:int(len(body) * render.MAX_MARKUP_CHARS / count)]
    while render.markup_chars(cut) > render.MAX_MARKUP_CHARS:
        cut = cut[:int(len(cut) * 0.99)]
    return cut


def run(world: World) -> list[Figure]:
    """The spec count, and the budgets on the adversarial corpus."""
    found: list[Figure] = []
    try:
        counts, lost = commonmark()
        effective = counts["blog"] + counts["blog_as_sanitized"]
        found.append(judged(
            "markdown.commonmark", "CommonMark 0.31.2 examples passed: blog vs raw mistune",
            f"blog {effective} of {counts['examples']} ({counts['blog']} as specified, "
            f"{counts['blog_as_sanitized']} as the sanitizer must change them) vs mistune {counts['mistune']}; "
            f"mistune-only: {len(lost)}",
            "≥ mistune's count", effective >= counts["mistune"], lost=lost, **counts))
    except (OSError, subprocess.SubprocessError, StopIteration) as err:
        found.append(failed("markdown.commonmark", "CommonMark 0.31.2 examples passed", "≥ mistune's count",
                            f"no spec ({type(err).__name__}: {err})"))
    corpus = {**adversarial_bodies(), **random_bodies(RANDOM_BODIES)}
    found += budgets.run(world, corpus, {name: at_the_cap(body) for name, body in corpus.items()})
    return found
