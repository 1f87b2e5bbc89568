"""Markdown to safe HTML, within a budget. Pure: no I/O.

The path of a body: shortcodes.expand (Hugo shortcodes, Liquid, kramdown IALs) →
mistune (raw HTML kept, GFM tables, footnotes, task lists) with the blog's renderer
(heading ids and anchors, bounded highlighting) → sanitizer.sanitize (the allow-lists)
→ _Decorator (URLs resolved against the post's assets and the site's base, image sizes,
lazy loading, srcset; images and links listed). Sanitizing comes before decorating,
and decorating only rewrites URL attributes and adds sizes, so no renderer bug and
no author's HTML can put script on a page.

Budget (issue 12): every published body costs at most MAX_RENDER_SECONDS of CPU and
renders to at most MAX_RENDERED_BYTES. Prevention first: mistune 3.4 and every step here
are linear in the body (1 MiB of each pathological input is in `make bench`), highlighting
is bounded (highlighting.py) and heading ids are unique in linear time; but linear is
not cheap (1 MiB of `*_` costs 7 s), so `check_render`, which ingest calls, first
counts the markup outside code (MAX_MARKUP_CHARS, deterministic, milliseconds) and only
then renders, against a deadline of INGEST_RENDER_SECONDS: half the budget, because CPU
time is noisy (a render measured at 1.1 s alone took 2.1 s while the machine was busy)
and a reader's Lambda may be slower than the editor's ingest. A post over any of these
is rejected with InvalidPost and its last good version stays online. A render cannot be
interrupted from outside (Lambda runs handlers in the main thread, but the local stack
runs ingest in a worker thread, where no signal reaches), so the parsers and the renderer
look at the deadline themselves, every few tokens: check_render stops there instead of
finishing a long render, and costs at most the deadline plus one token (a highlighted
block, bounded by highlighting.MAX_HIGHLIGHT_CHARS). HTML that could only end over
MAX_RENDERED_BYTES is refused before the sanitizer reads it, and what is accepted must
also fit an API answer once escaped (MAX_ANSWER_BYTES). `make bench` proves the figures:
markdown.check_cost, markdown.worst_render, markdown.largest_output and
markdown.largest_response.
"""
from __future__ import annotations

import functools
import html
import json
import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
import posixpath
from urllib.parse import unquote, urljoin, urlsplit

import mistune
from mistune.plugins import footnotes as mistune_footnotes
from mistune.plugins import table as mistune_table
from mistune.toc import normalize_toc_item, render_toc_ul

from chalicelib import highlighting, images, posts, shortcodes
from chalicelib.errors import InvalidPost, Problem
from chalicelib.highlighting import highlight
from chalicelib.sanitizer import sanitize, text_of_html

# Bump when the HTML this module produces changes, so cached pages are re-rendered.
RENDER_VERSION = "7"

# The budget of one body. A page is the body plus its template (a few KB). The API answers
# it as JSON inside Lambda's JSON, where a `"` or `\` costs 4 bytes and a non-ASCII character up
# to 3 times its UTF-8 (python3.11's runtime writes ASCII), so that size is checked too: what
# MAX_ANSWER_BYTES leaves of pages.MAX_RESPONSE_BYTES (6 MiB) is for the template or the API's
# other fields (`make bench`: markdown.largest_response).
MAX_RENDERED_BYTES = 2 * 1024 * 1024  # HTML + table of contents, UTF-8
MAX_ANSWER_BYTES = 5 * 1024 * 1024  # the same in an API answer inside Lambda's response (answer_bytes)
MAX_RENDER_SECONDS = 2.0  # CPU time of any render of a published body (a reader's page, API answer, feed entry)
INGEST_RENDER_SECONDS = MAX_RENDER_SECONDS / 2  # what ingest allows: the margin absorbs noise and slower CPUs
CHECK_EVERY_TOKENS = 32  # how often a render with a deadline reads the clock (one read costs about 1 µs)
# Markdown's cost is in its markup: each of these characters outside code may start a
# token, at up to ~7 µs each in mistune. Counted before rendering, so a pathological
# 1 MiB body (`*_` repeated: 7 s) is refused in milliseconds, deterministically.
MARKUP_CHARS = "*_[]!<>`\\&~|#-{}\n"
MAX_MARKUP_CHARS = 150_000
SUMMARY_SOURCE_CHARS = 16 * 1024  # a summary reads at most this much of the body

# Bare URLs become links too, but not through mistune's `url` plugin: see AutolinkingInlineParser.
PLUGINS = ("strikethrough", "task_lists")  # besides _ragged_table and _footnotes
# Hugo's goldmark, kramdown and PHP Markdown Extra read `[^1]:text` as a footnote's
# definition; mistune wants a space after the colon and would print the line as text.
FOOTNOTE_DEFINITION = mistune_footnotes.REF_FOOTNOTE.replace(r"]:[ \t\n]", r"]:[ \t\n]?")
_FOOTNOTE_KEY_RE = re.compile(r"^ {0,4}\[\^([^\]\s]{1,500})\]:", re.M)
_FOOTNOTE_REF_RE = re.compile(r"\[\^([^\]\s]{1,500})\]")
BARE_URL_RE = re.compile(r"""https?://[^\s<]+[^<.,:;"')\]\s]""")
_TRAILING_ENTITY_RE = re.compile(r"&[a-zA-Z0-9#]+$")
MORE_MARKER_RE = re.compile(r"<!--\s*more\s*-->", re.I)
TOC_MIN_LEVEL = 2
TOC_MAX_LEVEL = 3
TOC_MIN_HEADINGS = 3  # a table of contents only for posts long enough to need one
MAX_HEADING_ID_CHARS = 100
WORDS_PER_MINUTE = 220
SUMMARY_CHARS = 280

_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# Not text: NUL (CommonMark makes it U+FFFD), lone surrogates (they cannot be encoded) and the other
# C0 controls but tab, newline and CR and form feed: XML forbids them, and JSON writes each as six
# bytes, seven inside Lambda's response (1 MiB of them made a 7 MB API answer).
_NOT_TEXT_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\ud800-\udfff]")
_HEADING_ATTRS_RE = re.compile(r"\s*\{:?\s*((?:[#.][\w-]+\s*)+)\}\s*$")
_NOT_IN_ID_RE = re.compile(r"[^\w\- ]")
_PAGE_SUFFIX_RE = re.compile(r"\.(?:md|markdown|html?)$", re.I)
# Sanitized HTML is regular: double-quoted attribute values with `"`, `<` and `>` escaped.
_URL_TAG_RE = re.compile(r"<(a|img|source|video|audio|track)((?:\s[^>]*)?)>")
_ATTR_RE = re.compile(r'([^\s="]+)(?:="([^"]*)")?')
_DECORATION_RE = re.compile(r'<a class="anchor"[^>]*>#</a>|<a href="#fnref-[^"]*" class="footnote">[^<]*</a>')
# Pelican's links to other content: `{filename}/2013/post.md`, `{static}/images/a.png`, `|filename|…`.
_PELICAN_LINK_RE = re.compile(r"^(?:\{(filename|static|attach|index|tag|category)\}|\|(filename|static|attach)\|)(.*)$")
_RESOLVE_BASE = "http://old.invalid"  # a host for urljoin; only the path of the result is kept


@dataclass(frozen=True)
class RenderContext:
    """Where a body is shown and what it may refer to.

    asset_base: URL prefix of the post's own files (bare names and bundle subfolders).
    link_base: put before every root-relative URL (the site's base path, or its full URL in feeds).
    site_url: the site's absolute URL, for `{{ site.url }}` in text.
    params: the front matter, for Hugo's `param` and Liquid's `page.x`.
    image_sizes: asset name (as in the bundle, e.g. 'figures/5.png') -> (width, height);
        resized copies named by images.variant_of ('cat-480w.jpg') make a srcset.
    first_line: the body's first line in the source file, so warnings name file lines.
    page_path: an imported post's address on its old site ('/2013/04/20/x.html'): relative links
        to pages resolve against it, as the old site's readers' browsers did (the old URLs redirect).
    source_key: the post's key in the bucket: Pelican's `{filename}` links and links to other
        posts' Markdown files (`../other.md`) resolve against it.
    old_site_url: the imported site's address ('https://example.org/blog'): absolute links to it
        become links to this site, where its old URLs redirect and its files are served.
    """

    asset_base: str = ""
    link_base: str = ""
    site_url: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    image_sizes: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    first_line: int = 1
    page_path: str = ""
    source_key: str = ""
    old_site_url: str = ""


@dataclass(frozen=True)
class Rendered:
    """A post body as safe HTML, with its table of contents ('' when short) and what it holds."""

    html: str
    toc: str
    text: str = ""
    warnings: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # img srcs as the author wrote them, in order
    links: tuple[str, ...] = ()  # a hrefs as the author wrote them, in order

    @property
    def words(self) -> int:
        """Words in the visible text."""
        return count_words(self.text)

    @property
    def reading_minutes(self) -> int:
        """Minutes a reader needs, at WORDS_PER_MINUTE."""
        return reading_minutes(self.words)

    @property
    def size(self) -> int:
        """Bytes of HTML a page or an API answer carries for this body."""
        return len(self.html.encode("utf-8")) + len(self.toc.encode("utf-8"))


class OverBudget(Exception):
    """A render passed its deadline or its size limit (only check_render sets them); args[0] names which."""


class Stopwatch:
    """A render's limits (check_render's; none for a reader's render): a CPU-time deadline that its
    parsers and renderer look at every CHECK_EVERY_TOKENS tokens, and the characters of HTML
    Markdown may make, looked at before the sanitizer (which costs as much as the HTML is long)."""

    def __init__(self) -> None:
        self.deadline = math.inf
        self.max_html_chars = math.inf
        self._ticks = 0

    def tick(self) -> None:
        """Count one token; raise OverBudget if the deadline has passed."""
        self._ticks += 1
        if self._ticks >= CHECK_EVERY_TOKENS:
            self._ticks = 0
            self.check()

    def check(self) -> None:
        """Raise OverBudget if the deadline has passed."""
        if time.thread_time() > self.deadline:
            raise OverBudget("INGEST_RENDER_SECONDS")

    def check_html(self, html: str) -> None:
        """Raise OverBudget if Markdown made more HTML than allowed."""
        if len(html) > self.max_html_chars:
            raise OverBudget("MAX_RENDERED_BYTES")


class BlogRenderer(mistune.HTMLRenderer):
    """mistune's HTML renderer with the blog's additions, one method per token."""

    def __init__(self, stopwatch: Stopwatch | None = None) -> None:
        super().__init__(escape=False)
        self.stopwatch = stopwatch or Stopwatch()
        self.start_document()

    def render_token(self, token: dict[str, Any], state: mistune.BlockState) -> str:
        self.stopwatch.tick()
        return super().render_token(token, state)

    def start_document(self) -> None:
        """Forget the previous document's counts."""
        self.highlighted_chars = 0
        self.warnings: list[str] = []

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        anchor_id = attrs.get("id")
        if not anchor_id:
            return super().heading(text, level)
        label = self.escape_attribute("Link to section: " + html.unescape(mistune.util.striptags(text)))
        anchor = f' <a class="anchor" href="#{anchor_id}" aria-label="{label}">#</a>'
        return f'<h{level} id="{anchor_id}">{text}{anchor}</h{level}>\n'

    def block_code(self, code: str, info: str | None = None) -> str:
        language = info.strip().split(None, 1)[0] if info and info.strip() else ""
        language = html.unescape(language).strip("{}.")  # ```{.python} is pandoc's way
        if not language:
            return super().block_code(code)
        if not highlighting.can_highlight(language, code):
            if len(code) > highlighting.MAX_HIGHLIGHT_CHARS:
                self.warnings.append(f"a {language} code block of {len(code)} characters is shown without "
                                     f"highlighting (more than MAX_HIGHLIGHT_CHARS)")
            return highlighting.plain(code, language)
        if self.highlighted_chars + len(code) > highlighting.MAX_HIGHLIGHTED_CHARS:
            self.warnings.append("code past MAX_HIGHLIGHTED_CHARS in this post is shown without highlighting")
            return highlighting.plain(code, language)
        self.highlighted_chars += len(code)
        return highlight(code, language)

    def image(self, text: str, url: str, title: str | None = None) -> str:
        return super().image(text, url, title).replace(" />", ">")

    def table_cell(self, text: str, align: str | None = None, head: bool = False) -> str:
        # A class, not an inline style: the Content-Security-Policy forbids inline styles.
        tag = "th" if head else "td"
        css = f' class="align-{align}"' if align in ("left", "center", "right") else ""
        return f"  <{tag}{css}>{text}</{tag}>\n"


class AutolinkingInlineParser(mistune.InlineParser):
    """mistune's inline parser, turning bare http(s) URLs in text into links.

    mistune's `url` plugin does this as an inline rule, which turns off the parser's fast
    path for plain text and makes every paragraph four times slower. Here each text
    token is searched once, after parsing; link labels and code are left alone.
    """

    def __init__(self, stopwatch: Stopwatch | None = None) -> None:
        super().__init__()
        self.stopwatch = stopwatch or Stopwatch()

    def parse_method(self, m: re.Match[str], state: mistune.InlineState) -> int | None:
        self.stopwatch.tick()
        return super().parse_method(m, state)

    def parse(self, state: mistune.InlineState) -> list[dict[str, Any]]:
        self.stopwatch.tick()  # plain text has no tokens, and the heading ids parse every heading's text
        tokens = super().parse(state)
        if not state.in_link:
            state.tokens = tokens = _autolink(tokens)  # callers read state.tokens, not the result
        return tokens


class TimedBlockParser(mistune.BlockParser):
    """mistune's block parser, looking at the render's deadline at each block token."""

    def __init__(self, stopwatch: Stopwatch) -> None:
        super().__init__()
        self.stopwatch = stopwatch

    def parse_method(self, m: re.Match[str], state: mistune.BlockState) -> int | None:
        self.stopwatch.tick()
        return super().parse_method(m, state)


def _autolink(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    linked: list[dict[str, Any]] = []
    for token in tokens:
        if token["type"] == "text" and "http" in token["raw"]:
            linked += _split_urls(token)
            continue
        if token["type"] not in ("link", "image", "codespan") and "children" in token:
            token["children"] = _autolink(token["children"])
        linked.append(token)
    return linked


def _split_urls(token: dict[str, Any]) -> list[dict[str, Any]]:
    """A text token as text and link tokens, the way the `url` plugin would have made them."""
    parts, position, raw = [], 0, token["raw"]
    for found in BARE_URL_RE.finditer(raw):
        if found.start() < position:
            continue
        if found.start() > position:
            parts.append({**token, "raw": raw[position:found.start()]})
        url = _TRAILING_ENTITY_RE.sub("", found.group(0)) if raw.startswith(";", found.end()) else found.group(0)
        parts.append({"type": "link", "children": [{"type": "text", "raw": url}],
                      "attrs": {"url": mistune.util.escape_url(url)}})
        position = found.start() + len(url)  # a trailing entity (`&quot;`) is text, as GFM says
    if position < len(raw):
        parts.append({**token, "raw": raw[position:]})
    return parts


def _ragged_table(markdown: mistune.Markdown) -> None:
    """GFM tables as GitHub shows them: a row with fewer cells than the header is padded
    with empty ones, a row with more is cut (mistune drops such a table whole)."""
    markdown.block.register("table", mistune_table.TABLE_PATTERN, _parse_table, before="paragraph")
    markdown.block.register("nptable", mistune_table.NP_TABLE_PATTERN, _parse_nptable, before="paragraph")
    renderer = markdown.renderer
    assert renderer is not None  # _markdown() always gives one
    for name in ("table", "table_head", "table_body", "table_row"):
        renderer.register(name, getattr(mistune_table, f"render_{name}"))


def _footnotes(markdown: mistune.Markdown) -> None:
    """mistune's footnotes, with definitions read as the generators read them (FOOTNOTE_DEFINITION)."""
    mistune_footnotes.footnotes(markdown)
    markdown.block.register("ref_footnote", FOOTNOTE_DEFINITION, mistune_footnotes.parse_ref_footnote,
                            before="ref_link")


def _parse_table(block: Any, found: re.Match[str], state: mistune.BlockState) -> int | None:
    return _table(found, state, mistune_table._strip_pipe_table_row)


def _parse_nptable(block: Any, found: re.Match[str], state: mistune.BlockState) -> int | None:
    return _table(found, state, mistune_table._strip_table_line)


def _table(found: re.Match[str], state: mistune.BlockState, strip: Any) -> int | None:
    position = found.end()
    header = strip(found.group(0))
    align_line = state.get_line(position)
    align = strip(align_line) if header is not None else None
    if align is None:
        return None
    head, aligns = mistune_table._process_thead(header, align)
    if not head or aligns is None:
        return None
    position += len(align_line)
    rows = []
    while position < state.cursor_max:
        line = state.get_line(position)
        text = strip(line)
        if text is None:
            break
        cells = (mistune_table._split_table_cells(text) + [""] * len(aligns))[:len(aligns)]
        rows.append({"type": "table_row", "children": [
            {"type": "table_cell", "text": cell, "attrs": {"align": aligns[i], "head": False}}
            for i, cell in enumerate(cells)
        ]})
        position += len(line)
    state.append_token({"type": "table", "children": [head, {"type": "table_body", "children": rows}]})
    return position


_per_thread = threading.local()


def _markdown() -> mistune.Markdown:
    """This thread's Markdown parser: made once, since building one (and its compiled
    scanners) costs as much as parsing a short post."""
    markdown = getattr(_per_thread, "markdown", None)
    if markdown is None:
        stopwatch = Stopwatch()  # one deadline for the three: see check_render
        markdown = mistune.Markdown(
            renderer=BlogRenderer(stopwatch),
            block=TimedBlockParser(stopwatch),
            inline=AutolinkingInlineParser(stopwatch),
            plugins=[_ragged_table, _footnotes, *(mistune.plugins.import_plugin(name) for name in PLUGINS)],  # type: ignore[list-item]
        )
        markdown.before_render_hooks.append(_heading_ids)
        _per_thread.markdown = markdown
    return markdown


def _tree_parser() -> mistune.Markdown:
    """This thread's parser to a token tree (for summaries): made once, like _markdown."""
    parser = getattr(_per_thread, "tree", None)
    if parser is None:
        parser = mistune.create_markdown(renderer=None, plugins=["table", _footnotes, *PLUGINS])  # type: ignore[list-item]
        _per_thread.tree = parser
    return parser


def _heading_ids(markdown: mistune.Markdown, state: mistune.BlockState) -> None:
    """Give every heading an id as GitHub, Hugo and kramdown make it ('## Getting started'
    -> 'getting-started'; `{#custom}` wins); list levels 2-3 in state.env['toc_items']."""
    ids = _HeadingIds()
    items = []
    for token in state.tokens:
        if token["type"] != "heading":
            continue
        explicit = _HEADING_ATTRS_RE.search(token["text"])
        if explicit:
            token["text"] = token["text"][:explicit.start()]
            named = re.search(r"#([\w-]+)", explicit.group(1))
            token["attrs"]["id"] = ids.claim(named.group(1)) if named else ""
        level = token["attrs"]["level"]
        if not token["attrs"].get("id"):
            token["attrs"]["id"] = "-"  # normalize_toc_item reads one; the real one needs the text
            _, _, text = normalize_toc_item(markdown, token, parent=state)
            token["attrs"]["id"] = ids.claim(heading_id(html.unescape(text)))
            if TOC_MIN_LEVEL <= level <= TOC_MAX_LEVEL:
                items.append((level, token["attrs"]["id"], text))
        elif TOC_MIN_LEVEL <= level <= TOC_MAX_LEVEL:
            items.append(normalize_toc_item(markdown, token, parent=state))
    state.env["toc_items"] = items


def heading_id(text: str) -> str:
    """GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces as hyphens."""
    slug = _NOT_IN_ID_RE.sub("", text.strip().lower()).replace(" ", "-")
    return slug[:MAX_HEADING_ID_CHARS] or "section"


class _HeadingIds:
    """Unique ids in linear time: 'intro', 'intro-1', 'intro-2', as GitHub numbers repeats."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def claim(self, base: str) -> str:
        """`base`, or the first free `base-N`; each base remembers where its count got to."""
        if base not in self._used:
            self._used.add(base)
            return base
        n = self._next.get(base, 1)
        while f"{base}-{n}" in self._used:
            n += 1
        self._next[base] = n + 1
        self._used.add(f"{base}-{n}")
        return f"{base}-{n}"


class _Decorator:
    """The pass over sanitized HTML: URLs resolved, image sizes and loading, what the body links to."""

    def __init__(self, context: RenderContext) -> None:
        self.context = context
        self.asset_base = context.asset_base.rstrip("/")
        self.link_base = context.link_base.rstrip("/")
        self.images: list[str] = []
        self.links: list[str] = []
        self._variants: dict[str, list[tuple[int, str]]] | None = None
        old = urlsplit(context.old_site_url) if context.old_site_url else None
        self._old_host = old.netloc.lower() if old and old.scheme in ("http", "https") else ""

    def __call__(self, fragment: str) -> str:
        return _URL_TAG_RE.sub(self._tag, fragment) if "<" in fragment else fragment

    def _tag(self, found: re.Match[str]) -> str:
        tag = found.group(1)
        attrs = {name: value for name, value in _ATTR_RE.findall(found.group(2))}
        if tag == "a":
            href = attrs.get("href")
            if href is None:
                return found.group(0)
            if "anchor" not in attrs.get("class", "") and "footnote" not in attrs.get("class", "") \
                    and not href.startswith(("#fn-", "#fnref-")):
                self.links.append(html.unescape(href))
            attrs["href"] = self._url(href, page=True)
        else:
            if tag == "img" and "src" in attrs:
                self.images.append(unquote(html.unescape(attrs["src"])))  # mistune %-encodes spaces
                self._image(attrs)
            for name in ("src", "poster"):
                if name in attrs:
                    attrs[name] = self._url(attrs[name])
            if "srcset" in attrs:
                attrs["srcset"] = ", ".join(self._candidate(part) for part in attrs["srcset"].split(","))
        rendered = "".join(f' {name}="{value}"' if value is not None else f" {name}"
                           for name, value in attrs.items())
        return f"<{tag}{rendered}>"

    def _image(self, attrs: dict[str, str]) -> None:
        """Size from the bundle, srcset from its resized copies, and lazy loading after the first."""
        name = _asset_name(unquote(html.unescape(attrs["src"])))
        size = self.context.image_sizes.get(name) if name else None
        if size and "width" not in attrs and "height" not in attrs:
            attrs["width"], attrs["height"] = str(size[0]), str(size[1])
        variants = self._variants_of(name) if name else []
        if variants and "srcset" not in attrs:
            candidates = [f"{html.escape(variant)} {width}w" for width, variant in variants]  # resolved below
            if size:
                candidates.append(f"{attrs['src']} {size[0]}w")
            attrs["srcset"] = ", ".join(candidates)
            attrs.setdefault("sizes", "(max-width: 48rem) 100vw, 48rem")
        if len(self.images) == 1:
            attrs["fetchpriority"] = "high"  # the first image is likely the largest thing in view
        else:
            attrs["loading"] = "lazy"
        attrs.setdefault("decoding", "async")

    def _variants_of(self, name: str) -> list[tuple[int, str]]:
        if self._variants is None:
            self._variants = {}
            for asset in self.context.image_sizes:
                variant = images.variant_of(asset)
                if variant:
                    self._variants.setdefault(variant[0], []).append((variant[1], asset))
            for found in self._variants.values():
                found.sort()
        return self._variants.get(name, [])

    def _candidate(self, part: str) -> str:
        """One srcset candidate, 'cat-480w.jpg 480w', with its URL resolved."""
        url, _, descriptor = part.strip().partition(" ")
        return f"{self._url(url)} {descriptor.strip()}".rstrip()

    def _url(self, value: str, page: bool = False) -> str:
        """Root-relative URLs get the site's base; bare names and subfolders are the post's files.

        A relative link to a page (`other.md`, `../x/`) resolves against the post's old address
        when it was imported (else it is left as written); one to a file (`paper.pdf`) is a file
        of the post's bundle, as in Hugo. Pelican's `{filename}`/`{static}` links name content.
        """
        url = html.unescape(value)
        if self._old_host and url.lower().startswith(("http://", "https://", "//")):
            old = urlsplit(url if not url.startswith("//") else "http:" + url)
            if old.netloc.lower() == self._old_host:  # the imported site's own address: its page here
                url = resolve_relative("/", (old.path or "/") + (f"?{old.query}" if old.query else "")
                                       + (f"#{old.fragment}" if old.fragment else ""))
        if not url or _SCHEME_RE.match(url) or url.startswith(("#", "//", "?")):
            return value
        generated = _PELICAN_LINK_RE.match(unquote(url))
        if generated:
            return html.escape(self.link_base + self._content_link(generated.group(1) or generated.group(2),
                                                                   generated.group(3)))
        if url.startswith("/"):
            return html.escape(self.link_base + url)
        name = _asset_name(url)
        if page and (name is None or _PAGE_SUFFIX_RE.search(name.partition("#")[0]) or "." not in name):
            resolved = self._from_old_page(url)
            return html.escape(self.link_base + resolved) if resolved else value
        if not name or not self.asset_base:  # no bundle to point at: relative to the old page, if any
            resolved = self._from_old_page(url) if name is None else None
            return html.escape(self.link_base + resolved) if resolved else value
        return html.escape(f"{self.asset_base}/{name}")

    def _from_old_page(self, url: str) -> str | None:
        """A relative link of an imported post, as its old page resolved it (None when not imported).

        A link to a Markdown file is a link to that post: its file's name makes the slug.
        """
        if not self.context.page_path:
            return None
        path, _, fragment = url.partition("#")
        if _PAGE_SUFFIX_RE.search(path) and not path.lower().endswith((".html", ".htm")):
            return self._content_link("filename", path + (f"#{fragment}" if fragment else ""))
        return resolve_relative(self.context.page_path, url)

    def _content_link(self, kind: str, target: str) -> str:
        """Pelican's `{filename}x`, `{static}x`, `{tag}x`…: from the content root, or from the post's folder."""
        path, _, fragment = target.partition("#")
        suffix = f"#{fragment}" if fragment else ""
        if kind == "index":
            return "/" + suffix
        if kind in ("tag", "category"):
            return f"/tags/{posts.slugify(path)}{suffix}"
        folder = posixpath.dirname(self.context.source_key.removeprefix(posts.POSTS_PREFIX))
        relative = posixpath.normpath(path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path))
        relative = "/".join(part for part in relative.split("/") if part not in ("..", "."))  # never above the root
        if kind == "filename" and posts.is_post_key(posts.POSTS_PREFIX + relative):
            return f"/posts/{posts.slug_from_key(posts.POSTS_PREFIX + relative)}{suffix}"
        return f"/{relative}{suffix}"


def resolve_relative(page_path: str, url: str) -> str:
    """A relative URL as a browser resolves it on the page at `page_path` (a root-relative path, query, fragment)."""
    resolved = urlsplit(urljoin(_RESOLVE_BASE + page_path, url))
    return resolved.path + (f"?{resolved.query}" if resolved.query else "") + (
        f"#{resolved.fragment}" if resolved.fragment else "")


def _asset_name(url: str) -> str | None:
    """The bundle file a relative URL names ('./figures/5.png' -> 'figures/5.png'); None if it leaves the bundle."""
    if not url or _SCHEME_RE.match(url) or url.startswith(("/", "#", "?")):
        return None
    parts = [part for part in url.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def render(body: str, context: RenderContext) -> Rendered:
    """Render a post body to sanitized HTML, its table of contents, text and references."""
    markdown = _markdown()
    renderer: BlogRenderer = markdown.renderer  # type: ignore[assignment]
    renderer.start_document()
    body = _NOT_TEXT_RE.sub("\ufffd", body)
    expanded = shortcodes.expand(body, params=context.params, site_url=context.site_url,
                                 first_line=context.first_line, markdownify=_markdownify)
    renderer.stopwatch.check()
    body_html, state = markdown.parse(expanded.markdown)
    renderer.stopwatch.check()  # before sanitizing what may be megabytes
    renderer.stopwatch.check_html(str(body_html))
    toc_items = state.env.get("toc_items", [])
    toc = render_toc_ul(toc_items) if len(toc_items) >= TOC_MIN_HEADINGS else ""
    decorate = _Decorator(context)
    safe = decorate(sanitize(str(body_html)))
    return Rendered(
        html=safe,
        toc=sanitize(toc) if toc else "",  # only #fragment links: nothing to resolve
        text=text_of_html(_DECORATION_RE.sub("", safe)),
        warnings=expanded.warnings + tuple(renderer.warnings),
        images=tuple(decorate.images),
        links=tuple(decorate.links),
    )


def render_markdown(body: str, asset_base: str = "", link_base: str = "", *, site_url: str = "",
                    params: Mapping[str, Any] | None = None,
                    image_sizes: Mapping[str, tuple[int, int]] | None = None, first_line: int = 1,
                    page_path: str = "", source_key: str = "", old_site_url: str = "") -> Rendered:
    """Render a post body to sanitized HTML plus a table of contents (see RenderContext)."""
    return render(body, RenderContext(asset_base, link_base, site_url, params or {}, image_sizes or {}, first_line,
                                      page_path, source_key, old_site_url))


def markup_chars(body: str) -> int:
    """How many characters outside code blocks and spans could start a Markdown token."""
    outside, position = [], 0
    for start, end in shortcodes.code_regions(body):
        outside.append(body[position:start])
        position = max(position, end)
    outside.append(body[position:])
    text = "".join(outside)
    return sum(text.count(char) for char in MARKUP_CHARS)


def check_render(body: str, context: RenderContext | None = None) -> Rendered:
    """Render as ingest must: raise InvalidPost if the body is over MAX_MARKUP_CHARS (counted
    first, without rendering), INGEST_RENDER_SECONDS (the render stops there), MAX_RENDERED_BYTES or
    MAX_ANSWER_BYTES."""
    started = time.thread_time()  # the deadline counts the markup count too
    markup = markup_chars(body)
    if markup > MAX_MARKUP_CHARS:
        raise InvalidPost([Problem(f"the body has {markup:,} Markdown markup characters outside code, more "
                                   f"than MAX_MARKUP_CHARS ({MAX_MARKUP_CHARS:,}): split it or simplify it")])
    stopwatch = _stopwatch()
    stopwatch.deadline = started + INGEST_RENDER_SECONDS
    # The sanitizer only takes out what the author wrote, at most the whole body: more HTML than
    # this leaves more than MAX_RENDERED_BYTES after it, so it is refused before sanitizing.
    stopwatch.max_html_chars = MAX_RENDERED_BYTES + len(body)
    over, rendered = "", None
    try:
        rendered = render(body, context or RenderContext())
    except OverBudget as err:
        over = str(err)
    finally:
        stopwatch.deadline = stopwatch.max_html_chars = math.inf
    spent = time.thread_time() - started
    if over == "INGEST_RENDER_SECONDS" or spent > INGEST_RENDER_SECONDS:
        raise InvalidPost([Problem(f"the body needs more than {INGEST_RENDER_SECONDS:g} s of CPU to render "
                                   f"(INGEST_RENDER_SECONDS, stopped after {spent:.1f} s): split it or simplify it")])
    if rendered is None or rendered.size > MAX_RENDERED_BYTES:
        size = f"{rendered.size:,} bytes of HTML" if rendered else "more HTML"
        raise InvalidPost([Problem(f"the body renders to {size}, more than MAX_RENDERED_BYTES "
                                   f"({MAX_RENDERED_BYTES:,}): split it or shorten it")])
    answer = answer_bytes(rendered)
    if answer > MAX_ANSWER_BYTES:
        raise InvalidPost([Problem(f"the body's HTML takes {answer:,} bytes in an API answer (escaped as JSON), "
                                   f"more than MAX_ANSWER_BYTES ({MAX_ANSWER_BYTES:,}): split it or shorten it")])
    return rendered


def answer_bytes(rendered: Rendered) -> int:
    """Bytes of a body's HTML and table of contents in an API answer as Lambda sends it: JSON (non-ASCII
    kept) inside JSON written as ASCII. A page escapes every character to at most as many bytes."""
    return sum(len(json.dumps(json.dumps(part, ensure_ascii=False))) for part in (rendered.html, rendered.toc))


def _stopwatch() -> Stopwatch:
    """The deadline this thread's renders look at."""
    renderer = _markdown().renderer
    assert isinstance(renderer, BlogRenderer)
    return renderer.stopwatch


@functools.lru_cache(maxsize=256)
def _markdownify(text: str) -> str:
    """Inline Markdown (a figure's caption) as HTML, as Hugo's `markdownify` makes it."""
    if not text:
        return ""
    parser = _tree_parser()
    tokens = parser.inline(text, {})
    return _inline_renderer()(tokens, mistune.BlockState())


@functools.lru_cache(maxsize=1)
def _inline_renderer() -> mistune.HTMLRenderer:
    return mistune.HTMLRenderer(escape=True)


def count_words(text: str) -> int:
    """Words in plain text, as a reader would count them."""
    return len(text.split())


def reading_minutes(words: int) -> int:
    """Minutes to read `words` words; never less than one."""
    return max(1, round(words / WORDS_PER_MINUTE))


def teaser(body: str) -> str | None:
    """The Markdown before `<!--more-->`, if the body has the marker."""
    found = MORE_MARKER_RE.search(body)
    return body[:found.start()] if found else None


def summarize(markdown: str, limit: int = SUMMARY_CHARS) -> str:
    """Plain text of the paragraphs of a body (of its teaser, before `<!--more-->`), cut at a word near `limit`.

    Reads at most SUMMARY_SOURCE_CHARS of the body; headings, code and tables are not summary.
    """
    source = teaser(_NOT_TEXT_RE.sub("\ufffd", markdown))
    source = (markdown if source is None else source)[:SUMMARY_SOURCE_CHARS]
    expanded = shortcodes.expand(source).markdown
    tokens = _tree_parser()(expanded)
    pieces: list[str] = []
    length = 0
    for text in _paragraph_texts(tokens):
        pieces.append(text)
        length += len(text) + 1
        if length > limit:
            break
    # A footnote's mark is no summary text, even when its note is past the teaser or the part read.
    notes = set(_FOOTNOTE_KEY_RE.findall(markdown))
    text = _FOOTNOTE_REF_RE.sub(lambda ref: "" if ref.group(1) in notes else ref.group(), " ".join(pieces))
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.!?—-") + "…"


def _paragraph_texts(tokens: Any) -> Any:
    """Each paragraph's text, in order, looking into lists and quotes."""
    for token in tokens:
        if not isinstance(token, dict):
            continue
        kind = token.get("type")
        if kind in ("paragraph", "block_text"):
            text = _token_text(token).strip()
            if text:
                yield text
        elif kind in ("list", "list_item", "block_quote"):
            yield from _paragraph_texts(token.get("children", []))


def _token_text(token: dict[str, Any]) -> str:
    kind = token.get("type")
    if kind in ("softbreak", "linebreak"):
        return " "
    if kind in ("inline_html", "block_html", "image", "footnote_ref"):
        return ""
    if "raw" in token:
        return html.unescape(str(token["raw"]))
    return "".join(_token_text(child) for child in token.get("children", []))
