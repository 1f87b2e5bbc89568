"""Ingest and rebuild: the upload path for 1,000 posts, and the scheduled rebuild of 10,000 unchanged ones.

Uploads go to the bucket, moto's notifications fill the queue, and batches of ten go
to app.ingest_uploads as Lambda's SQS trigger hands them over (the same event the local
stack builds). Only the handler is timed and metered: receiving and deleting messages
is the trigger's work, not ours.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.figures import NO_GOAL, Figure, failed, guarded, judged, ms, reported, times
from bench.timing import interleave, median, own_seconds, ratio, seconds
from bench.world import Blog, World, post_slug, post_source
from blogctl.pump import QueuePump, queue_url, scheduled_event
from blogctl.publishing import MARKDOWN_TYPE
from chalicelib import aws, model, posts

UPLOADS = 1_000
REBUILD_POSTS = 10_000
REBUILD_ROUNDS = 2
BATCH = 10  # the handler's batch_size in app.py
# Uploads arrive in waves the handler drains: moto's SendMessage walks the whole queue,
# so a burst of 1,000 would cost minutes of moto's time before our handler even runs.
UPLOAD_WAVE = 100
RATE_KEY, RATE_LABEL = "ingest.posts_per_second", "Ingest: posts per second through the queue handler"
RATE_GOAL = f"all {UPLOADS:,} published (rate: none set)"
REBUILD_TIME_KEY = "ingest.rebuild_time"
REBUILD_TIME_LABEL = "Rebuild of 10,000 unchanged posts vs bare ListObjectsV2 + Query walk"


def upload(blog: Blog, numbers: range) -> None:
    """Put some generated posts into the bucket, as editors would."""
    for number in numbers:
        key = f"{posts.POSTS_PREFIX}{post_slug(number)}{posts.SOURCE_SUFFIX}"
        blog.content.put(key, post_source(number), MARKDOWN_TYPE)


@dataclass
class Drained:
    """What the ingest handler did with the queue: its time, its AWS calls and their errors."""

    seconds: float = 0.0
    own_seconds: float = 0.0
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[tuple[str, str, str]] = field(default_factory=list)


def drain(world: World, blog: Blog, drained: Drained) -> None:
    """Hand every queued message to the ingest handler, ten at a time, through the local stack's pump."""
    import app

    def timed_handler(event: dict[str, Any], context: Any) -> Any:
        answers = []
        total, own = own_seconds(lambda: answers.append(app.ingest_uploads(event, context)), world.meter)
        drained.seconds += total
        drained.own_seconds += own
        drained.calls += world.meter.count()
        drained.errors += world.meter.errors()
        return answers[0]

    sqs = aws.client("sqs")
    pump = QueuePump(sqs, queue_url(sqs, blog.names.queue), timed_handler, batch_size=BATCH,
                     visibility_timeout=300)
    with blog.serving():
        pump.drain()


def ingest_figures(world: World) -> list[Figure]:
    """Calls per uploaded post and posts per second through the queue handler."""
    blog = world.fresh("ingest")
    drained = Drained()
    for start in range(0, UPLOADS, UPLOAD_WAVE):
        upload(blog, range(start, min(start + UPLOAD_WAVE, UPLOADS)))
        drain(world, blog, drained)
    if drained.errors:  # an AWS call failed: the import is not what it should be
        reason = f"{len(drained.errors)} AWS call(s) failed, e.g. {drained.errors[0]}"
        return [failed("ingest.calls_per_post", "Ingest: AWS calls per uploaded post", NO_GOAL, reason)]
    published = sum(1 for number in range(UPLOADS)
                    if getattr(blog.index.post(post_slug(number)), "status", None) is model.Status.PUBLISHED)
    per_post = {f"{service}:{operation}": round(n / UPLOADS, 2)
                for (service, operation), n in sorted(drained.calls.items())}
    breakdown = ", ".join(f"{name.split(':')[1]} {n:g}" for name, n in per_post.items())

    def rate() -> Figure:
        per_second, own_per_second = ratio(UPLOADS, drained.seconds), ratio(UPLOADS, drained.own_seconds)
        return judged(RATE_KEY, RATE_LABEL,
                      f"{per_second:.0f} posts/s on moto, {own_per_second:.0f} posts/s in our code; "
                      f"{published:,} of {UPLOADS:,} published", RATE_GOAL,
                      published == UPLOADS, posts_per_second=round(per_second, 1),
                      own_posts_per_second=round(own_per_second, 1),
                      handler_seconds=round(drained.seconds, 2), published=published)

    return [
        reported("ingest.calls_per_post", "Ingest: AWS calls per uploaded post",
                 f"{sum(drained.calls.values()) / UPLOADS:g} ({breakdown})",
                 calls_per_post=per_post, uploads=UPLOADS),
        guarded(RATE_KEY, RATE_LABEL, RATE_GOAL, rate),
    ]


def walk(blog: Blog) -> None:
    """The least a rebuild must read: every source key (ListObjectsV2) and every listed post (Query)."""
    s3, dynamodb = aws.client("s3"), aws.client("dynamodb")
    for _ in s3.get_paginator("list_objects_v2").paginate(Bucket=blog.names.bucket, Prefix=posts.POSTS_PREFIX):
        pass
    for _ in dynamodb.get_paginator("query").paginate(
            TableName=blog.names.table, IndexName="listing", KeyConditionExpression="listing = :p",
            ExpressionAttributeValues={":p": {"S": "PUBLIC"}}):
        pass


def rebuild_figures(world: World) -> list[Figure]:
    """Writes and time of a rebuild of an unchanged blog, against a bare walk of the same data."""
    import app

    blog = world.settled(REBUILD_POSTS)
    writes: list[tuple[str, str]] = []
    own: list[float] = []

    def rebuild() -> float:
        with blog.serving():
            took, ours = own_seconds(lambda: app.rebuild_index(scheduled_event(), None), world.meter)
        writes.extend(world.meter.writes())
        own.append(ours)
        return took

    samples = interleave({"rebuild": rebuild, "walk": lambda: seconds(lambda: walk(blog))}, REBUILD_ROUNDS)

    def rebuild_time() -> Figure:
        medians = {name: median(values) for name, values in samples.items()}
        value = ratio(medians["rebuild"], medians["walk"])
        return reported(REBUILD_TIME_KEY, REBUILD_TIME_LABEL,
                        f"{times(value)} ({ms(medians['rebuild'])} vs {ms(medians['walk'])}; "
                        f"our code {ms(median(own))})", ratio=round(value, 3), rounds=REBUILD_ROUNDS,
                        median_ms={name: round(v * 1000) for name, v in medians.items()},
                        own_ms=round(median(own) * 1000))

    return [
        judged("ingest.rebuild_writes", "Rebuild of 10,000 unchanged posts: writes", f"{len(writes)}", "0",
               not writes, writes=[f"{s}:{o}" for s, o in writes], rounds=REBUILD_ROUNDS),
        guarded(REBUILD_TIME_KEY, REBUILD_TIME_LABEL, NO_GOAL, rebuild_time),
    ]


def run(world: World) -> list[Figure]:
    """The ingest figures, then the rebuild figures."""
    return [*ingest_figures(world), *rebuild_figures(world)]
