"""Instant edits behind CloudFront: which URLs a change makes stale, and one invalidation per run.

Pages carry `s-maxage`, so CloudFront would serve an edited post until it expires. Ingest and
the rebuild collect the paths of what they changed during one run (one SQS batch, one
rebuild) and call `invalidate` once at the end:

    paths = paths_for_posts([slug, *neighbour_slugs], tag_slugs, months)   # an edit or a publish
    paths = WITHDRAWN                       # a post left public view (deleted, draft, postponed)
    invalidate(cloudfront_client, settings.cdn_distribution, paths, reference=run_id)  # services.invalidate

`plan` keeps a run inside CloudFront's limits and its free tier. Per distribution CloudFront
allows 3,000 exact paths and 15 wildcard paths in progress at once, and bills $0.005 a path
after the first 1,000 paths a month (a wildcard path counts as one, however much it covers).
A run asks for at most MAX_PATHS_PER_RUN paths; beyond that a single "/*" is both cheaper and
within the limits. A withdrawn post invalidates everything: it may sit on any listing page,
cursor page, tag page or search result, and none of them may show it a moment longer.
Pure, except `invalidate`, which makes the one call with the client it is given.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

DISTRIBUTION_VARIABLE = "BLOG_CDN_DISTRIBUTION_ID"  # set on ingest and the rebuild when a CDN is in front
EVERYTHING = "/*"
WITHDRAWN = frozenset({EVERYTHING})
MAX_PATHS_PER_RUN = 20  # a publish with both neighbours and a few tags fits; more is one "/*"
MAX_WILDCARDS_PER_RUN = 2  # CloudFront allows 15 wildcard paths in progress per distribution
MAX_PATH_LENGTH = 4000  # CloudFront's limit for one invalidation path
# What every visible change of a post shows up on: home, feeds, sitemap, tags and archive
# indexes, the API's list, and search results (any query).
LISTING_PATHS = ("/", "/feed.xml", "/sitemap.xml", "/tags", "/archive", "/api/posts", "/search*")

log = logging.getLogger(__name__)


def _segment(value: str) -> str:
    # CloudFront wants non-ASCII and unsafe characters percent-encoded, as the site's links are.
    return quote(value, safe="")


def paths_for_posts(slugs: Iterable[str], tag_slugs: Iterable[str] = (), months: Iterable[str] = ()) -> set[str]:
    """The URLs that show these posts: their pages and API entries, the listings, their tags and months.

    `months` are "YYYY-MM". Pass the changed post and the posts whose pages link to it
    (older/newer neighbours, related posts) as `slugs`; a post's old tags and month as well as
    its new ones when they changed.
    """
    paths = set(LISTING_PATHS)
    for slug in slugs:
        paths |= {f"/posts/{_segment(slug)}", f"/api/posts/{_segment(slug)}"}
    for tag in tag_slugs:
        paths |= {f"/tags/{_segment(tag)}", f"/tags/{_segment(tag)}/feed.xml"}
    for month in months:
        year, _, number = month.partition("-")
        paths.add(f"/archive/{year}/{number}")
    return paths


def plan(paths: Iterable[str]) -> list[str]:
    """The paths of one invalidation: sorted, deduplicated, or ["/*"] when that is cheaper or needed."""
    wanted = set(paths)
    for path in wanted:
        if not path.startswith("/") or "*" in path[:-1] or len(path) > MAX_PATH_LENGTH:
            raise ValueError(f"not an invalidation path: {path[:80]!r}")
    wildcards = [p for p in wanted if p.endswith("*")]
    if EVERYTHING in wanted or len(wanted) > MAX_PATHS_PER_RUN or len(wildcards) > MAX_WILDCARDS_PER_RUN:
        return [EVERYTHING]
    return sorted(wanted)


def invalidate(client: Any, distribution_id: str, paths: Iterable[str], reference: str) -> str | None:
    """Ask CloudFront to drop `paths` (planned); return the invalidation's id, None when nothing to do.

    `reference` names the run (the same reference twice is one invalidation: retries are safe).
    When CloudFront has too many invalidations in progress, the pages expire by their
    s-maxage instead: logged, not raised. Other errors (a missing permission) raise.
    """
    planned = plan(paths)
    if not planned or not distribution_id:
        return None
    try:
        response = client.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
            "Paths": {"Quantity": len(planned), "Items": planned}, "CallerReference": reference})
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "TooManyInvalidationsInProgress":
            raise
        log.warning('{"cdn": "invalidation deferred to s-maxage", "paths": %d}', len(planned))
        return None
    return str(response["Invalidation"]["Id"])
