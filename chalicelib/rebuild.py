"""The scheduled rebuild: repair what ingest missed, apply time, merge the search queue.

Ingest keeps everything readers see fresh; the rebuild is the repair and scheduling
path, and its idle cost does not grow with the number of posts beyond a listing of the
bucket:

1. Repair. The bucket's post keys are listed and cut into shards (model.SHARD_COUNT, by a
   hash of the key). Each shard's digest of (key, ETag) pairs is compared with the digest
   stored the last time that shard was found in agreement with the index; only a shard
   whose digest moved is compared item by item (one Query of the by_source index) and its
   stale keys re-ingested. An unchanged bucket costs the listing and one GetItem.
   Images under assets/ are compared the same way, as one digest: when it moved, the
   posts' image sizes are read (BatchGetItem) and the images whose ETag they do not
   record are sized again (at most MAX_IMAGE_REPAIRS per run; the next run goes on).
2. Time. Scheduled posts whose time has come and posts past their expiry date are found
   by their markers (one Query each) and moved to their new status.
3. Search. Texts ingest queued since the last run are merged into the search index.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib import cdn, images, indexer, model, posts, search_index, transitions
from chalicelib.model import PostRecord, SourceRejection, SourceState
from chalicelib.store import ConflictError, ContentStore, PostIndex, SourceRef

log = logging.getLogger(__name__)

MAX_REPORTED = 50          # keys listed by name in a report; the rest are counted
MAX_DUE_PER_RUN = 500      # scheduled/expiring posts moved per run; the next run takes the rest
# The function may run 15 minutes; a run stops comparing shards after this long and the next
# one carries on where it stopped (agreed shards keep their digests), so even a first run over
# a hundred thousand posts loses nothing if it needs several.
RUN_BUDGET_SECONDS = 600
# Search merges go on back to back (a bulk import's queue is searchable within a few runs, not
# one batch of MAX_BATCH_DOCS a run) until this far into the run; each merge call is bounded by
# MAX_SHARD_WRITES shards (about 64 MiB), so the last one ends well inside the 15 minutes.
MERGE_UNTIL_SECONDS = 660
SAVE_EVERY_SHARDS = 16     # a run that dies keeps the digests of the shards it had agreed
MAX_IMAGE_REPAIRS = 500    # images sized again per run (three calls each); the next run goes on
IMAGES_DIGEST = "images"   # the images' digests (per shard of posts), beside the sources' in the rebuild's state


@dataclass
class Report:
    """What a rebuild found and did (bounded: names at most MAX_REPORTED keys per list)."""

    started_at: str
    sources: int = 0
    shards_checked: int = 0
    repaired: list[dict[str, str]] = field(default_factory=list)
    repaired_count: int = 0
    went_live: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    search_merged: int = 0
    failures: int = 0
    shards_left: int = 0   # shards the run had no time for: the next run compares them
    writes: int = 0
    duration_ms: int = 0
    stale: list[str] = field(default_factory=list)  # URLs for the CDN to drop (bounded: cdn.plan)

    def note_repair(self, key: str, action: str, message: str = "") -> None:
        """Count a repaired key, naming the first few."""
        self.repaired_count += 1
        if len(self.repaired) < MAX_REPORTED:
            entry = {"key": key, "action": action}
            if message:
                entry["message"] = message[:200]
            self.repaired.append(entry)

    def note_stale(self, paths: Iterable[str]) -> None:
        """Add URLs a CDN must drop, kept as one invalidation's plan (cdn.plan bounds it)."""
        self.stale = cdn.plan({*self.stale, *paths})

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for the site item, the logs and `blogctl`)."""
        return asdict(self)


def rebuild(index: PostIndex, content: ContentStore, now: dt.datetime,
            budget_seconds: float = RUN_BUDGET_SECONDS) -> Report:
    """Repair the index from the bucket, apply time, merge the search queue."""
    clock = time.monotonic()
    report = Report(started_at=model.utc_text(now))
    state = index.get(model.REBUILD_KEY) or {}
    digests: dict[str, str] = dict(state.get("digests") or {})
    _repair(index, content, now, digests, report, deadline=clock + budget_seconds)
    if _repair_images(index, content, digests, report):
        _save_digests(index, digests, report)
    _apply_time(index, content, now, report)
    report.search_merged = search_index.merge_queue(index, content, now, until=clock + MERGE_UNTIL_SECONDS)
    report.writes += report.search_merged
    report.duration_ms = int((time.monotonic() - clock) * 1000)
    if report.writes or report.failures:
        site = index.get_site()
        index.put_site({**{k: v for k, v in site.items() if k not in ("pk", "sk")}, "report": report.as_dict()})
    log.info(json.dumps({"event": "rebuild", **report.as_dict()}))
    return report


def shards_of(sources: Iterable[SourceRef]) -> dict[str, dict[str, str]]:
    """The bucket's post keys by shard: {shard: {key: etag}}."""
    shards: dict[str, dict[str, str]] = defaultdict(dict)
    for ref in sources:
        shards[model.shard_of(ref.key)][ref.key] = ref.etag
    return shards


def digest_of(entries: dict[str, str]) -> str:
    """A shard's fingerprint: its keys and their ETags."""
    hasher = hashlib.sha256()
    for key in sorted(entries):
        hasher.update(f"{key}\0{entries[key]}\n".encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()[:24]


def _repair(index: PostIndex, content: ContentStore, now: dt.datetime, digests: dict[str, str],
            report: Report, deadline: float) -> None:
    """Compare the bucket with the index, shard by shard where the bucket moved, until the deadline."""
    sources = [ref for ref in content.list(posts.POSTS_PREFIX) if posts.is_post_key(ref.key)]
    report.sources = len(sources)
    shards = shards_of(sources)
    unsaved = 0
    pending = [s for s in model.all_shards() if digests.get(s) != digest_of(shards.get(s, {}))]
    for number, shard in enumerate(pending):  # empty shards too: the index may hold keys the bucket lost
        if number and time.monotonic() > deadline:  # every run makes progress: one shard at least
            report.shards_left = len(pending) - number
            break
        report.shards_checked += 1
        entries = shards.get(shard, {})
        if _repair_shard(index, content, now, entries, list(index.shard_states(shard)), report):
            digests[shard] = digest_of(entries)
            unsaved += 1
        if unsaved >= SAVE_EVERY_SHARDS:
            _save_digests(index, digests, report)
            unsaved = 0
    if unsaved:
        _save_digests(index, digests, report)


def _save_digests(index: PostIndex, digests: dict[str, str], report: Report) -> None:
    index.put({**model.REBUILD_KEY, "digests": digests})
    report.writes += 1


def _repair_images(index: PostIndex, content: ContentStore, digests: dict[str, str], report: Report) -> bool:
    """Size the images whose events were missed, one shard of posts at a time where the bucket moved;
    True if a digest moved."""
    found: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))  # shard -> slug -> name -> ETag
    for ref in content.list(images.ASSETS_PREFIX):
        asset = images.asset_of(ref.key)
        if asset is not None and images.is_image(asset[1]) and posts.is_slug(asset[0]):
            found[model.shard_of(asset[0])][asset[0]][asset[1]] = ref.etag
    moved, budget = False, MAX_IMAGE_REPAIRS
    for shard, slugs in sorted(found.items()):
        digest = digest_of({f"{slug}/{name}": etag for slug, names in slugs.items() for name, etag in names.items()})
        name_of_digest = f"{IMAGES_DIGEST}-{shard}"
        if digests.get(name_of_digest) == digest:
            continue
        stored = index.get_many(model.images_key(slug) for slug in slugs)
        stale = []
        for slug, names in sorted(slugs.items()):
            known = model.ImageSizes.from_item(slug, stored.get((model.POST_PREFIX + slug, model.IMAGES_SK))).sizes
            stale += [(slug, name) for name in sorted(names.keys() | known.keys())
                      if names.get(name) != (known[name].etag if name in known else None)]
        agreed = len(stale) <= budget
        for slug, name in stale[:budget]:
            agreed = _size_image(index, content, slug, name, report) and agreed
        budget -= min(len(stale), budget)
        if agreed:
            digests[name_of_digest] = digest
            moved = True
    return moved


def _size_image(index: PostIndex, content: ContentStore, slug: str, name: str, report: Report) -> bool:
    """Read one image's size again; True unless it failed."""
    key = f"{images.ASSETS_PREFIX}{slug}/{name}"
    try:
        outcome = indexer.reconcile_image(key, slug, name, index, content)
    except Exception as err:  # keep going: one image must not stop the rebuild
        log.exception("rebuild could not size %s", key)
        report.note_repair(key, "failed", str(err))
        report.failures += 1
        return False
    if outcome.action not in ("unchanged", "error"):
        report.note_repair(key, outcome.action, outcome.message)
        report.writes += 1
    return True


def stale_keys(entries: dict[str, str], states: list[SourceState]) -> list[str]:
    """Keys whose index entry does not describe the bucket's current version."""
    by_key: dict[str, list[SourceState]] = defaultdict(list)
    for state in states:
        by_key[_source_key(state)].append(state)
    stale = []
    for key, etag in entries.items():
        primary = model.primary_state(by_key.get(key, []))
        if primary is None or primary.seen_etag != etag:
            stale.append(key)
    for key, found in by_key.items():
        if key not in entries and any(isinstance(s, (PostRecord, SourceRejection)) for s in found):
            stale.append(key)
    return sorted(set(stale))


def _source_key(state: SourceState) -> str:
    return state.source.key if isinstance(state, PostRecord) else state.source_key


def _repair_shard(index: PostIndex, content: ContentStore, now: dt.datetime, entries: dict[str, str],
                  states: list[SourceState], report: Report) -> bool:
    """Re-ingest a shard's stale keys; True when all of them now agree with the bucket."""
    agreed = True
    for key in stale_keys(entries, states):
        try:
            outcome = indexer.reconcile(key, index, content, now)
        except Exception as err:  # keep going: one key must not stop the rebuild
            log.exception("rebuild could not reconcile %s", key)
            report.note_repair(key, "failed", str(err))
            report.failures += 1
            agreed = False
            continue
        if outcome.action != "unchanged":
            report.note_repair(key, outcome.action, outcome.message)
            report.writes += 1
            report.note_stale(outcome.stale)
    return agreed


def _apply_time(index: PostIndex, content: ContentStore, now: dt.datetime, report: Report) -> None:
    """Publish scheduled posts whose time came; take down posts past their expiry date."""
    upper = model.utc_text(now)
    for partition, done in ((model.SCHEDULED_PK, report.went_live), (model.EXPIRES_PK, report.expired)):
        for marker in index.due(partition, upper, MAX_DUE_PER_RUN):
            record = index.post(marker.slug)
            if not isinstance(record, PostRecord) or record.source.key != marker.source_key:
                index.commit([transitions.Delete(marker.key)])  # a leftover: its post moved on
                continue
            if record.status_now(now) is record.status:
                continue
            stored = index.get(model.text_key(record.slug)) if record.is_public(now) else None
            text = model.SearchText.from_item(stored) if stored else None  # its search entry waits there
            try:
                index.commit(transitions.time_passed(record, now, text).writes())
            except ConflictError:
                continue  # ingest changed the post meanwhile; the next run looks again
            report.writes += 1
            report.note_stale(cdn.WITHDRAWN)  # a post appeared or left: every listing may show it
            if len(done) < MAX_REPORTED:
                done.append(record.slug)
