"""Preview links: signed, expiring tokens that show one unpublished post. Pure: no I/O.

A token is `<expires>.<mac>`: the Unix time it stops working, and an HMAC-SHA256 of the
slug and that time under the stage's secret (kept in SSM Parameter Store, see
store.SecretParameter). It is bound to one slug and one expiry: changing either breaks
the MAC. Rotating the secret revokes every link at once (within SECRET_TTL_SECONDS, the
time an API container keeps the secret it read).

`verify` does the same work whatever is wrong with a token (malformed, tampered, expired,
for another slug): one HMAC and one `hmac.compare_digest`, so its time tells nothing.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable

from chalicelib import posts
from chalicelib.errors import InvalidPost

DEFAULT_SECONDS = 24 * 3600      # `blogctl preview SLUG` without --for
MAX_SECONDS = 30 * 24 * 3600     # no link lives longer than this, whatever the token says
MAX_TOKEN_CHARS = 64             # a real token is 10 + 1 + 43 characters; longer ones are not read
MAX_SLUG_CHARS = 200             # slugs are shorter (posts.MAX_SLUG_CHARS); longer ones are not read
SECRET_BYTES = 32
SECRET_TTL_SECONDS = 60          # how long an API container trusts the secret it read
PARAMETER_SUFFIX = "preview-secret"
_DURATION_RE = re.compile(r"^\s*([0-9]{1,6})\s*([smhd]?)\s*$")
_UNITS = {"": 3600, "s": 1, "m": 60, "h": 3600, "d": 86400}
_EXPIRES_RE = re.compile(r"^[0-9]{1,12}$")


def parameter_name(table: str) -> str:
    """The SSM parameter holding a stage's secret: named after its index table, one per stage."""
    return f"/{table}/{PARAMETER_SUFFIX}"


def new_secret() -> str:
    """A fresh random secret (URL-safe text, SECRET_BYTES of entropy)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def parse_duration(text: str) -> int:
    """Seconds in '30m', '24h', '7d' or '90s' (a bare number means hours); ValueError if unusable."""
    found = _DURATION_RE.match(text or "")
    if not found:
        raise ValueError(f"{text!r} is not a duration: write 30m, 24h or 7d")
    seconds = int(found.group(1)) * _UNITS[found.group(2)]
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"a preview link lives from 1 second to {MAX_SECONDS // 86400} days (MAX_SECONDS), "
                         f"not {text.strip()}")
    return seconds


def _mac(secret: str, slug: str, expires: str) -> bytes:
    message = f"preview\n{slug}\n{expires}".encode("utf-8", "surrogatepass")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=")


def sign(secret: str, slug: str, expires: int) -> str:
    """The token that shows `slug` until `expires` (Unix seconds)."""
    return f"{expires}.{_mac(secret, slug, str(expires)).decode()}"


def verify(secret: str, slug: str, token: str, now: float) -> bool:
    """Is `token` a live link to `slug`? The same work for every wrong token (see the module)."""
    token = token if len(token) <= MAX_TOKEN_CHARS else ""
    slug = slug if len(slug) <= MAX_SLUG_CHARS else ""
    expires, _, given = token.partition(".")
    well_formed = bool(_EXPIRES_RE.match(expires))
    expected = _mac(secret, slug, expires if well_formed else "0")
    matches = hmac.compare_digest(expected, given.encode("utf-8", "surrogatepass"))
    moment = int(expires) if well_formed else 0
    # `&`, not `and`: every part is evaluated, whichever fails.
    return matches & well_formed & bool(slug) & (now < moment) & (moment <= now + MAX_SECONDS)


def expiry_text(expires: int) -> str:
    """When a link stops working, for people: '2026-06-02 12:00 UTC'."""
    return dt.datetime.fromtimestamp(expires, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def path(slug: str, token: str) -> str:
    """The preview page's path."""
    return f"/preview/{slug}/{token}"


def source_keys(slug: str) -> list[str]:
    """The bucket keys a source named after `slug` may have (`posts/<slug>.md`, a bundle's index.md, …)."""
    return [f"{posts.POSTS_PREFIX}{slug}{suffix}" for suffix in posts.SOURCE_SUFFIXES] + [
        f"{posts.POSTS_PREFIX}{slug}/index{suffix}" for suffix in posts.SOURCE_SUFFIXES]


def loose_title(data: bytes) -> str | None:
    """The title of a source that failed validation, if its front matter can be read at all."""
    try:
        meta, _, _ = posts.split_front_matter(posts.decode_source(data))
    except InvalidPost:
        return None
    title = next((v for k, v in meta.items() if str(k).lower() == "title"), None)
    if not isinstance(title, str) or not title.strip():
        return None
    return title.strip()[:posts.MAX_TITLE_CHARS]


class SecretCache:
    """The stage's secret, fetched at most once per `ttl` seconds: rotation revokes links within it."""

    def __init__(self, fetch: Callable[[], str], ttl: float = SECRET_TTL_SECONDS,
                 ticks: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self.ticks = ticks
        self._held: tuple[float, str] | None = None

    def get(self) -> str:
        """The secret, from the cache while it is fresh."""
        now = self.ticks()
        if self._held is None or now - self._held[0] >= self.ttl:
            self._held = (now, self._fetch())
        return self._held[1]
