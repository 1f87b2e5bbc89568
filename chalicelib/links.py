"""How the site writes its URLs: the base of every link, and listing pages' cursors. Pure.

`Links` puts paths under the site's base (BLOG_SITE_URL, or API Gateway's stage); a listing
page's place is a cursor (a sort key, opaque in the URL), so any page is one Query whatever
its depth.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import quote

from chalicelib.errors import BadRequest
from chalicelib.posts import SLUG_PATTERN

MAX_CURSOR_CHARS = 600
MAX_PAGE_NUMBER = 100_000  # a listing page's number is only shown; larger ones are not ours
# Where absolute URLs point when neither BLOG_SITE_URL nor API Gateway names the site (tests).
LOCAL_BASE_URL = "http://localhost"
URL_SAFE = "/?&=#%+:@!$'()*,;~"  # reserved characters keep their meaning; the rest is encoded
LISTING_SK_RE = re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}:\d{{2}}Z#{SLUG_PATTERN}$")


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
