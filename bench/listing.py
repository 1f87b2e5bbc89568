"""Listing scale: the same listing page on a blog of 10,000 posts and one of 100, request by request.

Two figures per page. Items read: the Query's ScannedCount, which DynamoDB bills and
which must not grow with the blog. Own time: the request's time minus the time inside
AWS calls. moto's Query walks the whole table in Python, so the request's total time on
moto grows with the table whatever our code does; it is kept in results.json, not judged.
Its walks also leave our code colder caches at the larger blog, so the caches are flushed
inside every call at both sizes, as in the scale rows (`timing.ColdCaches`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.figures import Figure, guarded, judged, ms, times
from bench.timing import ColdCaches, interleave, median, own_seconds, ratio
from bench.world import Blog, World
from chalicelib import aws
from chalicelib.site import HOME_PAGE_SIZE, TAG_PAGE_SIZE

SMALL, LARGE = 100, 10_000
ROUNDS = 40
OWN_TIME_GOAL = 1.2
OWN_TIME_GOAL_TEXT = f"≤ {times(OWN_TIME_GOAL)}"
OWN_TIME_LABEL = "Own time per {page} page, 10,000 vs 100 posts"
PAGES = {"home": ("/", HOME_PAGE_SIZE), "tag": ("/tags/python", TAG_PAGE_SIZE)}


@dataclass(frozen=True)
class Sample:
    """One request: its status, total time, time outside AWS calls, and the items its Queries read."""

    status: int
    total: float
    own: float
    scanned: tuple[int, ...]


def request(world: World, http: Any, blog: Blog, path: str) -> Callable[[], Sample]:
    """A function that GETs `path` from `blog` once and measures it."""
    def sample() -> Sample:
        with blog.serving():
            responses = []
            total, own = own_seconds(lambda: responses.append(http.get(path)), world.meter)
        return Sample(responses[0].status_code, total, own, tuple(world.meter.scanned()))
    return sample


def run(world: World) -> list[Figure]:
    """Items read and own time of the home and tag pages, 10,000 posts against 100."""
    blogs = {SMALL: world.seeded(SMALL), LARGE: world.seeded(LARGE)}
    figures = []
    clients = [aws.client(service) for service in ("s3", "dynamodb")]
    with world.http() as http, ColdCaches().attached(clients):
        for page, (path, size) in PAGES.items():
            cases = {str(n): request(world, http, blog, path) for n, blog in blogs.items()}
            for case in cases.values():
                case()  # warm: templates compiled, clients connected
            samples = interleave(cases, ROUNDS)
            figures += judge(page, size, samples[str(SMALL)], samples[str(LARGE)])
    return figures


def judge(page: str, size: int, small: list[Sample], large: list[Sample]) -> list[Figure]:
    """The two figures of one page, from the samples at 100 and at 10,000 posts."""
    read = {n: sorted({sum(s.scanned) for s in samples}) for n, samples in ((SMALL, small), (LARGE, large))}
    ok = all(s.status == 200 and len(s.scanned) == 1 for s in small + large)
    items_read = judged(f"listing.items_read.{page}", f"Items read per {page} page, 10,000 vs 100 posts",
                        f"{_counts(read[LARGE])} vs {_counts(read[SMALL])}",
                        f"page size ({size}) + 1 look-ahead, at any size",
                        ok and read[SMALL] == read[LARGE] == [size + 1],
                        items_read={str(n): counts for n, counts in read.items()}, page_size=size)

    def own_time() -> Figure:
        own = {n: median([s.own for s in samples]) for n, samples in ((SMALL, small), (LARGE, large))}
        total = {n: median([s.total for s in samples]) for n, samples in ((SMALL, small), (LARGE, large))}
        own_ratio = ratio(own[LARGE], own[SMALL])
        return judged(f"listing.own_time.{page}", OWN_TIME_LABEL.format(page=page),
                      f"{times(own_ratio)} ({ms(own[LARGE])} vs {ms(own[SMALL])})", OWN_TIME_GOAL_TEXT,
                      ok and own_ratio <= OWN_TIME_GOAL, rounds=len(small), own_ratio=round(own_ratio, 3),
                      own_ms={str(n): round(v * 1000, 2) for n, v in own.items()},
                      total_ms_on_moto={str(n): round(v * 1000, 2) for n, v in total.items()})

    return [items_read, guarded(f"listing.own_time.{page}", OWN_TIME_LABEL.format(page=page),
                                OWN_TIME_GOAL_TEXT, own_time)]


def _counts(values: list[int]) -> str:
    return "/".join(str(v) for v in values)
