"""AWS calls per request on the reader's paths, counted by botocore's event hooks, each Query's
parameters and items read checked, and the renders it ran counted.

A post view is, by design (docs/architecture.md, "Neighbours read at request time"), one
Query of the post's partition (the post and its image sizes), two one-item Queries for its
neighbours and one for the newest posts of its first tag: at most POST_QUERIES one-page
Queries and no S3, once its page is cached. A revalidation whose ETag matches is 304 without
S3 and without rendering, even in a container that never rendered the post (its caches are
emptied first here). A listing is one Query of one page.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from bench.figures import Figure, judged
from bench.timing import describe_calls
from bench.world import Blog, World
from blogctl.recorder import Call
from chalicelib import model, render, templates
from chalicelib.site import HOME_PAGE_SIZE, MORE_IN_TAG, TAG_PAGE_SIZE, Site
from chalicelib.feeds import FEED_SIZE

BLOG_POSTS = 100
POST_QUERIES = 4  # the post with its image sizes, 2 neighbours, the newest of its first tag
# The most items one Query of a post view may read: the tag's newest MORE_IN_TAG posts and the
# post itself (it may be one of them), and the look-ahead row every paged read takes.
POST_PAGE_ITEMS = MORE_IN_TAG + 2
POST_PARTITION_ITEMS = 2  # sk between IMAGES and POST: the image sizes and the post
POST_GOAL = f"≤ {POST_QUERIES} one-page DynamoDB Queries (post + image sizes, 2 neighbours, related), 0 S3, no render"
LISTING_RENDERS = frozenset({"template"})  # cards and summaries come from the index: no Markdown
REVALIDATION_GOAL = f"304; ≤ {POST_QUERIES} one-page DynamoDB Queries, 0 S3, no render (caches empty)"


def listing_goal(page: int) -> str:
    """One Query of one page and its look-ahead row."""
    return f"1 DynamoDB Query of ≤ {page + 1} items, 0 S3, no Markdown render"


@dataclass(frozen=True)
class Case:
    """One request a reader makes, and what it may cost."""

    key: str
    label: str
    path: str
    status: int
    max_queries: int  # DynamoDB Queries, and nothing else
    max_items: int  # read by any one Query (its Limit, and its ScannedCount)
    goal: str
    may_render: frozenset[str] = frozenset()  # "template": a listing fills its template on each request
    revalidate: bool = False  # send the page's ETag back, as a browser does after max-age, to a cold container


@dataclass
class Seen:
    """What one request did."""

    status: int
    calls: list[Call]
    renders: Counter[str] = field(default_factory=Counter)

    def counts(self) -> Counter[tuple[str, str]]:
        """Calls by (service, operation)."""
        return Counter(call.key for call in self.calls)


def cases(slug: str) -> list[Case]:
    """The reader's requests of issue 7; `slug` is a post with a newer and an older one."""
    return [
        Case("post_view", "AWS calls: warm post view", f"/posts/{slug}", 200, POST_QUERIES, POST_PAGE_ITEMS,
             POST_GOAL),
        Case("revalidation", "AWS calls: 304 revalidation", f"/posts/{slug}", 304, POST_QUERIES, POST_PAGE_ITEMS,
             REVALIDATION_GOAL, revalidate=True),
        Case("home", "AWS calls: home page", "/", 200, 1, HOME_PAGE_SIZE + 1, listing_goal(HOME_PAGE_SIZE),
             may_render=LISTING_RENDERS),
        Case("tag", "AWS calls: tag page", "/tags/python", 200, 1, TAG_PAGE_SIZE + 1, listing_goal(TAG_PAGE_SIZE),
             may_render=LISTING_RENDERS),
        Case("feed", "AWS calls: feed", "/feed.xml", 200, 1, FEED_SIZE + 1, listing_goal(FEED_SIZE),
             may_render=LISTING_RENDERS),
    ]


def one_post_partition(call: Call) -> bool:
    """A Query of one post's partition, by its key only (no index): it holds a handful of items."""
    params = call.params or {}
    values = params.get("ExpressionAttributeValues", {})
    return "IndexName" not in params and any(
        isinstance(v, dict) and str(v.get("S", "")).startswith(model.POST_PREFIX) for v in values.values())


def problems(case: Case, seen: Seen) -> list[str]:
    """Why the request broke its goal ([] when it kept it)."""
    found = []
    if seen.status != case.status:
        found.append(f"HTTP {seen.status}")
    others = [c.key for c in seen.calls if c.key != ("dynamodb", "Query")]
    if others:
        found.append("not a Query: " + describe_calls(Counter(others)))
    queries = [c for c in seen.calls if c.key == ("dynamodb", "Query")]
    if len(queries) > case.max_queries:
        found.append(f"{len(queries)} Queries")
    for number, call in enumerate(queries, start=1):
        limit = (call.params or {}).get("Limit")
        if limit is None and not one_post_partition(call):
            found.append(f"Query {number} has no Limit")
        elif limit is not None and limit > case.max_items:
            found.append(f"Query {number} has Limit {limit}")
        if call.scanned is None or call.scanned > (case.max_items if limit is not None else POST_PARTITION_ITEMS):
            found.append(f"Query {number} read {call.scanned} items")
    rendered = {name: n for name, n in seen.renders.items() if name not in case.may_render}
    if rendered:
        found.append("rendered: " + ", ".join(f"{name} ×{n}" for name, n in sorted(rendered.items())))
    return found


@contextmanager
def counting_renders() -> Iterator[Counter[str]]:
    """Count the Markdown renders and template renders made while inside."""
    counted: Counter[str] = Counter()

    def counter(name: str, real: Any) -> Any:
        def counted_call(*args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return real(*args, **kwargs)
        return counted_call

    with mock.patch.object(render, "render", counter("Markdown", render.render)), \
            mock.patch.object(templates, "render_template", counter("template", templates.render_template)):
        yield counted


def request(world: World, http: Any, blog: Blog, case: Case) -> Seen:
    """The calls of one request, after a first, unmetered one that warms the caches (for a
    revalidation, the caches are emptied after it: a container that never rendered the post)."""
    first = http.get(case.path)
    headers, warm = {}, blog.site
    if case.revalidate:
        headers = {"If-None-Match": first.headers.get("ETag", "")}
        blog.site = Site(blog.index, blog.content, warm.settings)  # what `blog.serving()` hands the app
    world.meter.clear()
    world.meter.keep_params = True
    try:
        with counting_renders() as renders:
            response = http.get(case.path, headers=headers)
    finally:
        world.meter.keep_params = False
        blog.site = warm
    return Seen(response.status_code, list(world.meter.calls), renders)


def describe(seen: Seen) -> str:
    """'dynamodb Query ×4 (items read 2, 1, 1, 4)'."""
    scanned = [str(c.scanned) for c in seen.calls if c.scanned is not None]
    return describe_calls(seen.counts()) + (f" (items read {', '.join(scanned)})" if scanned else "")


def run(world: World) -> list[Figure]:
    """One figure per request: its calls, each Query's page and the renders, against the goal."""
    blog = world.seeded(BLOG_POSTS)
    figures = []
    with world.http() as http, blog.serving():
        for case in cases(blog.slugs[len(blog.slugs) // 2]):
            seen = request(world, http, blog, case)
            wrong = problems(case, seen)
            figures.append(judged(
                f"calls.{case.key}", case.label, describe(seen) + (f"; {'; '.join(wrong)}" if wrong else ""),
                case.goal, not wrong, status=seen.status,
                calls={f"{s}:{o}": n for (s, o), n in sorted(seen.counts().items())},
                queries=[{"limit": (c.params or {}).get("Limit"), "index": (c.params or {}).get("IndexName"),
                          "items_read": c.scanned} for c in seen.calls if c.key == ("dynamodb", "Query")],
                renders=dict(seen.renders)))
    return figures
