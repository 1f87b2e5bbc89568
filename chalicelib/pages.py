"""Responses as values: a Page's status, content type, caching headers and lazily made body. Pure.

A `Page` renders its body lazily, so a request whose `If-None-Match` matches the
page's ETag is answered 304 without reading S3 or rendering anything. app.py turns a
Page into Chalice's Response.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any

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
# Lambda's limit on a synchronous invocation's response, which API Gateway proxies: the
# JSON envelope with the body in it (AWS answers 'exceeded maximum allowed payload size (6291456 bytes)').
MAX_RESPONSE_BYTES = 6 * 1024 * 1024


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


def parse_iso(text: str | None) -> dt.datetime | None:
    """Stored ISO text back to an aware datetime (a page's Last-Modified)."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
