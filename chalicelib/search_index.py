"""The search index in storage: what a query reads, and how the rebuild merges ingest's queue.

The engine (chalicelib/search) is pure; this module gives it its storage:

- shards: S3 objects under `_site/search/shards/<n>`, read a handful per query, side by side;
- the manifest (shard count, documents, generation): the item `SITE` / `SEARCH`;
- pending entries: the search records ingest queued in each post's own transaction
  (model.SearchText, read through the sparse `search_queue` index, without their texts);
- the slugs of the document ids a query ranks: their `DOC#<id>` items (model.doc_key, claimed
  in each post's own transaction), one BatchGetItem;
- the posts a query checks: their items and search records, one BatchGetItem, and only the
  ones public now count, so nothing withdrawn is ever shown, even before a merge;
- a merge's open batch and progress: S3 objects, present only while a merge is unfinished.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from chalicelib import model
from chalicelib.model import PostRecord
from chalicelib.search import engine
from chalicelib.search.shards import PendingEntry
from chalicelib.store import ConflictError, ContentStore, PostIndex
from chalicelib.transitions import Condition, Delete, Update

SEARCH_PREFIX = "_site/search/"
SHARD_PREFIX = SEARCH_PREFIX + "shards/"
BATCH_KEY = SEARCH_PREFIX + "batch"
PROGRESS_KEY = SEARCH_PREFIX + "progress"
MANIFEST_KEY: model.Key = {"pk": model.SITE_PK, "sk": "SEARCH"}


class IndexSource:
    """What a query reads, from the table and the bucket, as the index stands at `now`."""

    def __init__(self, index: PostIndex, content: ContentStore, now: dt.datetime) -> None:
        self._index, self._content, self._now = index, content, now

    def manifest(self) -> Mapping[str, Any] | None:
        """The manifest (None before the first merge)."""
        item = self._index.get(MANIFEST_KEY)
        return item.get("manifest") if item else None

    def shards(self, numbers: Collection[int]) -> Mapping[int, bytes]:
        """The stored bytes of these shards, read side by side."""
        found = self._content.read_many(f"{SHARD_PREFIX}{n}" for n in numbers)
        return {int(key[len(SHARD_PREFIX):]): data for key, data in found.items()}

    def pending(self, limit: int) -> Iterable[Mapping[str, Any]]:
        """At most `limit` queued entries."""
        return self._index.search_queue(limit)

    def slugs(self, docs: Collection[str]) -> Mapping[str, str]:
        """The slugs that claimed these document ids."""
        found = self._index.get_many([model.doc_key(doc) for doc in docs])
        return {pk[len(model.DOC_PREFIX):]: str(item["slug"]) for (pk, _), item in found.items()}

    def posts(self, slugs: Sequence[str]) -> Mapping[str, tuple[Mapping[str, Any], str]]:
        """The items and texts of the posts among `slugs` that readers may see now."""
        found = self._index.get_many([key for slug in slugs for key in (model.post_key(slug), model.text_key(slug))])
        shown = {}
        for slug in slugs:
            item = found.get((model.POST_PREFIX + slug, model.POST_SK))
            if item is None or item.get("status") == model.Status.DELETED.value:
                continue
            if PostRecord.from_item(item).is_public(self._now):
                text = found.get((model.POST_PREFIX + slug, model.TEXT_SK)) or {}
                shown[slug] = (item, str(text.get("text", "")))
        return shown


class IndexStore(IndexSource):
    """What a merge and a split also read and write.

    The manifest's item also says whether a merge is open, so an idle run reads no batch object.
    """

    def __init__(self, index: PostIndex, content: ContentStore, now: dt.datetime) -> None:
        super().__init__(index, content, now)
        self._state: dict[str, Any] | None = None

    def _item(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self._index.get(MANIFEST_KEY) or {**MANIFEST_KEY}
        return self._state

    def manifest(self) -> Mapping[str, Any] | None:
        """The manifest (None before the first merge)."""
        found: Mapping[str, Any] | None = self._item().get("manifest")
        return found

    def batch(self) -> bytes | None:
        """The open batch, if a merge was cut short."""
        if not self._item().get("batch_open"):
            return None
        return self._content.read_many([BATCH_KEY]).get(BATCH_KEY)

    def put_batch(self, data: bytes | None) -> None:
        """Store the open batch (None: delete it)."""
        self._content.write_many({BATCH_KEY: data})
        self._write({"batch_open": data is not None})

    def progress(self) -> bytes | None:
        """How far the open batch got."""
        if not self._item().get("batch_open"):
            return None
        return self._content.read_many([PROGRESS_KEY]).get(PROGRESS_KEY)

    def put_progress(self, data: bytes | None) -> None:
        """Store the open batch's progress (None: delete it)."""
        self._content.write_many({PROGRESS_KEY: data})

    def put_shards(self, shards: Mapping[int, bytes]) -> None:
        """Store these shards, side by side."""
        self._content.write_many({f"{SHARD_PREFIX}{n}": data for n, data in shards.items()})

    def put_manifest(self, data: Mapping[str, Any]) -> None:
        """Store the manifest."""
        self._write({"manifest": dict(data)})

    def _write(self, changes: dict[str, Any]) -> None:
        self._state = {**self._item(), **changes}
        self._index.put(self._state)

    def settle(self, entries: Sequence[PendingEntry]) -> None:
        """Merged: each record learns what the shards now hold; its queue mark goes unless it changed since."""
        for entry in entries:
            indexed, length = entry.settled()
            key = model.text_key(entry.slug)
            unchanged = {":rev": entry.rev}
            learned = {"indexed": indexed, "indexed_length": length}
            attempts: list[Update | Delete] = [
                # It left the index and nothing waits on it (a scheduled post's entry does): the record goes.
                *([Delete(key, Condition("rev = :rev AND attribute_not_exists(waiting.slug)", unchanged))]
                  if not entry.terms else []),
                Update(key, set=learned, remove=("search_queue",), condition=Condition("rev = :rev", unchanged)),
                # Queued again meanwhile: it stays queued, knowing what is indexed.
                Update(key, set=learned, condition=Condition("attribute_exists(pk)")),
            ]
            for write in attempts:
                try:
                    self._index.commit([write])
                    break
                except ConflictError:
                    continue


def merge_queue(index: PostIndex, content: ContentStore, now: dt.datetime, until: float | None = None,
                clock: Callable[[], float] = time.monotonic) -> int:
    """Merge queued search records into the index, one bounded merge call and then more, back to back,
    while the queue has entries and `clock` is before `until` (the rest next run); return how many."""
    store = IndexStore(index, content, now)
    merged = 0
    while True:
        report = engine.merge(store)
        engine.grow(store)
        merged += report.entries
        if not report.entries or until is None or clock() >= until:
            return merged


def search(index: PostIndex, content: ContentStore, now: dt.datetime, text: str) -> engine.Results:
    """A reader's query, against the index as it stands now."""
    return engine.search(IndexSource(index, content, now), text)
