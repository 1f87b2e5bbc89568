"""Ingest: make the index entry of one source key match what the bucket holds now.

An S3 event is only a hint that a key changed. Events arrive late, twice, or out of
order, so ingest never trusts the event's contents: it re-reads the key, writes the
index with optimistic locking (the item's `rev`) and a guard on the source's
modification time, then checks the key again and starts over if it moved meanwhile.
Whatever the order of events, the last write describes the bucket's current state.

A source that fails validation never takes a post down: the last good version stays
published (the item keeps its VersionId) and the error is written next to it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import posts, render
from chalicelib.errors import InvalidPost, Problem
from chalicelib.store import (
    ConflictError, ContentStore, PostIndex, SourceRef, alias_key, membership_key, post_key,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # re-reads of a key that keeps changing before the message is retried later


@dataclass(frozen=True)
class Outcome:
    """What reconciling one key did: the action taken and the post it concerned."""

    key: str
    action: str  # published | scheduled | draft | deleted | error | unchanged | ignored
    slug: str = ""
    message: str = ""

    def as_log(self) -> str:
        """One JSON line for the logs, where editors and operators look for errors."""
        return json.dumps({"event": "ingest", "key": self.key, "action": self.action,
                           "slug": self.slug, "message": self.message})


class IngestFailed(Exception):
    """Some keys of a batch could not be reconciled; the queue will deliver them again."""


def keys_from_message(body: str) -> list[str]:
    """The object keys an S3 event notification (an SQS message body) names."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError):
        log.warning("ignoring a queue message that is not JSON: %.200r", body)
        return []
    if not isinstance(message, dict) or message.get("Event") == "s3:TestEvent":
        return []
    keys = []
    for record in message.get("Records", []):
        s3 = record.get("s3", {}) if isinstance(record, dict) else {}
        raw_key = s3.get("object", {}).get("key")
        if raw_key:
            keys.append(unquote_plus(raw_key))  # S3 URL-encodes keys, '+' for space
    return keys


def handle_messages(bodies: Iterable[str], index: PostIndex, content: ContentStore,
                    now: dt.datetime) -> list[Outcome]:
    """Reconcile every key named in a batch of queue messages; raise IngestFailed if any failed."""
    keys = list(dict.fromkeys(k for body in bodies for k in keys_from_message(body)))
    outcomes, failed = [], []
    for key in keys:
        try:
            outcome = reconcile(key, index, content, now)
        except Exception:  # one bad key must not stop the rest of the batch
            log.exception("ingest of %s failed", key)
            failed.append(key)
            continue
        log.info(outcome.as_log())
        outcomes.append(outcome)
    if failed:
        raise IngestFailed(f"could not reconcile {len(failed)} key(s): {', '.join(failed)}")
    return outcomes


def reconcile(key: str, index: PostIndex, content: ContentStore, now: dt.datetime) -> Outcome:
    """Make the index agree with the current state of `key` in the bucket."""
    if not posts.is_post_key(key):
        return Outcome(key, "ignored")
    for _ in range(MAX_ATTEMPTS):
        try:
            outcome, seen = _reconcile_once(key, index, content, now)
        except ConflictError:
            continue  # someone wrote first: read everything again
        current = content.head(key)
        if (current.identity if current else None) == (seen.identity if seen else None):
            return outcome
    raise RuntimeError(f"{key} kept changing during {MAX_ATTEMPTS} attempts; the queue will retry it")


def _reconcile_once(key: str, index: PostIndex, content: ContentStore,
                    now: dt.datetime) -> tuple[Outcome, SourceRef | None]:
    source = content.read(key, posts.MAX_SOURCE_BYTES)
    owned = index.posts_for_source(key)
    if source is None:
        return _retire(key, owned, index, now), None
    ref = source.ref
    current = _primary(owned)
    if current is not None:
        if current.get("source_id") == ref.identity and "error" not in current:
            return Outcome(key, "unchanged", current["slug"]), ref
        if current.get("error", {}).get("source_id") == ref.identity:
            return Outcome(key, "unchanged", current["slug"], current["error"]["message"]), ref
        if current.get("source_mtime", "") > ref.mtime:
            raise ConflictError("our read of the bucket is older than the index")
    try:
        if source.data is None:
            raise InvalidPost([posts.too_large(ref.size)])
        post = posts.parse_post(key, source.data)
    except InvalidPost as err:
        return _record_error(key, ref, current, err, index, now), ref
    target = current if current is not None and current["slug"] == post.slug else index.get_post(post.slug)
    if target is not None and target.get("source_key") != key and target.get("status") != "deleted":
        clash = InvalidPost([Problem(f"slug '{post.slug}' is already used by {target.get('source_key')}; "
                                     "choose another 'slug:' or file name")])
        return _record_error(key, ref, current, clash, index, now), ref
    return _publish(post, ref, target, owned, index, now), ref


def _live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that are not tombstones."""
    return [i for i in items if i.get("status") != "deleted"]


def _primary(owned: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The item a source key currently maps to: a live one before a tombstone."""
    return (_live(owned) or owned or [None])[0]


def listing_sk(date: str, slug: str) -> str:
    """Sort key of listings: newest first by date, then slug."""
    return f"{date}#{slug}"


def iso(moment: dt.datetime) -> str:
    """A UTC moment as sortable ISO text, to the second."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_listed(item: dict[str, Any]) -> bool:
    """Items that belong in listings: published, or scheduled (hidden until their date by the query)."""
    return item.get("status") in ("published", "scheduled")


def status_now(item: dict[str, Any], now: dt.datetime) -> str:
    """The item's status as readers see it now: 'scheduled' turns 'published' once its date has come."""
    status = item.get("status", "")
    return "published" if status == "scheduled" and is_public(item, now) else status


def is_public(item: dict[str, Any] | None, now: dt.datetime) -> bool:
    """May readers see this post right now?"""
    return bool(item) and is_listed(item) and item.get("date", "~") <= iso(now)


def post_item(post: posts.Post, ref: SourceRef, now: dt.datetime, rev: int) -> dict[str, Any]:
    """The index item for a valid post."""
    rendered = render.render_markdown(post.body)
    status = post.status(now)
    date = iso(post.date)
    item: dict[str, Any] = {
        **post_key(post.slug),
        "slug": post.slug,
        "title": post.title,
        "date": date,
        "updated": iso(post.updated) if post.updated else None,
        "tags": [{"slug": t.slug, "name": t.name} for t in post.tags],
        "summary": post.summary or render.summarize(post.body),
        "author": post.author or None,
        "aliases": list(post.aliases),
        "extra": json.dumps(post.extra, sort_keys=True) if post.extra else None,
        "status": status,
        "words": rendered.words,
        "reading_minutes": rendered.reading_minutes,
        "source_key": ref.key,
        "source_id": ref.identity,
        "version_id": ref.version_id,
        "etag": ref.etag,
        "source_mtime": ref.mtime,
        "indexed_at": iso(now),
        "rev": rev,
    }
    if status in ("published", "scheduled"):
        item["listing"] = "PUBLIC"
        item["listing_sk"] = listing_sk(date, post.slug)
    return item


# What a tag page and a tag feed need of a post, copied so that each is one Query. (Not
# `source_key` itself: that names the post items in the by_source index.)
MEMBERSHIP_FIELDS = ("slug", "title", "date", "updated", "summary", "tags", "reading_minutes", "author",
                     "source_mtime")


def source_of(item: dict[str, Any]) -> dict[str, Any]:
    """Where an item's Markdown lives: {key, version_id, id}, for post and membership items alike."""
    return item.get("source") or {"key": item["source_key"], "version_id": item.get("version_id"),
                                  "id": item["source_id"]}


def membership_items(item: dict[str, Any]) -> list[dict[str, Any]]:
    """One item per tag of a listed post, carrying what a tag page shows."""
    if not is_listed(item):
        return []
    shown = {k: item[k] for k in MEMBERSHIP_FIELDS if item.get(k) is not None}
    shown["source"] = {k: v for k, v in source_of(item).items() if v is not None}
    return [{**membership_key(tag["slug"], item["listing_sk"]), **shown, "tag_name": tag["name"]}
            for tag in item.get("tags", [])]


def _membership_keys(item: dict[str, Any] | None) -> set[tuple[str, str]]:
    if not item or not is_listed(item):
        return set()
    return {(m["pk"], m["sk"]) for m in membership_items(item)}


def revision_guard(target: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Condition for replacing `target`: it is still the revision we read (or still absent)."""
    if target is None:
        return "attribute_not_exists(pk)", {}
    return "rev = :rev", {":rev": target.get("rev", 0)}


def _publish(post: posts.Post, ref: SourceRef, target: dict[str, Any] | None,
             owned: list[dict[str, Any]], index: PostIndex, now: dt.datetime) -> Outcome:
    item = post_item(post, ref, now, rev=(target or {}).get("rev", 0) + 1)
    if target and target.get("nav") and is_listed(item):
        item["nav"] = target["nav"]  # keep the links until the rebuild recomputes them
    tx = index.transaction()
    _write_aliases(tx, item, target, index)  # first: it settles which aliases the item keeps
    condition, values = revision_guard(target)
    tx.put(item, f"{condition} AND (attribute_not_exists(source_mtime) OR source_mtime <= :mtime)",
           {**values, ":mtime": ref.mtime})
    new_members = membership_items(item)
    new_keys = {(m["pk"], m["sk"]) for m in new_members}
    for pk, sk in _membership_keys(target) - new_keys:
        tx.delete({"pk": pk, "sk": sk})
    for member in new_members:
        tx.put(member)
    for old in owned:  # the front matter's slug changed: the old address redirects to the new one
        if old is not target and old.get("slug") != post.slug:
            _retire_item(tx, old, now, redirect_to=post.slug)
    index.commit(tx)
    message = "; ".join(item.get("warnings", []))
    return Outcome(ref.key, item["status"], post.slug, message)


def _write_aliases(tx: Any, item: dict[str, Any], target: dict[str, Any] | None, index: PostIndex) -> None:
    slug = item["slug"]
    wanted = list(item["aliases"])
    had = set((target or {}).get("aliases", []))
    kept = []
    for alias in wanted:
        if alias in had:
            kept.append(alias)
            continue
        owner = index.get_alias(alias)
        holder = index.get_post(alias)
        if owner not in (None, slug) or (holder is not None and holder.get("status") != "deleted"):
            item.setdefault("warnings", []).append(f"alias '{alias}' is already taken; ignored")
            continue
        tx.put({**alias_key(alias), "target": slug})
        kept.append(alias)
    for alias in had - set(wanted):
        tx.delete(alias_key(alias), "target = :slug", {":slug": slug})
    item["aliases"] = kept


def _retire_item(tx: Any, item: dict[str, Any], now: dt.datetime, redirect_to: str | None = None) -> None:
    """Take a post out of the index: a tombstone if readers ever saw it (410), else nothing (404)."""
    slug = item["slug"]
    for pk, sk in _membership_keys(item):
        tx.delete({"pk": pk, "sk": sk})
    for alias in item.get("aliases", []):
        if alias != redirect_to:
            tx.delete(alias_key(alias), "target = :slug", {":slug": slug})
    condition, values = revision_guard(item)
    if redirect_to:
        tx.delete(post_key(slug), condition, values)
        tx.put({**alias_key(slug), "target": redirect_to})
    elif is_public(item, now):
        tx.put({**post_key(slug), "slug": slug, "status": "deleted", "source_key": item.get("source_key"),
                "deleted_at": iso(now), "rev": item.get("rev", 0) + 1}, condition, values)
    else:
        tx.delete(post_key(slug), condition, values)


def _retire(key: str, owned: list[dict[str, Any]], index: PostIndex, now: dt.datetime) -> Outcome:
    live = _live(owned)
    if not live:
        return Outcome(key, "unchanged", owned[0]["slug"] if owned else "")
    tx = index.transaction()
    for item in live:
        _retire_item(tx, item, now)
    index.commit(tx)
    return Outcome(key, "deleted", live[0]["slug"])


def _record_error(key: str, ref: SourceRef, current: dict[str, Any] | None, err: InvalidPost,
                  index: PostIndex, now: dt.datetime) -> Outcome:
    """Keep the last good version; write the error where `blogctl status` shows it."""
    error = {"message": str(err), "problems": [str(p) for p in err.problems],
             "source_id": ref.identity, "etag": ref.etag, "at": iso(now)}
    if current is not None:
        condition, values = revision_guard(current)
        index.update(post_key(current["slug"]), {"error": error, "rev": current.get("rev", 0) + 1},
                     condition=condition, values=values)
        return Outcome(key, "error", current["slug"], error["message"])
    slug = posts.slug_from_key(key) or "untitled"
    holder = index.get_post(slug)
    if holder is not None and holder.get("source_key") != key:
        # The slug belongs to another source: the error lives in the logs only.
        return Outcome(key, "error", "", error["message"])
    condition, values = revision_guard(holder)
    tx = index.transaction()
    tx.put({**post_key(slug), "slug": slug, "status": "error", "source_key": key, "error": error,
            "rev": (holder or {}).get("rev", 0) + 1}, condition, values)
    index.commit(tx)
    return Outcome(key, "error", slug, error["message"])
