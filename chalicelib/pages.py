"""Pages as values: body, status, caching headers; the Jinja2 templates; URLs. Pure: no I/O.

A `Page` renders its body lazily, so a request whose `If-None-Match` matches the
page's ETag is answered 304 without reading S3 or rendering anything.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import math
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chalicelib import render
from chalicelib.posts import SLUG_PATTERN
from chalicelib.errors import BadRequest

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STYLESHEETS = ("style.css", "pygments.css")

HTML = "text/html; charset=utf-8"
# Browsers revalidate after a minute; a CDN in front keeps pages ten minutes. It may serve
# a stale copy one more minute while it revalidates, and five while the origin fails: a
# pulled post leaves the CDN within the page's lifetime (the deploy also invalidates it).
PAGE_CACHE = "public, max-age=60, s-maxage=600, stale-while-revalidate=60, stale-if-error=300"
FEED_CACHE = "public, max-age=300, s-maxage=900"
SEARCH_CACHE = "public, max-age=60, s-maxage=300"
ERROR_CACHE = "public, max-age=60, s-maxage=60"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
NO_STORE = "no-store"

MAX_CURSOR_CHARS = 600
MAX_PAGE_NUMBER = 100_000  # a listing page's number is only shown; larger ones are not ours
# Where absolute URLs point when neither BLOG_SITE_URL nor API Gateway names the site (tests).
LOCAL_BASE_URL = "http://localhost"
URL_SAFE = "/?&=#%+:@!$'()*,;~"  # reserved characters keep their meaning; the rest is encoded
LISTING_SK_RE = re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}Z#{SLUG_PATTERN}$")


@dataclass
class Page:
    """A response to be: status, content type, caching headers and a lazily made body."""

    make_body: Callable[[], str | bytes]
    status: int = 200
    content_type: str = HTML
    cache_control: str = PAGE_CACHE
    etag: str | None = None
    last_modified: dt.datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def body(self) -> str | bytes:
        """The body, made on first use."""
        return self.make_body()

    def response_headers(self) -> dict[str, str]:
        """Content type and caching headers."""
        headers = {"Content-Type": self.content_type, "Cache-Control": self.cache_control, **self.headers}
        if self.etag:
            headers["ETag"] = f'"{self.etag}"'
        if self.last_modified:
            headers["Last-Modified"] = format_datetime(self.last_modified.astimezone(dt.timezone.utc), usegmt=True)
        return headers

    def matches(self, if_none_match: str | None) -> bool:
        """Does the client's `If-None-Match` name this page's current ETag?"""
        if not self.etag or not if_none_match:
            return False
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or f'"{self.etag}"' in tags


def fixed(body: str | bytes, **kwargs: Any) -> Page:
    """A page whose body is already made."""
    return Page(make_body=lambda: body, **kwargs)


def fingerprint(*parts: str) -> str:
    """A short, stable hash of the parts: ETags and cache keys."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Links:
    """How to write URLs for the current request: `base_path` for links, `base_url` for absolute ones."""

    base_url: str
    base_path: str = ""

    def path(self, path: str) -> str:
        """A root-relative link, under the base path (API Gateway's stage, if any), percent-encoded."""
        return self.base_path + quote(path, safe=URL_SAFE)

    def url(self, path: str) -> str:
        """An absolute URL, for canonical links, feeds and the sitemap."""
        return self.base_url + quote(path, safe=URL_SAFE)


def encode_cursor(sort_key: str | None) -> str | None:
    """An opaque 'continue after this post' token for listing URLs."""
    if sort_key is None:
        return None
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The sort key inside a cursor; BadRequest for anything that is not one of ours."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadRequest("That page link is too long to be one of ours.")
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("That page link is damaged.") from None
    if not LISTING_SK_RE.match(sort_key):
        raise BadRequest("That page link is damaged.")
    return sort_key


@dataclass(frozen=True)
class Position:
    """Where a listing page starts: the first page, after a post (older), or before one (newer).

    Cursors are sort keys (`<date>#<slug>`), so any page costs one Query whatever its depth;
    `number` is carried in the URL only to be shown ("page 3") and is None when unknown.
    """

    after: str | None = None
    before: str | None = None
    number: int | None = 1

    @classmethod
    def parse(cls, cursor: str | None, before: str | None, page: str | None) -> "Position":
        """From the query string; BadRequest for anything our links never hold."""
        after_sk, before_sk = decode_cursor(cursor), decode_cursor(before)
        if after_sk and before_sk:
            raise BadRequest("A page link goes either forwards or backwards, not both.")
        if not (after_sk or before_sk):
            return cls()
        if page in (None, ""):
            return cls(after_sk, before_sk, None)
        if not re.fullmatch(r"[0-9]{1,6}", page) or not 2 <= int(page) <= MAX_PAGE_NUMBER:
            raise BadRequest("That page number is not one of ours.")
        return cls(after_sk, before_sk, int(page))

    @property
    def is_first(self) -> bool:
        """The newest page, without a cursor."""
        return not (self.after or self.before)

    @property
    def cursor(self) -> str | None:
        """The sort key the page starts from."""
        return self.after or self.before


def listing_url(path: str, after: str | None = None, before: str | None = None, number: int | None = None) -> str:
    """A listing page's path: the bare path for the first page, else with its cursor and number."""
    if after is None and before is None:
        return path
    query = f"cursor={encode_cursor(after)}" if after is not None else f"before={encode_cursor(before)}"
    return f"{path}?{query}" + (f"&page={number}" if number and number > 1 else "")


CLOUD_WEIGHTS = 4  # sizes in the tag cloud, weight-1 (fewest posts) to weight-4 (most)


def cloud_weight(count: int, most: int) -> int:
    """A tag's size in the cloud, 1 to CLOUD_WEIGHTS, on a log scale of its count against the largest."""
    if most <= 1 or count <= 1:
        return 1
    return 1 + min(CLOUD_WEIGHTS - 1, int((CLOUD_WEIGHTS - 1) * math.log(count) / math.log(most) + 0.5))


class LRU:
    """A small least-recently-used cache (rendered pages and bodies, per Lambda container)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[str, Any] = OrderedDict()

    def get_or_make(self, key: str, make: Callable[[], Any]) -> Any:
        """The cached value for `key`, made and stored on a miss."""
        if key in self._data:
            self._data.move_to_end(key)
            return self._data[key]
        value = make()
        self._data[key] = value
        if len(self._data) > self._size:
            self._data.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()


@functools.lru_cache(maxsize=1)
def stylesheet() -> tuple[str, str]:
    """(file name with content hash, CSS text) of the site's one stylesheet."""
    css = "\n".join((STATIC_DIR / name).read_text(encoding="utf-8") for name in STYLESHEETS)
    return f"style.{fingerprint(css)[:12]}.css", css


@functools.lru_cache(maxsize=1)
def template_version() -> str:
    """Changes whenever a template, the stylesheet or the Markdown rendering changes."""
    sources = [p.read_text(encoding="utf-8") for p in sorted(TEMPLATES_DIR.glob("*.html"))]
    return fingerprint(render.RENDER_VERSION, stylesheet()[0], *sources)


@functools.lru_cache(maxsize=1)
def environment() -> "jinja2.Environment":
    """The Jinja2 environment: autoescaping on for every template."""
    import jinja2  # on first use: ingest, the rebuild, 304s and the JSON API never load it (cold start)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["human_date"] = human_date
    env.filters["local_iso"] = local_iso
    env.filters["month_name"] = month_name
    return env


def render_template(name: str, **context: Any) -> str:
    """Render one template with the site-wide context."""
    return environment().get_template(name).render(css_name=stylesheet()[0], **context)


_OFFSET_RE = re.compile(r"^([+-])(\d\d):(\d\d)(?::(\d\d))?$")


def in_offset(iso_text: str, offset: str | None = None) -> dt.datetime:
    """A stored UTC moment as the author's clock showed it ('+02:00'); UTC for a missing or odd offset."""
    moment = dt.datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    found = _OFFSET_RE.match(offset or "")
    if not found:
        return moment.astimezone(dt.timezone.utc)
    delta = dt.timedelta(hours=int(found.group(2)), minutes=int(found.group(3)), seconds=int(found.group(4) or 0))
    if delta >= dt.timedelta(days=1):
        return moment.astimezone(dt.timezone.utc)
    return moment.astimezone(dt.timezone(-delta if found.group(1) == "-" else delta))


def human_date(iso_text: str | None, offset: str | None = None) -> str:
    """'2013-04-20T00:00:00Z' -> '20 April 2013', on the author's calendar when `offset` is given."""
    if not iso_text:
        return ""
    moment = in_offset(iso_text, offset)
    return f"{moment.day} {moment.strftime('%B %Y')}"


def local_iso(iso_text: str | None, offset: str | None = None) -> str:
    """A `<time datetime>` value in the author's offset: '2013-04-20T12:00:00+02:00'."""
    if not iso_text:
        return ""
    return in_offset(iso_text, offset).isoformat().replace("+00:00", "Z")


def month_name(year_month: str) -> str:
    """'2013-04' -> 'April 2013'."""
    year, month = year_month.split("-")
    return f"{dt.date(int(year), int(month), 1).strftime('%B')} {year}"


def parse_iso(text: str | None) -> dt.datetime | None:
    """Stored ISO text back to an aware datetime."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# Security rules for every response: no script at all, no framing, no sniffing.
def content_security_policy(asset_origin: str | None = None) -> str:
    """The pages' CSP; `asset_origin` is where signed asset URLs point when that is not https (the local stack).

    connect-src 'self' opens nothing to a page that may run no script (no script-src, and
    the sanitizer drops `ping`); it lets tools read the site's own files through the page,
    as Lighthouse reads robots.txt.
    """
    files = f" {asset_origin}" if asset_origin else ""
    return (
        f"default-src 'none'; img-src 'self' https: data:{files}; style-src 'self'; font-src 'self'; "
        "connect-src 'self'; "
        f"media-src 'self' https:{files}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; "
        f"frame-src {' '.join(render.FRAME_ORIGINS)}"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@functools.lru_cache(maxsize=4)
def security_headers(endpoint_url: str | None = None) -> dict[str, str]:
    """SECURITY_HEADERS for a stage: with a plain-http endpoint (the local stack), images may come from it."""
    if not endpoint_url or not endpoint_url.startswith("http://"):
        return SECURITY_HEADERS
    origin = "http://" + endpoint_url[len("http://"):].split("/", 1)[0]
    return {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(origin)}


def links_for(site_url: str, domain: str | None, stage: str | None) -> Links:
    """URLs for a request: the configured site URL, else API Gateway's own domain name.

    Never a request header: Host and X-Forwarded-Proto are the client's to choose, and pages
    are cached publicly, so a forged header would poison every reader's canonical links.
    """
    if site_url:
        path = site_url.split("://", 1)[-1].partition("/")[2]
        return Links(base_url=site_url.rstrip("/"), base_path=("/" + path).rstrip("/") if path else "")
    if not domain:
        return Links(base_url=LOCAL_BASE_URL)
    # Straight from API Gateway (no custom domain, no CDN) every path carries the stage name.
    prefix = f"/{stage}" if stage and domain.endswith(".amazonaws.com") else ""
    return Links(base_url=f"https://{domain}{prefix}", base_path=prefix)
