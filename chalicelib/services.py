"""The blog's services wired to the stage's settings, created once per process.

app.py and the tools call these; tests call `reset()` after changing the environment.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import TYPE_CHECKING

from chalicelib import aws, cdn, config, preview
from chalicelib.site import Site, now_utc
from chalicelib.store import ContentStore, PostIndex, SecretParameter, UploadQueue

if TYPE_CHECKING:  # the upload and rebuild flows are imported when they run: a cold post view never loads them
    from chalicelib import ingest, rebuild


@functools.lru_cache(maxsize=1)
def index() -> PostIndex:
    """The stage's index table."""
    return PostIndex(aws.client("dynamodb"), config.get_settings().table)


@functools.lru_cache(maxsize=1)
def content() -> ContentStore:
    """The stage's content bucket."""
    return ContentStore(aws.client("s3"), config.get_settings().bucket)


@functools.lru_cache(maxsize=1)
def preview_secret() -> SecretParameter:
    """The stage's preview secret in SSM Parameter Store (chalicelib/preview.py)."""
    return SecretParameter(aws.client("ssm"), preview.parameter_name(config.get_settings().table))


@functools.lru_cache(maxsize=1)
def site() -> Site:
    """The public site, with its in-memory page cache."""
    return Site(index(), content(), config.get_settings(), preview_secret=preview_secret())


def ingest_messages(messages: list[ingest.Message], now: dt.datetime | None = None) -> list[str]:
    """Reconcile the keys named in a batch of S3 event messages; return the ids of the messages that failed.

    What the batch changed is invalidated on the CDN in front, if any, in one request.
    """
    from chalicelib import ingest

    outcomes, failed = ingest.handle_messages(messages, index(), content(), now or now_utc())
    invalidate(set().union(*(o.stale for o in outcomes)), reference="ingest-" + ",".join(m.id for m in messages))
    return failed


def invalidate(paths: set[str], reference: str) -> None:
    """Drop `paths` from the stage's CDN (nothing when the stage has none)."""
    distribution = config.get_settings().cdn_distribution
    if paths and distribution:
        digest = hashlib.sha256(reference.encode()).hexdigest()[:32]  # a retried batch asks once
        cdn.invalidate(aws.client("cloudfront"), distribution, paths, reference=digest)


def acknowledge(queue_arn: str, receipts: list[str]) -> None:
    """Delete handled messages from the queue (when others in their batch failed)."""
    UploadQueue(aws.client("sqs"), queue_arn).delete(receipts)


def run_rebuild(now: dt.datetime | None = None) -> rebuild.Report:
    """Reconcile the whole bucket with the index; invalidate what changed on the CDN."""
    from chalicelib import rebuild

    report = rebuild.rebuild(index(), content(), now or now_utc())
    invalidate(set(report.stale), reference="rebuild-" + report.started_at)
    return report


def reset() -> None:
    """Forget settings, clients and services (after the environment changed)."""
    config.reset()
    aws.reset()
    for cached in (index, content, preview_secret, site):
        cached.cache_clear()
