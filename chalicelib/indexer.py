"""The indexer: make the index match what the bucket holds now for one source key.

Ingest (the upload queue's handler) and the rebuild (its repair) both call `reconcile`.
An S3 event is only a hint that a key changed: events arrive late, twice, or out of order,
so the indexer never trusts the event's contents. For each key it reads the index's
state of the key, THEN the key from S3, and writes one transaction guarded by the
revision it read. A write that succeeds was therefore planned from an S3 read made
after every earlier write to the key; a write that loses a race fails its guard and
starts over. Whatever the order of events, the last write describes the bucket.

An ordinary upload costs three calls: the index Query, the S3 GetObject and the
TransactWriteItems; the first upload in a container (and one every SITE_CONFIG_TTL_SECONDS)
also reads the imported site's config (one GetItem): its time zone dates posts, its
permalink rules give them their old URLs (chalicelib/permalinks.py). A source that fails
validation never takes a post down: the last good version stays published and the error
is written next to it.

An image under `assets/<slug>/` costs three too, in the same order: its post's image
sizes (GetItem), the file's first bytes (a ranged GetObject) and a write guarded by the
revision read. Sizes live beside the post, not in it, so images may arrive before or
after their post, and the post's own upload never reads them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib import cdn, images, model, permalinks, posts, render, transitions
from chalicelib.search import shards
from chalicelib.search import text as search_text
from chalicelib.errors import InvalidPost, Problem
from chalicelib.model import Named, PostCard, PostRecord, SourceRejection, SourceState, Status, Tombstone
from chalicelib.store import ConflictError, ContentStore, PostIndex, Refused, SourceRef

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # tries of a key that keeps losing races before its message is retried later
RETRY_PAUSE_SECONDS = 0.05  # grows with each attempt: rivals and the by_source index catch up


@dataclass(frozen=True)
class Outcome:
    """What reconciling one key did: the action taken and the post it concerned."""

    key: str
    action: str  # published | scheduled | draft | expired | deleted | error | unchanged | ignored | image…
    slug: str = ""
    message: str = ""
    recheck: tuple[str, ...] = ()  # other sources waiting for a slug this change freed
    stale: frozenset[str] = frozenset()  # URLs a CDN in front must drop (chalicelib/cdn.py)

    def as_log(self) -> str:
        """One JSON line for the logs, where editors and operators look for errors."""
        return json.dumps({"event": "ingest", "key": self.key, "action": self.action,
                           "slug": self.slug, "message": self.message})


# Files under posts/ that are not posts but look meant as one get a row in `blogctl status`
# saying why they were skipped; images and other files of a bundle are simply not posts.
NOTED_SUFFIXES = frozenset({".txt", ".text", ".html", ".htm", ".rst", ".adoc", ".asciidoc", ".org", ".textile",
                            ".ipynb", ".mdx", *posts.SOURCE_SUFFIXES})


def reconcile(key: str, index: PostIndex, content: ContentStore, now: dt.datetime) -> Outcome:
    """Make the index agree with the current state of `key` in the bucket."""
    asset = images.asset_of(key)
    if asset is not None and images.is_image(asset[1]) and posts.is_slug(asset[0]):
        return reconcile_image(key, asset[0], asset[1], index, content)
    problem = posts.post_key_problem(key)
    if problem is not None:
        noted = key.startswith(posts.POSTS_PREFIX) and "." + key.rsplit(".", 1)[-1].lower() in NOTED_SUFFIXES
        return _note_skipped(key, problem, index, content, now) if noted else Outcome(key, "ignored")
    taken: set[str] = set()
    held: Counter[str] = Counter()  # slug -> search document ids found held by other slugs
    for attempt in range(MAX_ATTEMPTS):
        states = index.source_states(key)  # first the index, then S3: see the module's docstring
        source = content.read(key, posts.MAX_SOURCE_BYTES)
        try:
            return _reconcile_once(key, states, source, index, now, taken, held)
        except ConflictError:
            time.sleep(RETRY_PAUSE_SECONDS * attempt)
    raise RuntimeError(f"{key} kept changing during {MAX_ATTEMPTS} attempts; the queue will retry it")


def reconcile_image(key: str, slug: str, name: str, index: PostIndex, content: ContentStore) -> Outcome:
    """Record the size of the image at `key` (or forget it, when the file is gone or unreadable)."""
    for attempt in range(MAX_ATTEMPTS):
        old = index.image_sizes(slug)  # first the index, then S3: as for posts
        head = content.read_head(key, images.HEADER_BYTES)
        found = images.dimensions(head.data) if head is not None and head.data is not None else None
        size = model.ImageSize(found[0], found[1], head.ref.etag) if found and head is not None else None
        if old.sizes.get(name) == size:
            return Outcome(key, "unchanged", slug)
        if size is not None and name not in old.sizes and len(old.sizes) >= model.MAX_IMAGES_PER_POST:
            return Outcome(key, "error", slug, f"more than {model.MAX_IMAGES_PER_POST} images "
                                               "(MAX_IMAGES_PER_POST): this one is shown without its size")
        try:
            index.commit(transitions.image_sizes(old, old.with_image(name, size)).writes())
        except ConflictError:
            time.sleep(RETRY_PAUSE_SECONDS * attempt)
            continue
        if size is None:
            return Outcome(key, "image removed" if head is None else "image unreadable", slug)
        return Outcome(key, "image", slug, f"{size.width}x{size.height}")
    raise RuntimeError(f"{key} kept changing during {MAX_ATTEMPTS} attempts; the queue will retry it")


def _reconcile_once(key: str, states: list[SourceState], source: Any, index: PostIndex, now: dt.datetime,
                    taken: set[str], held: Counter[str]) -> Outcome:
    primary = model.primary_state(states)
    if source is None:
        return _retire(key, states, index, now)
    ref: SourceRef = source.ref
    waiting = isinstance(primary, SourceRejection) and primary.claims  # asked again when its slug is freed
    if primary is not None and primary.seen_id == ref.identity and not waiting:
        return Outcome(key, "unchanged", getattr(primary, "slug", ""),
                       primary.error.message if primary.error else "")
    try:
        if source.data is None:
            raise InvalidPost([posts.too_large(ref.size)])
        config = index.site_config()
        zone = config.zone()
        post = posts.parse_post(key, source.data, zone or dt.timezone.utc)
        old, notes = _old_address(config, key, post, source.data)
        if zone is None:
            notes.append(f"the site's time zone {config.time_zone!r} is unknown here: dates without an offset are UTC")
        rendered = render.check_render(post.body, render.RenderContext(
            params=model.render_params(post.title, post.extra), page_path=old.path if old else "", source_key=key))
    except InvalidPost as err:
        problems = [str(p) for p in err.problems]
        return _reject(key, primary, transitions.rejection(problems, ref.identity, ref.etag, now), index)
    live = next((s for s in states if isinstance(s, PostRecord)), None)
    slug = _free_slug(post, taken)
    if slug is None:
        return _reject_clash(key, post.slug, primary, ref, index, now)
    post = dataclasses.replace(post, slug=slug) if slug != post.slug else post
    rev = live.rev + 1 if live is not None and live.slug == slug else 1
    record = record_of(post, rendered, ref, now, rev, kept=live if live is not None and live.slug == slug else None,
                       old=old, notes=notes)
    record = dataclasses.replace(record, moved_from=transitions.moved_from(live, record.slug))
    record = _without_taken_aliases(record, live, index)
    text = search_record(record, rendered.text, shards.doc_id(record.slug, held[record.slug]))
    writes = transitions.publish(live, record, [s for s in states if isinstance(s, SourceRejection)], now, text)
    ordered = writes.writes()
    try:
        index.commit(ordered)
    except ConflictError as err:
        if 0 in err.failed and (live is None or live.slug != record.slug) and _held_by_another(record.slug, key, index):
            taken.add(record.slug)
        if any(ordered[n].key == model.doc_key(text.doc) for n in err.failed):
            held[record.slug] += 1  # another slug's id (about 2 slugs in 100,000): the next one
        raise
    except Refused as err:  # every upload ends published or as an error its editor can see
        error = transitions.rejection([f"the index refused this post ({err}); tell the blog's operator"],
                                      ref.identity, ref.etag, now)
        return _reject(key, primary, error, index)
    recheck = live.claimants if live is not None and live.slug != record.slug else ()
    return Outcome(key, record.status.value, record.slug, "; ".join(record.warnings), recheck,
                   stale_paths(live, record, now))


def stale_paths(old: PostRecord | None, new: PostRecord | None, now: dt.datetime) -> frozenset[str]:
    """The URLs a change makes stale behind a CDN.

    A post that leaves public view, or whose card changes (title, date, tags, summary: shown
    on listings, tag pages, neighbours' pages and search results), flushes everything; an
    edit of the body alone flushes its page, its API entry and the feeds and listings that
    carry it.
    """
    was = old is not None and old.is_public(now)
    visible = new is not None and new.is_public(now)
    if not was and not visible:
        return frozenset()
    if not visible or old is None or new is None or old.slug != new.slug or not was:
        return cdn.WITHDRAWN
    if dataclasses.replace(old.card, source=new.card.source, reading_minutes=new.card.reading_minutes) != new.card:
        return cdn.WITHDRAWN
    card = new.card
    return frozenset(cdn.paths_for_posts([card.slug], [t.slug for t in card.tags],
                                         [model.month_of(card.date)]))


def search_record(record: PostRecord, text: str, doc: str) -> model.SearchText:
    """A post's search record: its entry for the search index (its postings to name it `doc`), and its
    plain text for excerpts."""
    card = record.card
    document = search_text.analyze(card.slug, card.date, card.title, [t.name for t in card.tags], text)
    return model.SearchText(card.slug, shards.pending_fields(card.slug, doc, record.rev, document), text)


def record_of(post: posts.Post, rendered: render.Rendered, ref: SourceRef, now: dt.datetime, rev: int,
              kept: PostRecord | None = None, old: permalinks.OldAddress | None = None,
              notes: Iterable[str] = ()) -> PostRecord:
    """The index record of a valid post (`old`: its address on the site it was imported from)."""
    card = PostCard(
        slug=post.slug, title=post.title, date=model.utc_text(post.date), source=ref.version,
        date_offset=posts.offset_of(post.date),
        updated=model.utc_text(post.updated) if post.updated else None,
        summary=post.summary or render.summarize(post.body),
        tags=tuple(Named(t.slug, t.name) for t in post.tags),
        authors=tuple(Named(slug, name) for name in post.authors if (slug := posts.slugify(name))),
        reading_minutes=rendered.reading_minutes,
        image=(post.images or (None,))[0],
        expires=model.utc_text(post.expires_at) if post.expires_at else None,
        old_path=old.path if old else None, feed_id=(old.feed_id or None) if old else None,
    )
    status = Status(post.status(now))
    visible_from = post.live_at
    return PostRecord(
        card=card, status=status, visible_from=model.utc_text(visible_from), words=rendered.words,
        aliases=_old_paths(post, old), extra=post.extra,
        warnings=transitions.bounded_warnings((*_post_warnings(post, old), *notes, *rendered.warnings)),
        rev=rev, indexed_at=model.utc_text(now), counted=status is Status.PUBLISHED,
        claimants=kept.claimants if kept is not None else (),
    )


def _old_address(config: model.SiteConfig, key: str, post: posts.Post,
                 data: bytes) -> tuple[permalinks.OldAddress | None, list[str]]:
    """The post's address on the site it was imported from (None if none was), and what went wrong."""
    if not config.generator:
        return None, []
    meta, _, _ = posts.split_front_matter(posts.decode_source(data))
    try:
        return permalinks.old_address(config, key, post, meta), []
    except permalinks.PermalinkError as err:
        return None, [f"its old URL could not be made: {err}"]


def _old_paths(post: posts.Post, old: permalinks.OldAddress | None) -> tuple[str, ...]:
    """The front matter's old URLs, the imported site's address of the post, and `/posts/<name>`
    when `slug:` renames the post (so links to its file name, `ref` and `post_url`, still lead to it)."""
    own = model.post_path(post.slug)
    found = list(post.aliases)
    if old is not None:
        try:
            found.append(posts.normalize_path(old.path))
        except ValueError:
            pass
    named = posts.slug_from_key(post.source_key)
    if not post.slug_from_name and named and named != post.slug:
        found.append(model.post_path(named))
    return tuple(p for p in dict.fromkeys(found) if p not in (own, "/"))


def _post_warnings(post: posts.Post, old: permalinks.OldAddress | None) -> tuple[str, ...]:
    """The parser's warnings, less the one about a `permalink:` pattern the import applied."""
    if old is None:
        return post.warnings
    return tuple(w for w in post.warnings if not (w.startswith("'permalink': ") and "is a pattern" in w))


def _free_slug(post: posts.Post, taken: set[str]) -> str | None:
    """The post's slug, or the first fallback (same-name posts of other years) not known to be taken."""
    for slug in (post.slug, *post.fallback_slugs()):
        if slug not in taken:
            return slug
    return None


def _held_by_another(slug: str, key: str, index: PostIndex) -> bool:
    """Does a live post of another source hold `slug`? (Asked only after a write found it taken.)"""
    holder = index.post(slug)
    return isinstance(holder, PostRecord) and holder.source.key != key


def _without_taken_aliases(record: PostRecord, live: PostRecord | None, index: PostIndex) -> PostRecord:
    """Drop the new aliases other posts hold, with a warning each (one read, only when aliases change)."""
    new = [a for a in record.aliases if live is None or a not in live.aliases]
    if not new:
        return record
    mine = {record.slug, live.slug if live is not None else record.slug}
    keys = [model.url_key(a) for a in new] + [model.post_key(a.split("/")[-1]) for a in new if a.count("/") == 2
                                              and a.startswith("/posts/")]
    found = index.get_many(keys)
    kept, warnings = [], list(record.warnings)
    for alias in record.aliases:
        redirect = found.get((model.URL_PREFIX + alias, model.URL_SK))
        holder = found.get((model.POST_PREFIX + alias.split("/")[-1], model.POST_SK)) if alias.startswith(
            "/posts/") and alias.count("/") == 2 else None
        if (redirect is not None and redirect.get("target") not in mine) or (
                holder is not None and holder.get("status") != Status.DELETED.value and holder.get("slug") not in mine):
            warnings.append(f"alias '{alias}' is already taken; ignored")
            continue
        kept.append(alias)
    return dataclasses.replace(record, aliases=tuple(kept), warnings=transitions.bounded_warnings(warnings))


def _reject(key: str, primary: SourceState | None, error: model.Rejection, index: PostIndex) -> Outcome:
    """Keep the last good version; write the error where `blogctl status` shows it."""
    if primary is not None:
        writes = transitions.reject_on(primary, error)
        slug = getattr(primary, "slug", "")
    else:
        writes = transitions.reject_new(key, error)
        slug = ""
    index.commit(writes.writes())
    return Outcome(key, "error", slug, error.message)


def _reject_clash(key: str, slug: str, primary: SourceState | None, ref: SourceRef, index: PostIndex,
                  now: dt.datetime) -> Outcome:
    """Every slug this source may take belongs to other files: record it, and wait for the slug."""
    holder = index.post(slug)
    owner = holder.source.key if isinstance(holder, PostRecord) else "another file"
    error = transitions.rejection([str(Problem(f"slug '{slug}' is already used by {owner}; "
                                               "choose another 'slug:' or file name"))], ref.identity, ref.etag, now)
    if isinstance(primary, SourceRejection) or primary is None:
        writes = transitions.reject_new(key, error, claims=slug, holder=holder if isinstance(holder, PostRecord) else None)
        if isinstance(primary, SourceRejection):
            writes.put(transitions.Put(dataclasses.replace(primary, error=error, claims=slug, rev=primary.rev + 1).to_item(),
                                       transitions.unchanged_revision(primary)))
        index.commit(writes.writes())
        return Outcome(key, "error", "", error.message)
    return _reject(key, primary, error, index)


def _note_skipped(key: str, problem: str, index: PostIndex, content: ContentStore, now: dt.datetime) -> Outcome:
    """A file under posts/ that is not a post: a 'skipped' row saying why, while the file is there."""
    states = [s for s in index.source_states(key) if isinstance(s, SourceRejection)]
    ref = content.head(key)
    writes = transitions.WriteSet()
    if ref is None:
        for state in states:
            writes.delete(model.rejection_key(key), transitions.unchanged_revision(state))
    elif not states or states[0].seen_etag != ref.etag:
        note = SourceRejection(key, transitions.rejection([f"not published: {problem}"], ref.identity, ref.etag, now),
                               rev=(states[0].rev + 1) if states else 1, skipped=True)
        guard = transitions.unchanged_revision(states[0]) if states else transitions.Condition("attribute_not_exists(pk)")
        writes.put(transitions.Put(note.to_item(), guard))
    pending = writes.writes()
    index.commit(pending)
    return Outcome(key, "skipped" if ref is not None else "deleted" if pending else "unchanged", "", problem)


def _retire(key: str, states: list[SourceState], index: PostIndex, now: dt.datetime) -> Outcome:
    """The key is gone from the bucket: take its posts down."""
    writes = transitions.WriteSet()
    recheck: list[str] = []
    slug = ""
    for state in states:
        if isinstance(state, PostRecord):
            transitions.retire(state, now, writes)
            recheck += state.claimants
            slug = slug or state.slug
        elif isinstance(state, SourceRejection):
            writes.delete(model.rejection_key(key), transitions.unchanged_revision(state))
        elif isinstance(state, Tombstone) and state.error is not None:
            writes.put(transitions.Put(dataclasses.replace(state, error=None, rev=state.rev + 1).to_item(),
                                       transitions.unchanged_revision(state)))
    pending = writes.writes()
    if not pending:
        primary = model.primary_state(states)
        return Outcome(key, "unchanged", getattr(primary, "slug", "") if primary else "")
    index.commit(pending)
    stale = frozenset().union(*(stale_paths(s, None, now) for s in states if isinstance(s, PostRecord)))
    live = any(isinstance(s, PostRecord) for s in states)
    return Outcome(key, "deleted" if live else "unchanged", slug, recheck=tuple(recheck), stale=stale)
