"""AWS calls per request on the reader's paths, warm, counted by botocore's event hooks."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.figures import Figure, judged
from bench.timing import describe_calls
from bench.world import World

BLOG_POSTS = 100
# A post and its image sizes (one Query of its partition), its neighbours and its tag's newest posts.
POST_READS = Counter({("dynamodb", "Query"): 4})
ONE_QUERY = Counter({("dynamodb", "Query"): 1})
POST_GOAL = "4 one-page DynamoDB Queries (the post with its image sizes, 2 neighbours, related), 0 S3"
LISTING_GOAL = "1 DynamoDB Query"


@dataclass(frozen=True)
class Case:
    """One request a reader makes, and the calls it may cost."""

    key: str
    label: str
    path: str
    status: int
    wanted: Counter[tuple[str, str]]
    goal: str
    revalidate: bool = False  # send the ETag of the page back, as a browser does after max-age


def cases(slug: str) -> list[Case]:
    """The reader's requests of issue 7, on a blog whose newest post is `slug`."""
    return [
        Case("post_view", "AWS calls: warm post view", f"/posts/{slug}", 200, POST_READS, POST_GOAL),
        Case("revalidation", "AWS calls: 304 revalidation", f"/posts/{slug}", 304, POST_READS, POST_GOAL,
             revalidate=True),
        Case("home", "AWS calls: home page", "/", 200, ONE_QUERY, LISTING_GOAL),
        Case("tag", "AWS calls: tag page", "/tags/python", 200, ONE_QUERY, LISTING_GOAL),
        Case("feed", "AWS calls: feed", "/feed.xml", 200, ONE_QUERY, LISTING_GOAL),
    ]


def count(world: World, http: Any, case: Case) -> tuple[int, Counter[tuple[str, str]]]:
    """The status and the AWS calls of one warm request (a first, unmetered request warms the caches)."""
    first = http.get(case.path)
    headers = {"If-None-Match": first.headers.get("ETag", "")} if case.revalidate else {}
    world.meter.clear()
    response = http.get(case.path, headers=headers)
    return response.status_code, world.meter.count()


def run(world: World) -> list[Figure]:
    """One figure per request: the calls it made against the goal."""
    blog = world.seeded(BLOG_POSTS)
    figures = []
    with world.http() as http, blog.serving():
        for case in cases(blog.slugs[0]):
            status, calls = count(world, http, case)
            measured = describe_calls(calls) + ("" if status == case.status else f" (HTTP {status})")
            figures.append(judged(f"calls.{case.key}", case.label, measured, case.goal,
                                  status == case.status and calls == case.wanted,
                                  status=status, calls={f"{s}:{o}": n for (s, o), n in sorted(calls.items())}))
    return figures
