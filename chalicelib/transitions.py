"""What the index must write when a source changes state. Pure: no I/O.

Ingest and the rebuild describe a change as (old record, new record); this module turns
it into the writes of one transaction: the post item under a guard, its tag and author
memberships, the counts, its old URLs, the markers of its scheduled changes and its
queued search text. Every derived item follows from the two records alone, so a post
and everything readers see of it change together, in one TransactWriteItems call.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from chalicelib import model
from chalicelib.search import shards
from chalicelib.model import (
    ImageSizes, Key, PostRecord, Redirect, Rejection, SearchText, SourceRejection, SourceState, Status, Tombstone,
)

# Bounds on what an error may store: one bad upload must only ever affect itself.
MAX_PROBLEMS = 20
MAX_PROBLEM_CHARS = 500   # each problem or warning
MAX_ERROR_CHARS = 2000    # the joined message
MAX_WARNINGS = 20
MAX_CLAIMANTS = 20
MAX_MOVED_FROM = 8  # earlier paths a renamed post keeps redirecting (the most recent ones)


@dataclass(frozen=True)
class Condition:
    """A DynamoDB condition expression with its values."""

    expression: str
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)   # for attributes DynamoDB reserves (status)


@dataclass(frozen=True)
class Put:
    """Write a whole item."""

    item: dict[str, Any]
    condition: Condition | None = None

    @property
    def key(self) -> Key:
        """The item's key."""
        return {"pk": self.item["pk"], "sk": self.item["sk"]}


@dataclass(frozen=True)
class Delete:
    """Delete an item (absent is fine)."""

    key: Key
    condition: Condition | None = None


@dataclass(frozen=True)
class Update:
    """Set, add to and remove attributes of one item."""

    key: Key
    set: dict[str, Any] = field(default_factory=dict)
    add: dict[str, int] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    condition: Condition | None = None


Write = Put | Delete | Update


def unchanged_revision(state: SourceState) -> Condition:
    """The item is still the revision we read: optimistic locking for every write to it."""
    return Condition("rev = :rev", {":rev": state.rev})


# A new slug may be taken only where nothing lives, or a deleted post's tombstone does.
FREE_SLUG = Condition("attribute_not_exists(pk) OR #status = :deleted", {":deleted": Status.DELETED.value},
                      {"#status": "status"})


def _key_of(write: Write) -> tuple[str, str]:
    key = write.key
    return key["pk"], key["sk"]


class WriteSet:
    """The writes of one change, at most one per item (DynamoDB allows no more in a transaction)."""

    def __init__(self) -> None:
        self._writes: dict[tuple[str, str], Write] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self._labels: dict[tuple[str, str], str] = {}

    def put(self, write: Write) -> None:
        """Add a write; a later write to the same item replaces an earlier one."""
        self._writes[_key_of(write)] = write

    def delete(self, key: Key, condition: Condition | None = None) -> None:
        """Delete an item unless this change writes it too."""
        if (key["pk"], key["sk"]) not in self._writes:
            self._writes[(key["pk"], key["sk"])] = Delete(key, condition)

    def count(self, partition: str, name: str, delta: int, label: str) -> None:
        """Move a counter by `delta`."""
        self._counts[(partition, name)] += delta
        if label:
            self._labels[(partition, name)] = label

    def writes(self) -> list[Write]:
        """Every write, the guarded post item first (a failed condition is reported by position)."""
        found = list(self._writes.values())
        for (partition, name), delta in sorted(self._counts.items()):
            if delta:
                label = self._labels.get((partition, name), "")
                found.append(Update(model.count_key(partition, name), add={"count": delta},
                                    set={"label": label} if label else {}))
        return found


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rejection(problems: Iterable[str], source_id: str, etag: str, now: dt.datetime) -> Rejection:
    """A rejection's record, bounded whatever the upload held."""
    kept = [_bounded(str(p), MAX_PROBLEM_CHARS) for p in list(problems)[:MAX_PROBLEMS]]
    return Rejection(message=_bounded("; ".join(kept), MAX_ERROR_CHARS), problems=tuple(kept),
                     source_id=source_id, etag=etag, at=model.utc_text(now))


def bounded_warnings(warnings: Iterable[str]) -> tuple[str, ...]:
    """At most MAX_WARNINGS warnings, each of bounded length."""
    return tuple(_bounded(str(w), MAX_PROBLEM_CHARS) for w in list(warnings)[:MAX_WARNINGS])


# -- one post's change --


def post_change(old: PostRecord | None, new: PostRecord | None, now: dt.datetime, writes: WriteSet,
                text: SearchText | None = None) -> None:
    """Everything derived from a post that must change when it goes from `old` to `new`.

    The caller adds the post item itself (with its guard). Either side may be None (a new
    post, a retired one); `old` may be under another slug (a rename). `text` is the new
    version's search text, when it was rendered (the rebuild changes statuses only).
    """
    _memberships(old, new, writes)
    _counts(old, new, writes)
    _redirects(old, new, now, writes)
    _markers(old, new, writes)
    _search_text(old, new, text, now, writes)


def _memberships(old: PostRecord | None, new: PostRecord | None, writes: WriteSet) -> None:
    wanted = {(m.key["pk"], m.key["sk"]): m for m in model.memberships(new)}
    had = {(m.key["pk"], m.key["sk"]): m for m in model.memberships(old)}
    for key, member in wanted.items():
        if had.get(key) != member:
            writes.put(Put(member.to_item()))
    for key in had.keys() - wanted.keys():
        writes.delete({"pk": key[0], "sk": key[1]})


def _counts(old: PostRecord | None, new: PostRecord | None, writes: WriteSet) -> None:
    before, after = model.contributions(old), model.contributions(new)
    for (partition, name), label in after.items():
        if (partition, name) not in before:
            writes.count(partition, name, 1, label)
        elif before[(partition, name)] != label:  # same counter, renamed ('Python' -> 'python')
            writes.count(partition, name, 0, label)
    for (partition, name), label in before.items():
        if (partition, name) not in after:
            writes.count(partition, name, -1, "")


def _redirects(old: PostRecord | None, new: PostRecord | None, now: dt.datetime, writes: WriteSet) -> None:
    """Old URLs follow the post: they answer 301 only while it is public."""
    public = new is not None and new.is_public(now)
    had = set(old.old_paths) if old is not None else set()
    if new is not None:
        moved = old is None or old.slug != new.slug or old.is_public(now) != public
        for path in new.old_paths:
            if path in had and not moved:
                continue
            # Taking an alias another post holds fails the transaction; ingest checks first.
            writes.put(Put(Redirect(path, new.slug, public).to_item(), Condition(
                "attribute_not_exists(pk) OR target = :slug OR target = :old",
                {":slug": new.slug, ":old": old.slug if old is not None else new.slug})))
        writes.delete(model.url_key(model.post_path(new.slug)))  # the post lives here now: no loop
    for path in had - set(new.old_paths if new is not None else ()):
        writes.delete(model.url_key(path), Condition("target = :slug", {":slug": old.slug if old else ""}))


def _markers(old: PostRecord | None, new: PostRecord | None, writes: WriteSet) -> None:
    wanted = {(m.key["pk"], m.key["sk"]): m for m in model.markers(new)}
    for key, marker in wanted.items():
        writes.put(Put(marker.to_item()))
    for marker in model.markers(old):
        writes.delete(marker.key)


def _searchable(record: PostRecord | None) -> bool:
    return record is not None and record.status in (Status.PUBLISHED, Status.SCHEDULED)


def _search_text(old: PostRecord | None, new: PostRecord | None, text: SearchText | None,
                 now: dt.datetime, writes: WriteSet) -> None:
    """Queue the post's search record for the next merge of the search index.

    Only posts readers may see now are indexed (so no word of a draft or a scheduled post
    can surface, not even in "did you mean"): a scheduled post's entry waits on its record
    until the rebuild publishes it. A post that stops being searchable, or moves to another
    slug, queues its removal.
    """
    if new is not None and text is not None and _searchable(new):
        if new.is_public(now):
            record = SearchText(new.slug, text.entry, text.text)
        else:
            record = SearchText(new.slug, shards.pending_fields(new.slug, text.doc, new.rev, None), text.text,
                                text.entry)
        writes.put(Update(model.text_key(new.slug), set=record.queued()))
        if text.doc:  # (an entry written before document ids has none: `blogctl reindex` gives it one)
            writes.put(claim_doc(text.doc, new.slug))
    if old is not None and _searchable(old) and (new is None or not _searchable(new) or new.slug != old.slug):
        removal = SearchText(old.slug, shards.pending_fields(old.slug, None, old.rev + 1, None))
        writes.put(Update(model.text_key(old.slug), set=removal.queued()))


def claim_doc(doc: str, slug: str) -> Put:
    """The write that makes `doc` the search document id of `slug`: refused when another slug holds it
    (ingest then tries the slug's next id), a no-op when the slug already does. Never deleted: a slug
    keeps its id, and its postings in the shards keep naming it."""
    return Put({**model.doc_key(doc), "slug": slug}, Condition("attribute_not_exists(pk) OR slug = :slug",
                                                                  {":slug": slug}))


# -- the moves ingest and the rebuild make --


def publish(old: PostRecord | None, new: PostRecord, rejections: Iterable[SourceRejection],
            now: dt.datetime, text: SearchText | None) -> WriteSet:
    """Write `new`; `old` is this source's live post, under the same slug or renamed away."""
    writes = WriteSet()
    if old is not None and old.slug == new.slug:
        writes.put(Put(new.to_item(), unchanged_revision(old)))
    else:
        writes.put(Put(new.to_item(), FREE_SLUG))
        if old is not None:  # the front matter's slug changed (new.moved_from redirects the old path)
            writes.delete(model.post_key(old.slug), unchanged_revision(old))
    post_change(old, new, now, writes, text)
    for rejected in rejections:
        writes.delete(model.rejection_key(rejected.source_key))
    return writes


def moved_from(old: PostRecord | None, new_slug: str) -> tuple[str, ...]:
    """The earlier paths a post keeps redirecting after a change of slug (never its own path)."""
    if old is None:
        return ()
    paths = [*old.moved_from, *([model.post_path(old.slug)] if old.slug != new_slug else [])]
    own = model.post_path(new_slug)
    return tuple(p for p in dict.fromkeys(paths) if p != own)[-MAX_MOVED_FROM:]


def retire(record: PostRecord, now: dt.datetime, writes: WriteSet) -> None:
    """Take a post down because its source is gone: a tombstone if readers ever saw it (410)."""
    if record.counted or record.is_public(now):
        tomb = Tombstone(slug=record.slug, source_key=record.source.key, deleted_at=model.utc_text(now),
                         rev=record.rev + 1, claimants=record.claimants)
        writes.put(Put(tomb.to_item(), unchanged_revision(record)))
    else:
        writes.delete(model.post_key(record.slug), unchanged_revision(record))
    post_change(record, None, now, writes)


def time_passed(record: PostRecord, now: dt.datetime, text: SearchText | None = None) -> WriteSet:
    """A scheduled post's time came, or a post expired: the same post, in its status as of `now`.

    `text` is its stored search record: a post going live takes the entry waiting on it.
    """
    status = record.status_now(now)
    new = replace(record, status=status, counted=status is Status.PUBLISHED, rev=record.rev + 1)
    writes = WriteSet()
    writes.put(Put(new.to_item(), unchanged_revision(record)))
    live = SearchText(text.slug, text.waiting, text.text) if text is not None and text.waiting else None
    post_change(record, new, now, writes, live)
    return writes


def reject_on(state: SourceState, error: Rejection) -> WriteSet:
    """Record a rejected upload on the source's item; a post's last good version stays online."""
    writes = WriteSet()
    writes.put(Put(replace(state, error=error, rev=state.rev + 1).to_item(), unchanged_revision(state)))
    return writes


def reject_new(source_key: str, error: Rejection, claims: str = "", holder: PostRecord | None = None) -> WriteSet:
    """Record a source that has never published; when its slug is taken, the holder learns of it."""
    writes = WriteSet()
    writes.put(Put(SourceRejection(source_key, error, claims=claims, rev=1).to_item(),
                   Condition("attribute_not_exists(pk)")))
    if holder is not None and source_key not in holder.claimants and len(holder.claimants) < MAX_CLAIMANTS:
        writes.put(Update(model.post_key(holder.slug), set={
            "claimants": [*holder.claimants, source_key], "rev": holder.rev + 1}, condition=unchanged_revision(holder)))
    return writes


def image_sizes(old: ImageSizes, new: ImageSizes) -> WriteSet:
    """Write a post's image sizes as `new`, if nobody changed them since `old` was read."""
    guard = Condition("rev = :rev", {":rev": old.rev}) if old.rev else Condition("attribute_not_exists(pk)")
    writes = WriteSet()
    if new.sizes:
        writes.put(Put(new.to_item(), guard))
    else:
        writes.delete(new.key, guard)
    return writes
