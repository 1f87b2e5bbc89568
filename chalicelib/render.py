"""Markdown to safe HTML. Pure: no I/O.

mistune parses with raw HTML escaped; the renderer adds heading anchors, Pygments
highlighting with CSS classes and asset URLs; nh3 then sanitizes the result against
the allow-lists below, so even a renderer bug cannot put script on a page.
"""
from __future__ import annotations

import functools
import html
import re
import threading
from dataclasses import dataclass
from typing import Any

import mistune
import nh3
from mistune.toc import normalize_toc_item, render_toc_ul

from chalicelib.posts import slugify

# Bump when the HTML this module produces changes, so cached pages are re-rendered.
RENDER_VERSION = "3"

# Bare URLs become links too, but not through mistune's `url` plugin: see AutolinkingInlineParser.
PLUGINS = ("table", "footnotes", "strikethrough", "task_lists")
BARE_URL_RE = re.compile(r"""https?://[^\s<]+[^<.,:;"')\]\s]""")
TOC_MIN_LEVEL = 2
TOC_MAX_LEVEL = 3
TOC_MIN_HEADINGS = 3  # a table of contents only for posts long enough to need one
WORDS_PER_MINUTE = 220
SUMMARY_CHARS = 280

# Security rules: what survives sanitizing. No script, style or event handler
# attributes; URLs only with these schemes (relative URLs stay).
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "kbd", "li",
    "mark", "nav", "ol", "p", "pre", "s", "section", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id"},
    "a": {"href", "title", "aria-label"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "input": {"disabled", "checked"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
ALLOWED_INPUT_TYPES = {"input": {"type": {"checkbox"}}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
CLEAN_CONTENT_TAGS = frozenset({"script", "style"})

_SANITIZER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    tag_attribute_values={t: {a: set(v) for a, v in attrs.items()} for t, attrs in ALLOWED_INPUT_TYPES.items()},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    clean_content_tags=set(CLEAN_CONTENT_TAGS),
    link_rel=None,
)
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags=set(CLEAN_CONTENT_TAGS))
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class Rendered:
    """A post body as safe HTML, with its table of contents ('' when short)."""

    html: str
    toc: str

    warnings: tuple[str, ...] = ()

    @functools.cached_property
    def text(self) -> str:
        """The visible text, made on first use: ingest needs it, page views do not."""
        return text_of_html(self.html)

    @functools.cached_property
    def words(self) -> int:
        """Words in the text, counted on first use."""
        return count_words(self.text)

    @property
    def reading_minutes(self) -> int:
        """Minutes a reader needs, at WORDS_PER_MINUTE."""
        return reading_minutes(self.words)


class BlogRenderer(mistune.HTMLRenderer):
    """mistune's HTML renderer with the blog's additions, one method per token."""

    def __init__(self) -> None:
        super().__init__(escape=True)
        self.use_bases("", "")

    def use_bases(self, asset_base: str, link_base: str) -> None:
        """Where the next document's bare file names and root-relative links point."""
        self._asset_base = asset_base.rstrip("/")
        self._link_base = link_base.rstrip("/")

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        anchor_id = attrs.get("id")
        if not anchor_id:
            return super().heading(text, level)
        label = self.escape_attribute("Link to section: " + html.unescape(mistune.util.striptags(text)))
        anchor = f' <a class="anchor" href="#{anchor_id}" aria-label="{label}">#</a>'
        return f'<h{level} id="{anchor_id}">{text}{anchor}</h{level}>\n'

    def block_code(self, code: str, info: str | None = None) -> str:
        language = (info or "").strip().split(None, 1)[0] if info and info.strip() else ""
        return highlight(code, language) if language else super().block_code(code)

    def image(self, text: str, url: str, title: str | None = None) -> str:
        return super().image(text, self._local_url(url, self._asset_base), title).replace(
            " />", ' loading="lazy" />'
        )

    def link(self, text: str, url: str, title: str | None = None) -> str:
        return super().link(text, self._local_url(url, None), title)

    def table_cell(self, text: str, align: str | None = None, head: bool = False) -> str:
        # A class, not an inline style: the Content-Security-Policy forbids inline styles.
        tag = "th" if head else "td"
        css = f' class="align-{align}"' if align in ("left", "center", "right") else ""
        return f"  <{tag}{css}>{text}</{tag}>\n"

    def _local_url(self, url: str, relative_base: str | None) -> str:
        """Root-relative URLs get the site's base path; bare file names are the post's assets."""
        if _SCHEME_RE.match(url) or url.startswith(("#", "//", "?")) or not url:
            return url
        if url.startswith("/"):
            return self._link_base + url
        return f"{relative_base}/{url}" if relative_base is not None else url


class AutolinkingInlineParser(mistune.InlineParser):
    """mistune's inline parser, turning bare http(s) URLs in text into links.

    mistune's `url` plugin does this as an inline rule, which turns off the parser's fast
    path for plain text and makes every paragraph four times slower. Here each text
    token is searched once, after parsing; link labels and code are left alone.
    """

    def parse(self, state: mistune.InlineState) -> list[dict[str, Any]]:
        tokens = super().parse(state)
        if not state.in_link:
            state.tokens = tokens = _autolink(tokens)  # callers read state.tokens, not the result
        return tokens


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
        if found.start() > position:
            parts.append({**token, "raw": raw[position:found.start()]})
        url = found.group(0)
        parts.append({"type": "link", "children": [{"type": "text", "raw": url}],
                      "attrs": {"url": mistune.util.escape_url(url)}})
        position = found.end()
    if position < len(raw):
        parts.append({**token, "raw": raw[position:]})
    return parts


@functools.lru_cache(maxsize=256)
def highlight(code: str, language: str) -> str:
    """Code as Pygments HTML with CSS classes (no inline styles); plain if the language is unknown.

    Cached: a post's page, its feed entry and its API answer highlight the same blocks.
    """
    from pygments import highlight as pygments_highlight  # imported on the first code block only
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return f'<pre><code class="language-{mistune.util.escape(language)}">{mistune.util.escape(code)}</code></pre>\n'
    return pygments_highlight(code, lexer, _code_formatter())


@functools.lru_cache(maxsize=1)
def _code_formatter() -> Any:
    """The one HTML formatter for code blocks: making one builds a whole style table, so make it once."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="highlight", wrapcode=True)


def render_markdown(body: str, asset_base: str = "", link_base: str = "") -> Rendered:
    """Render a post body to sanitized HTML plus a table of contents."""
    markdown = _markdown()
    markdown.renderer.use_bases(asset_base, link_base)
    body_html, state = markdown.parse(body)
    toc_items = state.env.get("toc_items", [])
    toc = render_toc_ul(toc_items) if len(toc_items) >= TOC_MIN_HEADINGS else ""
    safe = sanitize(str(body_html))
    return Rendered(html=safe, toc=sanitize(toc))


_per_thread = threading.local()


def _markdown() -> mistune.Markdown:
    """This thread's Markdown parser: made once, since building one (and its compiled
    scanners) costs as much as parsing a short post."""
    markdown = getattr(_per_thread, "markdown", None)
    if markdown is None:
        markdown = mistune.Markdown(
            renderer=BlogRenderer(),
            inline=AutolinkingInlineParser(),
            plugins=[mistune.plugins.import_plugin(name) for name in PLUGINS],
        )
        markdown.before_render_hooks.append(_table_of_contents)
        _per_thread.markdown = markdown
    return markdown


def _table_of_contents(markdown: mistune.Markdown, state: mistune.BlockState) -> None:
    """Give headings readable ids and list them in state.env['toc_items'] (mistune's toc hook, lighter)."""
    ids = _HeadingIds()
    items = []
    for token in state.tokens:
        if token["type"] == "heading" and TOC_MIN_LEVEL <= token["attrs"]["level"] <= TOC_MAX_LEVEL:
            token["attrs"]["id"] = ids(token, len(items))
            items.append(normalize_toc_item(markdown, token, parent=state))
    state.env["toc_items"] = items


def sanitize(fragment: str) -> str:
    """Strip everything outside the allow-lists from an HTML fragment."""
    return _SANITIZER.clean(fragment)


def text_of_html(fragment: str) -> str:
    """The visible text of an HTML fragment."""
    return html.unescape(_TEXT_ONLY.clean(fragment))


def count_words(text: str) -> int:
    """Words in plain text, as a reader would count them."""
    return len(text.split())


def reading_minutes(words: int) -> int:
    """Minutes to read `words` words; never less than one."""
    return max(1, round(words / WORDS_PER_MINUTE))


def summarize(body: str, limit: int = SUMMARY_CHARS) -> str:
    """The first paragraph of a body as plain text, cut at a word near `limit` characters."""
    tokens = mistune.create_markdown(renderer=None, plugins=list(PLUGINS))(body)
    first = next((t for t in tokens if isinstance(t, dict) and t.get("type") == "paragraph"), None)
    text = " ".join(_token_text(first).split()) if first else ""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.!?—-") + "…"


def _token_text(token: dict[str, Any]) -> str:
    if token.get("type") in ("softbreak", "linebreak"):
        return " "
    if "raw" in token:
        return str(token["raw"])
    return "".join(_token_text(child) for child in token.get("children", []))


class _HeadingIds:
    """Readable, unique heading ids ('getting-started', 'getting-started-2')."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def __call__(self, token: dict[str, Any], index: int) -> str:
        base = slugify(mistune.util.striptags(token.get("text", ""))) or f"section-{index + 1}"
        candidate, n = base, 1
        while candidate in self._used:
            n += 1
            candidate = f"{base}-{n}"
        self._used.add(candidate)
        return candidate


PYGMENTS_LIGHT_STYLE = "friendly"
PYGMENTS_DARK_STYLE = "monokai"


def pygments_css() -> str:
    """The highlighting stylesheet (static/pygments.css is this, written by `make css`)."""
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style=PYGMENTS_LIGHT_STYLE).get_style_defs(".highlight")
    dark = HtmlFormatter(style=PYGMENTS_DARK_STYLE).get_style_defs(".highlight")
    indented = "\n".join("  " + line for line in dark.splitlines())
    return (f"/* Generated by `make css` from Pygments ({PYGMENTS_LIGHT_STYLE}, {PYGMENTS_DARK_STYLE}); "
            f"do not edit. */\n{light}\n@media (prefers-color-scheme: dark) {{\n{indented}\n}}\n")
