"""The scheduled rebuild: reconcile the whole bucket with the index.

Read (list the bucket, scan the table) → repair (re-ingest every key the index has
wrong: missed events, deletions) → generate (statuses of posts whose time has come,
previous/next and related links, tag memberships, tag counts, the archive, the search
artifact) → write only what differs. A rebuild of an unchanged bucket writes nothing.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from chalicelib import ingest, posts, render, search
from chalicelib.store import (
    SEARCH_ARTIFACT_KEY, ConflictError, ContentStore, PostIndex, SourceRef, alias_key, dumps, post_key,
)

log = logging.getLogger(__name__)

RELATED_POSTS = 3
RELATED_CANDIDATES_PER_TAG = 12  # neighbours in time per shared tag: bounded work per post
MAX_REPORTED_ERRORS = 200


@dataclass
class Report:
    """What a rebuild found and did."""

    started_at: str
    sources: int = 0
    posts: dict[str, int] = field(default_factory=dict)
    repaired: list[dict[str, str]] = field(default_factory=list)
    went_live: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    writes: int = 0
    search_documents: int = 0
    duration_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for the site item, the logs and `blogctl`)."""
        return asdict(self)


@dataclass
class Snapshot:
    """The table's items, grouped by kind."""

    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    memberships: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    site: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Any) -> "Snapshot":
        """Group scanned items by their key prefix."""
        snap = cls()
        for item in items:
            pk = item["pk"]
            if pk.startswith("POST#"):
                snap.posts[item["slug"]] = item
            elif pk.startswith("TAG#"):
                snap.memberships[(pk, item["sk"])] = item
            elif pk.startswith("ALIAS#"):
                snap.aliases[pk[len("ALIAS#"):]] = item.get("target", "")
            elif pk == "SITE":
                snap.site = item
        return snap

    def by_source(self) -> dict[str, dict[str, Any]]:
        """The item each source key maps to (live items before tombstones)."""
        mapping: dict[str, dict[str, Any]] = {}
        for item in self.posts.values():
            key = item.get("source_key")
            if key and (key not in mapping or mapping[key].get("status") == "deleted"):
                mapping[key] = item
        return mapping


def rebuild(index: PostIndex, content: ContentStore, now: dt.datetime) -> Report:
    """Make the index match the bucket and refresh everything derived from it."""
    clock = time.monotonic()
    report = Report(started_at=ingest.iso(now))
    sources = {ref.key: ref for ref in content.list(posts.POSTS_PREFIX) if posts.is_post_key(ref.key)}
    report.sources = len(sources)
    snapshot = Snapshot.of(index.scan())

    stale = stale_keys(sources, snapshot)
    for key in stale:
        try:
            outcome = ingest.reconcile(key, index, content, now)
            report.repaired.append({"key": key, "action": outcome.action})
        except Exception as err:  # keep going: one key must not stop the rebuild
            log.exception("rebuild could not reconcile %s", key)
            report.repaired.append({"key": key, "action": "failed", "message": str(err)})
    if stale:
        snapshot = Snapshot.of(index.scan())

    report.writes += _apply_post_updates(index, snapshot, post_updates(snapshot, now), report)
    report.writes += _apply_memberships(index, snapshot)
    report.writes += _apply_aliases(index, snapshot)
    search_info, search_writes = _refresh_search(content, snapshot, report)
    report.writes += search_writes
    report.errors = collect_errors(snapshot)
    report.posts = dict(Counter(ingest.status_now(p, now) for p in snapshot.posts.values()))

    site = site_summary(snapshot, now)
    site["search"] = search_info
    site["errors"] = report.errors
    current = {k: snapshot.site.get(k) for k in site}
    report.duration_ms = int((time.monotonic() - clock) * 1000)
    if site != current or report.writes:
        report.writes += 1
        index.put_site({**site, "report": report.as_dict()})
    log.info(json.dumps({"event": "rebuild", **report.as_dict()}))
    return report


def stale_keys(sources: dict[str, SourceRef], snapshot: Snapshot) -> list[str]:
    """Keys whose index entry does not describe the bucket's current version."""
    mapped = snapshot.by_source()
    stale = []
    for key, ref in sources.items():
        item = mapped.get(key)
        known = {item.get("etag"), item.get("error", {}).get("etag")} if item else set()
        if ref.etag not in known:
            stale.append(key)
    for key, item in mapped.items():
        if key not in sources and item.get("status") != "deleted":
            stale.append(key)
    return sorted(stale)


def public_posts(snapshot: Snapshot, now: dt.datetime) -> list[dict[str, Any]]:
    """Posts readers can see now, newest first."""
    visible = [p for p in snapshot.posts.values() if ingest.is_public(p, now)]
    return sorted(visible, key=lambda p: p["listing_sk"], reverse=True)


def post_updates(snapshot: Snapshot, now: dt.datetime) -> dict[str, dict[str, Any]]:
    """Per slug, the fields to change: status of posts whose date came, and navigation links."""
    visible = public_posts(snapshot, now)
    navigation = compute_navigation(visible)
    updates: dict[str, dict[str, Any]] = {}
    for item in snapshot.posts.values():
        wanted: dict[str, Any] = {}
        status = ingest.status_now(item, now)
        if status != item.get("status"):
            wanted["status"] = status
        if ingest.is_public(item, now):
            nav = navigation[item["slug"]]
            if item.get("nav") != nav:
                wanted["nav"] = nav
        if wanted:
            updates[item["slug"]] = wanted
    return updates


def compute_navigation(visible: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Previous/next (by date) and related posts (by shared tags) for each public post."""
    link = lambda p: {"slug": p["slug"], "title": p["title"]}  # noqa: E731
    by_tag: dict[str, list[int]] = defaultdict(list)
    place_in_tag: dict[tuple[str, int], int] = {}  # (tag, position) -> index in by_tag[tag]
    for position, post in enumerate(visible):
        for tag in post.get("tags", []):
            place_in_tag[(tag["slug"], position)] = len(by_tag[tag["slug"]])
            by_tag[tag["slug"]].append(position)
    navigation = {}
    for position, post in enumerate(visible):
        shared: Counter[int] = Counter()
        for tag in post.get("tags", []):
            members = by_tag[tag["slug"]]
            at = place_in_tag[(tag["slug"], position)]
            half = RELATED_CANDIDATES_PER_TAG // 2
            for other in members[max(0, at - half): at + half + 1]:
                if other != position:
                    shared[other] += 1
        related = sorted(shared, key=lambda o: (-shared[o], abs(o - position), o))[:RELATED_POSTS]
        navigation[post["slug"]] = {
            "newer": link(visible[position - 1]) if position > 0 else None,
            "older": link(visible[position + 1]) if position + 1 < len(visible) else None,
            "related": [link(visible[o]) for o in related],
        }
    return navigation


def _unchanged_since_read(snapshot: Snapshot, slug: str) -> tuple[str, dict[str, Any]]:
    """A condition that the post item is still the revision the snapshot read (or still absent).

    The rebuild's writes derive from that revision; if ingest changed the post meanwhile, the
    write is skipped, so a stale snapshot can never put back, say, a draft's tag membership.
    """
    return ingest.revision_guard(snapshot.posts.get(slug))


def _apply_post_updates(index: PostIndex, snapshot: Snapshot, updates: dict[str, dict[str, Any]],
                        report: Report) -> int:
    writes = 0
    for slug, fields in sorted(updates.items()):
        condition, values = _unchanged_since_read(snapshot, slug)
        try:
            index.update(post_key(slug), fields, condition=condition, values=values)
        except ConflictError:
            continue  # ingest changed it meanwhile; the next rebuild sees the new version
        writes += 1
        if fields.get("status") == "published":
            report.went_live.append(slug)
    return writes


def _apply_memberships(index: PostIndex, snapshot: Snapshot) -> int:
    """Tag memberships exactly as the post items say (repairs drift from failed writes)."""
    wanted = {(m["pk"], m["sk"]): m for p in snapshot.posts.values() for m in ingest.membership_items(p)}
    changes = [(key, member) for key, member in wanted.items() if snapshot.memberships.get(key) != member]
    changes += [(key, None) for key in snapshot.memberships.keys() - wanted.keys()]
    writes = 0
    for (pk, sk), member in changes:
        slug = (member or snapshot.memberships[(pk, sk)]).get("slug", "")
        tx = index.transaction()
        tx.check(post_key(slug), *_unchanged_since_read(snapshot, slug))
        if member is None:
            tx.delete({"pk": pk, "sk": sk})
        else:
            tx.put(member)
        try:
            index.commit(tx)
            writes += 1
        except ConflictError:
            continue  # the post changed since the snapshot: ingest wrote its memberships itself
    return writes


def _apply_aliases(index: PostIndex, snapshot: Snapshot) -> int:
    """Every alias a post lists exists, unless another post owns it."""
    writes = 0
    for item in snapshot.posts.values():
        if item.get("status") == "deleted":
            continue
        for alias in item.get("aliases", []):
            if alias not in snapshot.aliases and alias not in snapshot.posts:
                tx = index.transaction()
                tx.put({**alias_key(alias), "target": item["slug"]}, "attribute_not_exists(pk)")
                try:
                    index.commit(tx)
                    writes += 1
                except ConflictError:
                    pass
    return writes


def collect_errors(snapshot: Snapshot) -> list[dict[str, str]]:
    """The sources whose latest upload was rejected, for `blogctl status` and the logs."""
    errors = [
        {"key": p.get("source_key", ""), "slug": p["slug"], "message": p["error"]["message"]}
        for p in snapshot.posts.values() if "error" in p
    ]
    return sorted(errors, key=lambda e: e["key"])[:MAX_REPORTED_ERRORS]


def site_summary(snapshot: Snapshot, now: dt.datetime) -> dict[str, Any]:
    """Tag counts and the archive (public posts only) and post counts by status."""
    visible = public_posts(snapshot, now)
    tags: dict[str, dict[str, Any]] = {}
    months: Counter[str] = Counter()
    for post in visible:
        months[post["date"][:7]] += 1
        for tag in post.get("tags", []):
            entry = tags.setdefault(tag["slug"], {"name": tag["name"], "count": 0})
            entry["count"] += 1
    return {
        "tags": tags,
        "months": dict(months),
        "public_posts": len(visible),
        "newest": visible[0]["date"] if visible else None,
    }


def _refresh_search(content: ContentStore, snapshot: Snapshot, report: Report) -> tuple[dict[str, Any], int]:
    """Build the search artifact, re-reading only bodies that changed since the last one."""
    previous = _previous_documents(content, snapshot.site.get("search"))
    docs = []
    for item in snapshot.posts.values():
        if not ingest.is_listed(item):
            continue
        old = previous.get(item["slug"])
        if old and old.get("source_id") == item.get("source_id") and _same_fields(old, item):
            docs.append(old)
            continue
        try:
            body = posts.body_of(content.read_version(item["source_key"], item.get("version_id")))
        except Exception:
            log.exception("search: could not read %s", item.get("source_key"))
            continue
        docs.append(search.document(item, render.text_of_html(render.render_markdown(body).html)))
    artifact = search.build_artifact(docs)
    digest = hashlib.sha256(dumps(artifact).encode()).hexdigest()[:32]
    report.search_documents = len(docs)
    info = {"key": SEARCH_ARTIFACT_KEY, "hash": digest, "documents": len(docs)}
    if (snapshot.site.get("search") or {}).get("hash") == digest:
        return info, 0
    content.write_artifact(SEARCH_ARTIFACT_KEY, artifact)
    return info, 1


def _same_fields(doc: dict[str, Any], item: dict[str, Any]) -> bool:
    return all(doc.get(k) == item.get(k) for k in ("title", "date", "summary", "tags"))


def _previous_documents(content: ContentStore, info: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    if not info:
        return {}
    try:
        artifact = content.read_artifact(SEARCH_ARTIFACT_KEY)
    except Exception:
        log.warning("search: previous artifact unreadable; rebuilding it from the sources")
        return {}
    return {d["slug"]: d for d in artifact.get("docs", [])}
