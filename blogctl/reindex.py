"""`blogctl reindex`: start a stage's search index over, from the search records the table holds.

For an index made before document ids (chalicelib/search/shards.py FORMAT 2: a format-1 manifest,
records without `doc`, a `search_queue` index that does not project `doc`), or any index an
operator wants rebuilt. In order:

1. the `search_queue` index is rebuilt if its projection lacks a field a query reads
   (blogctl/resources.py `ensure_search_queue_index`);
2. the manifest item is replaced by a fence (format 0): while the run lasts, queries and merges
   refuse the index (CorruptIndex), so no merge settles a record this run then resets;
3. every search record (`POST#<slug>` / `TEXT`) gets its document id (its `DOC#<id>` claimed with
   the conditional write ingest uses, `transitions.claim_doc`: the slug's first id no other slug
   holds), in its entry and in the entry waiting on it; learns that the index holds nothing of it
   (`indexed` '', `indexed_length` 0); and is queued when its entry has terms. A leftover removal
   with nothing waiting is deleted, as a merge would (`IndexStore.settle`). Each write is
   conditioned on the record's `rev`: a concurrent ingest wins, and the record is read again;
4. the old index's objects (shards, open batch, progress) are deleted, then the fence: the next
   merge starts an empty index and merges the queue into it.

Idempotent: a run that dies part-way leaves the fence (search answers an error) and is run again.
A merge that was already running when the fence went up can overwrite it: the run notices (the
fence is not its own any more), says so and exits 1; run it again while no rebuild is running.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import model, search_index, transitions
from chalicelib.search import shards
from chalicelib.search.query import MAX_PENDING
from chalicelib.store import ConflictError, ContentStore, PostIndex
from chalicelib.transitions import Condition, Delete, Update

MAX_RECORD_TRIES = 5  # writes of one record that a concurrent ingest may beat before the run gives up on it
RETRY_PAUSE_SECONDS = 0.2  # times the try's number
MAX_DOC_ATTEMPTS = 100  # ids tried per slug (another slug holds one in about 50,000: two are already unheard of)
DELETE_CHUNK = 1000  # stored objects deleted per round (side by side)
FENCE_FORMAT = 0  # no format a reader knows: shards.Manifest.from_dict refuses it


@dataclass
class Report:
    """What a reindex did."""

    index_changes: list[str] = field(default_factory=list)  # what ensure_search_queue_index did
    records: int = 0          # search records found
    queued: int = 0           # queued for the merge (their entry has terms)
    waiting: int = 0          # not queued: a scheduled post's entry waits on them
    dropped: int = 0          # leftover removals deleted (nothing waits on them)
    ids: int = 0              # records given their document id
    ids_new: int = 0          # ...that had none (or another) before
    later_attempts: int = 0   # ids past the slug's first: another slug held the ones before
    retried: int = 0          # record writes a concurrent change beat (read again, written again)
    objects_deleted: int = 0  # stored objects of the old index
    failed: list[str] = field(default_factory=list)  # slugs that kept changing: run again
    overlapped: bool = False  # a merge overwrote the fence: run again

    @property
    def ok(self) -> bool:
        """Is the index started over, with nothing left to run again?"""
        return not self.failed and not self.overlapped


def reindex(index: PostIndex, content: ContentStore, sleep: Callable[[float], None] = time.sleep,
            report: Report | None = None) -> Report:
    """Steps 2 to 4 of the module's docstring (the caller has made sure of the `search_queue` index)."""
    report = report if report is not None else Report()
    run = uuid.uuid4().hex
    index.put({**search_index.MANIFEST_KEY, "manifest": {"format": FENCE_FORMAT}, "reindexing": run})
    for item in index.scan():
        if item.get("sk") == model.TEXT_SK and str(item.get("pk", "")).startswith(model.POST_PREFIX):
            report.records += 1
            _start_over(index, item, report, sleep)
    report.objects_deleted = _delete_objects(content, search_index.SEARCH_PREFIX)
    try:
        index.commit([Delete(search_index.MANIFEST_KEY, Condition("reindexing = :run", {":run": run}))])
    except ConflictError:
        report.overlapped = True
    return report


def start_over_if_old(dynamodb: Any, table: str, index: PostIndex, content: ContentStore) -> list[str]:
    """What `make run` does with a kept archive: when its `search_queue` index is the one from before
    document ids, rebuild it and start the search index over; the report's lines (none: nothing was old)."""
    from blogctl.resources import ensure_search_queue_index

    changes = ensure_search_queue_index(dynamodb, table)
    if not changes:
        return []
    return report_lines(reindex(index, content, report=Report(index_changes=changes)))


def claim(index: PostIndex, slug: str) -> tuple[str, int]:
    """`slug`'s document id, claimed as ingest claims it: (id, attempt), its first `doc_id` attempt that
    no other slug holds (shards.claim_doc_id is the same search in memory)."""
    for attempt in range(MAX_DOC_ATTEMPTS):
        doc = shards.doc_id(slug, attempt)
        try:
            index.commit([transitions.claim_doc(doc, slug)])
            return doc, attempt
        except ConflictError:
            continue
    raise RuntimeError(f"other slugs hold the first {MAX_DOC_ATTEMPTS} document ids of {slug!r}")


def _start_over(index: PostIndex, item: Mapping[str, Any] | None, report: Report,
                sleep: Callable[[float], None]) -> None:
    """One record: its id, nothing indexed, queued (or dropped); read again when ingest changed it meanwhile."""
    slug = str((item or {}).get("slug") or str((item or {}).get("pk", ""))[len(model.POST_PREFIX):])
    claimed: tuple[str, int] | None = None
    for attempt in range(MAX_RECORD_TRIES):
        if item is None:
            return  # gone meanwhile: nothing to start over
        if attempt:
            report.retried += 1
        terms = bool(item.get("terms"))
        waiting = dict(item.get("waiting") or {})
        key = model.text_key(slug)
        rev = item.get("rev")
        unchanged = (Condition("rev = :rev", {":rev": rev}) if rev is not None
                     else Condition("attribute_exists(pk) AND attribute_not_exists(rev)"))
        write: Delete | Update
        if not terms and not waiting:  # a removal the old index needed; the new one holds nothing of it
            write = Delete(key, Condition(f"{unchanged.expression} AND attribute_not_exists(waiting.slug)",
                                          unchanged.values))
        else:
            if claimed is None:
                claimed = claim(index, slug)
            doc = claimed[0]
            changes: dict[str, Any] = {"doc": doc, "indexed": "", "indexed_length": 0}
            if waiting:
                changes["waiting"] = {**waiting, "doc": doc}
            if terms:
                write = Update(key, set={**changes, "search_queue": model.SEARCH_QUEUE_PARTITION}, condition=unchanged)
            else:
                write = Update(key, set=changes, remove=("search_queue",), condition=unchanged)
        try:
            index.commit([write])
        except ConflictError:
            sleep(RETRY_PAUSE_SECONDS * (attempt + 1))
            item = index.get(key)
            continue
        if isinstance(write, Delete):
            report.dropped += 1
            return
        assert claimed is not None
        report.ids += 1
        report.ids_new += item.get("doc") != claimed[0]
        report.later_attempts += claimed[1] > 0
        report.queued += terms
        report.waiting += not terms
        return
    report.failed.append(slug)


def _delete_objects(content: ContentStore, prefix: str) -> int:
    """Delete every current object under `prefix`; return how many."""
    deleted = 0
    chunk: dict[str, bytes | None] = {}
    for ref in content.list(prefix):
        chunk[ref.key] = None
        if len(chunk) >= DELETE_CHUNK:
            content.write_many(chunk)
            deleted, chunk = deleted + len(chunk), {}
    content.write_many(chunk)
    return deleted + len(chunk)


def report_lines(report: Report) -> list[str]:
    """What `blogctl reindex` says."""
    changes = report.index_changes or ["index search_queue: up to date (it projects every field a query reads)"]
    lines = [*changes,
             f"{report.records} search record(s): {report.queued} queued for the merge, "
             f"{report.waiting} waiting for their post to go live, {report.dropped} leftover removal(s) deleted",
             f"document ids: {report.ids} given ({report.ids_new} newly claimed), "
             f"{report.later_attempts} past the slug's first (another slug held it)",
             f"{report.objects_deleted} stored object(s) of the old index deleted"]
    if report.retried:
        lines.append(f"{report.retried} write(s) retried: ingest changed those records meanwhile")
    if report.failed:
        lines.append(f"error: {len(report.failed)} record(s) kept changing ({', '.join(report.failed[:10])}): "
                     "run `blogctl reindex` again")
    if report.overlapped:
        lines.append("error: a search merge ran during the reindex and may have written the old index back: "
                     "run `blogctl reindex` again while no rebuild is running")
    else:
        lines.append(f"the scheduled rebuild (or `blogctl rebuild`, now) merges the queue, as much each run as its "
                     f"time allows; until the queue is empty, search finds the posts merged so far and the first "
                     f"{MAX_PENDING} queued ones")
    return lines


def cmd_reindex(args: argparse.Namespace) -> int:
    """`blogctl reindex`: rebuild the `search_queue` index if it is out of date, then start the search index over."""
    from blogctl.cli import connect
    from blogctl.connection import CommandError
    from blogctl.resources import ensure_search_queue_index
    from chalicelib import aws, config, services

    connect(args)
    try:
        report = Report(index_changes=ensure_search_queue_index(aws.client("dynamodb"), config.get_settings().table))
        reindex(services.index(), services.content(), report=report)
    except RuntimeError as err:  # an index DynamoDB has not built in hours; a slug with no free id
        raise CommandError(str(err)) from None
    for line in report_lines(report):
        print(line, file=sys.stdout if not line.startswith("error:") else sys.stderr)
    return 0 if report.ok else 1
