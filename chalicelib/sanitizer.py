"""What HTML may reach a reader: the allow-lists and the one sanitizer. Pure: no I/O.

Authors write raw HTML in Markdown (figures, kbd, details, video, embeds); it is kept
when it is on these lists and dropped when it is not. The guarantees: no script, no
style, no event attribute, no URL outside ALLOWED_URL_SCHEMES (so no `javascript:` and
no `data:`), frames only from FRAME_ORIGINS, sandboxed. Comments are dropped.
"""
from __future__ import annotations

import html
import re

import nh3

# Frames are allowed from these origins only: the privacy-friendly players of YouTube
# and Vimeo. The page's Content-Security-Policy names exactly these in `frame-src`.
FRAME_ORIGINS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")
# As tight as the players still work: they run script in their own origin and open
# "watch on YouTube" in a new tab; they cannot navigate the blog's page.
FRAME_SANDBOX = "allow-scripts allow-same-origin allow-presentation allow-popups"
FRAME_ALLOW = "fullscreen; picture-in-picture; encrypted-media"

ALLOWED_TAGS = frozenset({
    "a", "abbr", "audio", "b", "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "iframe", "img", "input", "ins", "kbd", "li", "mark", "nav", "ol", "p",
    "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "source", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr",
    "track", "u", "ul", "var", "video", "wbr",
})
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "aria-label", "name"},
    "abbr": {"title"},
    "audio": {"src", "loop", "muted", "preload"},
    "col": {"span"},
    "colgroup": {"span"},
    "del": {"datetime"},
    "details": {"open"},
    "iframe": {"src", "width", "height", "allowfullscreen"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height"},
    "input": {"disabled", "checked"},
    "ins": {"datetime"},
    "li": {"value"},
    "ol": {"start", "reversed"},
    "source": {"src", "srcset", "sizes", "type", "media", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "video": {"src", "poster", "width", "height", "loop", "muted", "playsinline", "preload"},
}
ALLOWED_INPUT_TYPES = {"input": {"type": {"checkbox"}}}
# Values the sanitizer sets whatever the author wrote: media always has controls (no
# silent autoplay), frames are sandboxed and load lazily.
FORCED_ATTRIBUTES = {
    "audio": {"controls": ""},
    "video": {"controls": ""},
    "iframe": {"sandbox": FRAME_SANDBOX, "allow": FRAME_ALLOW, "loading": "lazy",
               "referrerpolicy": "strict-origin-when-cross-origin"},
}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
CLEAN_CONTENT_TAGS = frozenset({"script", "style", "template", "noscript", "textarea", "select", "object"})

_SCHEME_RE = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
_EMPTY_FRAME_RE = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.S)


def _is_safe_url(url: str) -> bool:
    """Relative, or with an allowed scheme (the same rule nh3 applies to href and src)."""
    found = _SCHEME_RE.match(html.unescape(url))
    return found is None or found.group(1).lower() in ALLOWED_URL_SCHEMES


def _is_frame_url(url: str) -> bool:
    return any(url == origin or url.startswith(origin + "/") for origin in FRAME_ORIGINS)


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """The checks nh3 leaves to us: `srcset` and `poster` URLs, and where frames may point."""
    if name == "srcset":
        candidates = [part.strip().split(None, 1)[0] for part in value.split(",") if part.strip()]
        return value if all(_is_safe_url(url) for url in candidates) else None
    if name == "poster":
        return value if _is_safe_url(value) else None
    if tag == "iframe" and name == "src":
        return value if _is_frame_url(value) else None
    return value


_SANITIZER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    tag_attribute_values={t: {a: set(v) for a, v in attrs.items()} for t, attrs in ALLOWED_INPUT_TYPES.items()},
    set_tag_attribute_values={t: dict(attrs) for t, attrs in FORCED_ATTRIBUTES.items()},
    url_schemes=set(ALLOWED_URL_SCHEMES),
    clean_content_tags=set(CLEAN_CONTENT_TAGS),
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel=None,
)
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags=set(CLEAN_CONTENT_TAGS))


def sanitize(fragment: str) -> str:
    """Strip everything outside the allow-lists from an HTML fragment."""
    cleaned = _SANITIZER.clean(fragment)
    # A frame whose src was refused would be an empty box on the page: drop it whole.
    return _EMPTY_FRAME_RE.sub("", cleaned) if "<iframe" in cleaned else cleaned


def text_of_html(fragment: str) -> str:
    """The visible text of an HTML fragment."""
    return html.unescape(_TEXT_ONLY.clean(fragment))
