"""Security rules for every response: no script at all, no framing, no sniffing. Pure.

The Content-Security-Policy allows no script; frames only from the embed origins the
sanitizer allows (sanitizer.FRAME_ORIGINS).
"""
from __future__ import annotations

import functools

from chalicelib import sanitizer


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
        f"frame-src {' '.join(sanitizer.FRAME_ORIGINS)}"
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
