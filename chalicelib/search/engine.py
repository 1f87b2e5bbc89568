"""The search engine wired together: a query as the site runs it, merges and splits as the rebuild runs them.

Storage comes in as an object (`Source` for the site, `Store` for the rebuild); nothing here
does I/O itself. `MemoryStore` keeps everything in dicts for tests and benchmarks, and is
the model of the S3/DynamoDB one:

- the manifest: one small JSON object (`Manifest.to_dict`);
- shard n: one object of bytes (`encode_shard`), e.g. S3 `_search/shards/<n>`;
- the open batch: one object of bytes (`encode_batch`) or none, and its progress, another
  (`encode_progress`, small; rewritten as the merge goes);
- one search record per post (`PendingEntry.to_item` plus a `pending` mark): ingest writes the
  new terms and sets the mark in the same transaction as the post, never touching `indexed`;
  `settle` (after a merge) writes `indexed` and clears the mark unless a newer revision came;
- one owner per document id (`shards.doc_id`): the slug whose postings it names, claimed in the
  same transaction, on condition that no other slug holds it (`shards.claim_doc_id` here);
- per post, its plain text and its index item, which `posts` returns for public posts only.
"""
from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from markupsafe import Markup

from chalicelib.search.query import MAX_PENDING, Candidate, Candidates, ParsedQuery, find, parse_query, suggest
from chalicelib.search.shards import (
    Batch, Manifest, PendingEntry, Progress, Shard, decode_batch, decode_progress, decode_shard, empty_shard,
    claim_doc_id, encode_batch, encode_progress, encode_shard, estimated_bytes, group_changes, group_completions,
    merge_completions, merge_shard, pending_fields, split_shard, split_source, start_batch,
)
from chalicelib.search.snippets import Excerpt, excerpt
from chalicelib.search.text import Document

PAGE_SIZE = 20  # results a search page shows
CHECK_CHUNK = 10  # candidates whose posts are fetched at a time
MAX_CHECKED = 40  # candidates fetched per query at most (phrase queries may find fewer results)
MAX_BATCH_DOCS = 500  # pending entries one batch merges
MAX_SHARD_WRITES = 8_000  # shards a merge call reads and rewrites: about 64 MiB (the rebuild's budget per run)
MERGE_CHUNK = 32  # shards read, merged and written at a time (bounds the merge's memory)
MAX_SPLITS = 2_048  # shards a grow call adds, MERGE_CHUNK at a time: room for any batch (about 16 MiB)


class Source(Protocol):
    """What a query reads."""

    def manifest(self) -> Mapping[str, Any] | None:
        """The manifest's data (None before the first merge)."""

    def shards(self, numbers: Collection[int]) -> Mapping[int, bytes]:
        """The stored bytes of these shards (a shard never written is simply absent)."""

    def pending(self, limit: int) -> Iterable[Mapping[str, Any]]:
        """At most `limit` pending entries' items."""

    def slugs(self, docs: Collection[str]) -> Mapping[str, str]:
        """The slug whose postings each of these document ids names (one read; an id never claimed is absent)."""

    def posts(self, slugs: Sequence[str]) -> Mapping[str, tuple[Mapping[str, Any], str]]:
        """(index item, plain text) of each of these posts that is public now; the others absent.
        The item has at least 'title' and 'date' (ties go to the newer), and 'tags' if any."""


class Store(Source, Protocol):
    """What a merge and a split also read and write."""

    def batch(self) -> bytes | None:
        """The open batch's bytes, if a merge was cut short."""

    def put_batch(self, data: bytes | None) -> None:
        """Store the open batch (None: delete it)."""

    def progress(self) -> bytes | None:
        """How far the open batch got (`encode_progress`)."""

    def put_progress(self, data: bytes | None) -> None:
        """Store the open batch's progress (None: delete it)."""

    def put_shards(self, shards: Mapping[int, bytes]) -> None:
        """Store these shards."""

    def put_manifest(self, data: Mapping[str, Any]) -> None:
        """Store the manifest."""

    def settle(self, entries: Sequence[PendingEntry]) -> None:
        """These entries are merged: set each record's `indexed` to `entry.settled()`, and clear its
        pending mark unless its revision moved on meanwhile."""


# -- the site's side --------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    """One result: the post's current index item, its score and its excerpt."""

    slug: str
    item: Mapping[str, Any]
    score: float
    snippet: Markup


@dataclass(frozen=True)
class Results:
    """A search's answer."""

    query: ParsedQuery
    hits: tuple[Hit, ...] = ()
    total: int = 0  # posts matching (see `exact`)
    exact: bool = True  # False: `total` counts the index's matches, unchecked, or at least (phrases: the hits found)
    suggestion: str | None = None  # "did you mean", when nothing matched
    bytes_read: int = 0  # of shards


def search(source: Source, text: str, limit: int = PAGE_SIZE) -> Results:
    """Run a reader's query: candidates from shards and pending entries, then the posts checked and excerpted."""
    query = parse_query(text)
    if not query:
        return Results(query)
    manifest = Manifest.from_dict(source.manifest())
    pending = [PendingEntry.from_item(item) for item in source.pending(MAX_PENDING)]
    found = find(query, manifest, source.shards, pending)
    hits, checked = _checked_hits(source, query, found, limit)
    # Every candidate checked, and every word's postings whole: the count is exact. Otherwise the index's
    # count (a lower bound), or with phrases the hits found (the index cannot tell which have the phrase).
    exact = checked >= found.total and not found.partial
    total = len(hits) if exact or query.phrases else max(found.total, len(hits))
    return Results(query, hits, total, exact, suggest(query, found) if not hits else None, found.bytes_read)


def _checked_hits(source: Source, query: ParsedQuery, found: Candidates, limit: int) -> tuple[tuple[Hit, ...], int]:
    """The candidates that are public posts and have the query's phrases, best first (ties: newest),
    and how many candidates were checked."""
    found_hits: list[tuple[Candidate, str, Mapping[str, Any], Excerpt]] = []
    ranked = list(found.ranked[:MAX_CHECKED])
    pending = found.overlay.entries if found.overlay else ()
    slugs = _slugs(source, [c.doc for c in ranked], pending)
    more = len(found.ranked) < MAX_CHECKED  # the uncertain candidates after them, read when reached
    checked = 0
    while len(found_hits) < limit:
        if more and len(ranked) < CHECK_CHUNK:
            extra = found.more()[:MAX_CHECKED - checked - len(ranked)]
            slugs.update(_slugs(source, [c.doc for c in extra], pending) if extra else {})
            ranked, more = ranked + list(extra), False
        if not ranked:
            break
        chunk, ranked = ranked[:CHECK_CHUNK], ranked[CHECK_CHUNK:]
        checked += len(chunk)
        posts = source.posts([slugs[c.doc] for c in chunk if c.doc in slugs])
        for candidate in chunk:
            slug = slugs.get(candidate.doc, "")
            if slug not in posts:
                continue  # not public (any more): its pending entry is not merged yet
            item, body = posts[slug]
            seen = excerpt(body, query, found.terms, headings(item), candidate.unverified)
            if seen.has_phrases and seen.has_words(candidate.unverified):
                found_hits.append((candidate, slug, item, seen))
    # Newest first among equals; those the index lists whole (no unverified word) before the others;
    # excerpts cut for the hits shown only.
    found_hits.sort(key=lambda h: (str(h[2].get("date", "")), h[1]), reverse=True)
    found_hits.sort(key=lambda h: (bool(h[0].unverified), -h[0].score))
    return tuple(Hit(slug, item, c.score, seen.html) for c, slug, item, seen in found_hits[:limit]), checked


def _slugs(source: Source, docs: Sequence[str], pending: Iterable[PendingEntry]) -> dict[str, str]:
    """The slugs of these document ids: the pending entries name their own, one read finds the others'."""
    known = {entry.doc: entry.slug for entry in pending}
    unknown = [doc for doc in docs if doc not in known]
    return {**(source.slugs(unknown) if unknown else {}), **known}


def headings(item: Mapping[str, Any]) -> list[str]:
    """A post's title and tag names (tags as names or as {'name': ...}), where phrases count too."""
    tags = [t.get("name", "") if isinstance(t, Mapping) else str(t) for t in item.get("tags") or ()]
    return [str(item.get("title", "")), *tags]


# -- the rebuild's side -----------------------------------------------------------------------

@dataclass(frozen=True)
class MergeReport:
    """What one merge call did."""

    generation: int = 0  # the batch merged (0: nothing pending)
    entries: int = 0
    shards_read: int = 0
    finished: bool = True  # False: the batch is open, call again (next run)


def merge(store: Store, budget: int = MAX_SHARD_WRITES, batch_docs: int = MAX_BATCH_DOCS) -> MergeReport:
    """Merge pending entries (`batch_docs` at a time) into the shards, reading at most `budget` shards
    per call; a batch cut short (budget spent, or the run died) resumes at the next call."""
    manifest = Manifest.from_dict(store.manifest())
    stored = store.batch()
    if stored is not None:
        batch, progress = decode_batch(stored), decode_progress(store.progress())
    else:
        entries = [PendingEntry.from_item(item) for item in store.pending(batch_docs)]
        if not entries:
            return MergeReport()
        if grow(store, incoming=sum(map(estimated_bytes, entries))):  # room first: shards stay near target
            manifest = Manifest.from_dict(store.manifest())
        batch, progress = start_batch(manifest, entries), Progress()
        store.put_progress(None)
        store.put_batch(encode_batch(batch))
    read = 0
    if progress.phase == "terms":
        progress, read = _merge_terms(store, batch, progress, budget)
    if progress.phase == "completions":
        progress, more = _merge_completions(store, batch, progress, budget - read)
        read += more
    if progress.phase != "finished":
        store.put_progress(encode_progress(progress))
        return MergeReport(batch.generation, len(batch.entries), read, finished=False)
    if manifest.generation < batch.generation:  # (a run that died after this line must not count twice)
        store.put_manifest(batch.manifest_after(manifest, progress.bytes_change).to_dict())
    store.settle(batch.entries)
    store.put_batch(None)
    store.put_progress(None)
    return MergeReport(batch.generation, len(batch.entries), read)


def _merge_terms(store: Store, batch: Batch, progress: Progress, budget: int) -> tuple[Progress, int]:
    """Phase one: postings merged shard by shard (up to `budget` shards read); on to "completions" when done."""
    changes = group_changes(batch.entries, batch.shards)
    order = sorted(changes)
    todo = order[progress.done:progress.done + max(budget, 0)]
    for numbers in _chunks(todo):
        current = store.shards(numbers)
        updated: dict[int, bytes] = {}
        reported = dict(progress.reported)
        for number in numbers:
            old = _decoded(current.get(number), number, batch.shards)
            change = changes[number]
            new, found = merge_shard(old, change.removed, change.added, generation=batch.generation,
                                     count=batch.shards, average_length=batch.average_length)
            reported.update(found)
            if new is not old:
                updated[number] = encode_shard(new)
        if len(reported) > len(progress.reported):
            # Saved before the shards: once they have the batch they report nothing more.
            store.put_progress(encode_progress(replace(progress, reported=reported)))
        store.put_shards(updated)
        progress = replace(progress, done=progress.done + len(numbers), reported=reported,
                           bytes_change=progress.bytes_change + _growth(current, updated))
    if progress.done >= len(order):
        progress = replace(progress, phase="completions", done=0)
    return progress, len(todo)


def _merge_completions(store: Store, batch: Batch, progress: Progress, budget: int) -> tuple[Progress, int]:
    """Phase two: the reported terms' completions merged into their prefixes' shards (up to `budget` read)."""
    changes = group_completions(progress.reported, batch.shards)
    order = sorted(changes)
    todo = order[progress.done:progress.done + max(budget, 0)]
    for numbers in _chunks(todo):
        current = store.shards(numbers)
        updated: dict[int, bytes] = {}
        for number in numbers:
            old = _decoded(current.get(number), number, batch.shards)
            new = merge_completions(old, changes[number], generation=batch.generation, count=batch.shards)
            if new is not old:
                updated[number] = encode_shard(new)
        store.put_shards(updated)
        progress = replace(progress, done=progress.done + len(numbers),
                           bytes_change=progress.bytes_change + _growth(current, updated))
    if progress.done >= len(order):
        progress = replace(progress, phase="finished")
    return progress, len(todo)


def _chunks(numbers: list[int]) -> Iterator[list[int]]:
    for at in range(0, len(numbers), MERGE_CHUNK):
        yield numbers[at:at + MERGE_CHUNK]


def _growth(before: Mapping[int, bytes], after: Mapping[int, bytes]) -> int:
    """Bytes the rewritten shards gained."""
    return sum(len(data) - len(before.get(n) or b"") for n, data in after.items())


def grow(store: Store, budget: int = MAX_SPLITS, incoming: int = 0) -> int:
    """Split shards while they are over their target size on average, counting `incoming` bytes about
    to be merged (never while a batch is open); how many were split."""
    if store.batch() is not None:
        return 0
    manifest = Manifest.from_dict(store.manifest())
    splits = 0
    while splits < budget and manifest.should_split(incoming):
        count = manifest.shards
        # Splits of one level are independent (distinct sources, distinct new shards): a chunk of
        # them costs three rounds of requests side by side, not three requests each.
        level_end = 1 << count.bit_length()
        wanted = min(MERGE_CHUNK, budget - splits, level_end - count, manifest.splits_needed(incoming))
        growing = range(count, count + wanted)
        sources = [split_source(c) for c in growing]
        current = store.shards(sources)
        kept, moved = {}, {}
        for c, source in zip(growing, sources):
            parts = split_shard(_decoded(current.get(source), source, c), c)
            kept[source], moved[c] = encode_shard(parts[0]), encode_shard(parts[1])
        store.put_shards(moved)  # first the new shards, then the manifest that sends readers to them
        manifest = replace(manifest, shards=count + wanted, bytes=manifest.bytes + _growth(current, kept)
                           + sum(map(len, moved.values())))
        store.put_manifest(manifest.to_dict())
        store.put_shards(kept)
        splits += wanted
    return splits


def _decoded(data: bytes | None, number: int, count: int) -> Shard:
    return decode_shard(data, number) if data else empty_shard(number, count)


# -- in memory ----------------------------------------------------------------------------------

@dataclass
class MemoryStore:
    """Everything a search needs, in dicts: tests and benchmarks, and the model for real storage."""

    manifest_data: dict[str, Any] | None = None
    shard_data: dict[int, bytes] = field(default_factory=dict)
    batch_data: bytes | None = None
    progress_data: bytes | None = None
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug -> search record
    owners: dict[str, str] = field(default_factory=dict)  # document id -> the slug that claimed it
    marked: dict[str, None] = field(default_factory=dict)  # slugs with the pending mark, oldest first
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # slug -> index item ('public': bool)
    texts: dict[str, str] = field(default_factory=dict)
    bytes_read: int = 0
    shard_reads: int = 0

    # what ingest does, in the post's own transaction
    def put_post(self, item: dict[str, Any], text: str, document: Document | None) -> None:
        """Store a post's item and text, and its pending entry (None: it leaves the index)."""
        slug = item["slug"]
        self.items[slug], self.texts[slug] = item, text
        self.mark_pending(slug, int(item.get("rev", 0)), document if item.get("public", True) else None)

    def mark_pending(self, slug: str, rev: int, document: Document | None) -> None:
        """Write a post's new terms and its pending mark (what ingest writes; `indexed` is the merges')."""
        record = self.records.setdefault(slug, {})
        record.update(pending_fields(slug, claim_doc_id(self.owners, slug), rev, document), pending=True)
        self.marked[slug] = None

    def delete_post(self, slug: str, rev: int) -> None:
        """A post deleted: gone from the site, and from the index once merged."""
        self.items.pop(slug, None)
        self.texts.pop(slug, None)
        self.mark_pending(slug, rev, None)

    # Source
    def manifest(self) -> dict[str, Any] | None:
        """The manifest's data."""
        return self.manifest_data

    def shards(self, numbers: Collection[int]) -> dict[int, bytes]:
        """Stored shards, counting what is read."""
        found = {n: self.shard_data[n] for n in numbers if n in self.shard_data}
        self.shard_reads += len(numbers)
        self.bytes_read += sum(map(len, found.values()))
        return found

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """Pending entries' items, the oldest marked first (as a sparse index on the mark would list them)."""
        return [self.records[slug] for slug in itertools.islice(self.marked, limit)]

    def slugs(self, docs: Collection[str]) -> dict[str, str]:
        """The slugs that claimed these document ids."""
        return {doc: slug for doc in docs if (slug := self.owners.get(doc)) is not None}

    def posts(self, slugs: Sequence[str]) -> dict[str, tuple[dict[str, Any], str]]:
        """Public posts' items and texts."""
        found = {}
        for slug in slugs:
            item = self.items.get(slug)
            if item is not None and item.get("public", True):
                found[slug] = (item, self.texts[slug])
        return found

    # Store
    def batch(self) -> bytes | None:
        """The open batch."""
        return self.batch_data

    def put_batch(self, data: bytes | None) -> None:
        """Store or drop the open batch."""
        self.batch_data = data

    def progress(self) -> bytes | None:
        """The open batch's progress."""
        return self.progress_data

    def put_progress(self, data: bytes | None) -> None:
        """Store or drop the open batch's progress."""
        self.progress_data = data

    def put_shards(self, shards: Mapping[int, bytes]) -> None:
        """Store shards."""
        self.shard_data.update(shards)

    def put_manifest(self, data: Mapping[str, Any]) -> None:
        """Store the manifest."""
        self.manifest_data = dict(data)

    def settle(self, entries: Sequence[PendingEntry]) -> None:
        """Merged entries: `indexed` updated, pending mark cleared unless a newer revision came."""
        for entry in entries:
            record = self.records.setdefault(entry.slug, pending_fields(entry.slug, entry.doc, entry.rev, None))
            record["indexed"], record["indexed_length"] = entry.settled()
            if record["rev"] == entry.rev:
                record["pending"] = False
                self.marked.pop(entry.slug, None)

    def refresh(self, budget: int = MAX_SHARD_WRITES, batch_docs: int = MAX_BATCH_DOCS) -> None:
        """Merge and split until nothing is pending and no shard is over its target (what rebuild runs do)."""
        while True:
            report = merge(self, budget, batch_docs)
            grown = grow(self)
            if report.generation == 0 and not grown:
                return
