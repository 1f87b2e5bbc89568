"""The index's data model: every item the table holds, typed, with its key and visibility rules.

Pure: no I/O. ingest, the rebuild, the site and the CLI all read and write the table
through these types, so the schema lives in this one file. Each type converts to and
from the plain dict the store serializes (`to_item` / `from_item`).

| item            | pk                    | sk                  | what                                          |
|-----------------|-----------------------|---------------------|-----------------------------------------------|
| post            | `POST#<slug>`         | `POST`              | a post as readers see it (or its tombstone)   |
| search text     | `POST#<slug>`         | `TEXT`              | plain text and terms, for search              |
| image sizes     | `POST#<slug>`         | `IMAGES`            | width and height of the post's image assets   |
| rejected source | `SRC#<key>`           | `ERROR`             | a source that has never published, and why    |
| membership      | `TAG#<t>`/`AUTHOR#<a>`| `<date>#<slug>`     | a public post's card, per tag and per author  |
| old URL         | `URL#<path>`          | `URL`               | a path that answers 301 to a post             |
| count           | `TAGS`/`AUTHORS`/`MONTHS` | `<slug>`/`<yyyy-mm>` | public posts per tag, author, month      |
| marker          | `SCHEDULED`/`EXPIRES` | `<when>#<slug>`     | a post whose visibility changes at that time  |
| site            | `SITE`                | `SITE`/`REBUILD`    | settings, search manifest, the rebuild's state|
| site config     | `SITE`                | `CONFIG`            | an imported site's URL rules and files        |

Indexes: `listing` (sparse: listed posts, by `<date>#<slug>`), `by_source` (the items a
source key produced: posts, tombstones, rejections; partitioned by `shard` so the rebuild
can walk the bucket's keys a slice at a time) and `search_queue` (sparse: search texts
changed since the last merge).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import posts

# -- key layout --

POST_PREFIX = "POST#"
TAG_PREFIX = "TAG#"
AUTHOR_PREFIX = "AUTHOR#"
URL_PREFIX = "URL#"
SOURCE_PREFIX = "SRC#"
DOC_PREFIX = "DOC#"  # a search document id's owner (chalicelib.search.shards.doc_id)
POST_SK = "POST"
TEXT_SK = "TEXT"
IMAGES_SK = "IMAGES"  # sorts before POST: one Query reads a post with its image sizes
URL_SK = "URL"
DOC_SK = "SLUG"
ERROR_SK = "ERROR"
TAGS_PK = "TAGS"
AUTHORS_PK = "AUTHORS"
MONTHS_PK = "MONTHS"
SCHEDULED_PK = "SCHEDULED"
EXPIRES_PK = "EXPIRES"
SITE_PK = "SITE"
SITE_SK = "SITE"
REBUILD_SK = "REBUILD"
CONFIG_SK = "CONFIG"

LISTING_INDEX = "listing"
SOURCE_INDEX = "by_source"
SEARCH_INDEX = "search_queue"
LISTING_PARTITION = "PUBLIC"
SEARCH_QUEUE_PARTITION = "PENDING"
# The rebuild compares the bucket with the index one shard of source keys at a time.
SHARD_COUNT = 256

Key = dict[str, str]


def post_key(slug: str) -> Key:
    """Primary key of a post (or its tombstone)."""
    return {"pk": POST_PREFIX + slug, "sk": POST_SK}


def text_key(slug: str) -> Key:
    """Primary key of a post's search text."""
    return {"pk": POST_PREFIX + slug, "sk": TEXT_SK}


def doc_key(doc: str) -> Key:
    """Primary key of the item saying which slug a search document id belongs to."""
    return {"pk": DOC_PREFIX + doc, "sk": DOC_SK}


def images_key(slug: str) -> Key:
    """Primary key of the sizes of a post's images."""
    return {"pk": POST_PREFIX + slug, "sk": IMAGES_SK}


def rejection_key(source_key: str) -> Key:
    """Primary key of a source that has never published."""
    return {"pk": SOURCE_PREFIX + source_key, "sk": ERROR_SK}


def url_key(path: str) -> Key:
    """Primary key of an old URL (a normalized path, see posts.normalize_path)."""
    return {"pk": URL_PREFIX + path, "sk": URL_SK}


def membership_key(group: str, listing_sk: str) -> Key:
    """Primary key of a membership: group is `TAG#<slug>` or `AUTHOR#<slug>`."""
    return {"pk": group, "sk": listing_sk}


def tag_group(tag: str) -> str:
    """The partition holding one tag's posts."""
    return TAG_PREFIX + tag


def author_group(author: str) -> str:
    """The partition holding one author's posts."""
    return AUTHOR_PREFIX + author


def count_key(partition: str, name: str) -> Key:
    """Primary key of a counter (TAGS, AUTHORS or MONTHS)."""
    return {"pk": partition, "sk": name}


SITE_KEY: Key = {"pk": SITE_PK, "sk": SITE_SK}
REBUILD_KEY: Key = {"pk": SITE_PK, "sk": REBUILD_SK}
SITE_CONFIG_KEY: Key = {"pk": SITE_PK, "sk": CONFIG_SK}


def shard_of(source_key: str) -> str:
    """The shard of a source key: two hex digits, stable across runs and machines."""
    return hashlib.sha1(source_key.encode("utf-8", "surrogatepass")).hexdigest()[:2]


def all_shards() -> list[str]:
    """Every shard, in order."""
    return [f"{n:02x}" for n in range(SHARD_COUNT)]


def listing_sort_key(date: str, slug: str) -> str:
    """Sort key of listings: newest first by date, then slug."""
    return f"{date}#{slug}"


def utc_text(moment: dt.datetime) -> str:
    """A moment as the one stored form: fixed-width UTC to the second."""
    return posts.format_utc(moment)


LAST_CHAR = chr(0x10FFFF)  # sorts after every character a slug can hold


def upper_bound(now: dt.datetime) -> str:
    """The highest listing sort key readers may see at `now`: later dates are scheduled."""
    return utc_text(now) + "#" + LAST_CHAR


# DynamoDB refuses an item over 400 KB and a transaction over 4 MB; every item type here has a
# bound below that, whatever the upload held (tests/test_limits.py proves each worst case).
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it (not moto, which undercounts).

    Per AWS's rules: each attribute name's UTF-8 bytes plus its value's size; a string is
    its UTF-8 bytes, a number about one byte per two significant digits plus one, a boolean
    or null one byte, a list or map three bytes plus one byte and the size of each element
    (with its name, in a map). Errs on the large side.
    """
    return sum(len(name.encode("utf-8", "surrogatepass")) + _value_size(value) for name, value in item.items())


def _value_size(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, (int, float)):
        digits = len(str(abs(value)).replace(".", "").strip("0")) or 1
        return (digits + 1) // 2 + 1
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, Mapping):
        return 3 + sum(1 + len(str(k).encode("utf-8", "surrogatepass")) + _value_size(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return 3 + sum(1 + _value_size(v) for v in value)
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")


def render_params(title: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The front matter values a body may refer to (Hugo's `param`, Liquid's `page.x`)."""
    return {**extra, "title": title}


# -- statuses and the visibility rules --


class Status(str, enum.Enum):
    """Where a source stands: what the index says about it."""

    PUBLISHED = "published"
    SCHEDULED = "scheduled"  # valid, not yet visible (future date or publishDate)
    DRAFT = "draft"
    EXPIRED = "expired"      # its expiryDate has passed
    DELETED = "deleted"      # a tombstone: readers saw it once, the source is gone (410)
    ERROR = "error"          # rejected, with no good version to show
    SKIPPED = "skipped"      # a file under posts/ that is not a post (a .txt, Hugo's _index.md): noted, not an error


@dataclass(frozen=True)
class Named:
    """A tag or an author: as written (`name`) and as URLs carry it (`slug`)."""

    slug: str
    name: str

    def to_dict(self) -> dict[str, str]:
        """Plain data for an item."""
        return {"slug": self.slug, "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Named":
        """Back from an item."""
        return cls(slug=str(data["slug"]), name=str(data.get("name", data["slug"])))


def _named(values: Iterable[Mapping[str, Any]] | None) -> tuple[Named, ...]:
    return tuple(Named.from_dict(v) for v in values or ())


@dataclass(frozen=True)
class SourceVersion:
    """One version of a source in the bucket."""

    key: str
    etag: str
    mtime: str
    version_id: str | None = None

    @property
    def id(self) -> str:
        """What tells this version from any other: the VersionId, else the ETag."""
        return self.version_id if self.version_id not in (None, "null") else self.etag

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an item."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SourceVersion":
        """Back from an item."""
        return cls(key=data["key"], etag=data.get("etag", ""), mtime=data.get("mtime", ""),
                   version_id=data.get("version_id"))


@dataclass(frozen=True)
class Rejection:
    """Why the latest upload of a source was not published."""

    message: str
    problems: tuple[str, ...]
    source_id: str
    etag: str
    at: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an item."""
        return {"message": self.message, "problems": list(self.problems), "source_id": self.source_id,
                "etag": self.etag, "at": self.at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Rejection":
        """Back from an item."""
        return cls(message=data.get("message", ""), problems=tuple(data.get("problems", ())),
                   source_id=data.get("source_id", ""), etag=data.get("etag", ""), at=data.get("at", ""))


@dataclass(frozen=True)
class PostCard:
    """What a listing, a feed entry or the JSON API shows of a post."""

    slug: str
    title: str
    date: str                          # UTC, fixed width
    source: SourceVersion
    date_offset: str = "+00:00"        # the author's UTC offset, for display
    updated: str | None = None
    summary: str = ""
    tags: tuple[Named, ...] = ()
    authors: tuple[Named, ...] = ()
    reading_minutes: int = 1
    image: str | None = None
    expires: str | None = None
    old_path: str | None = None        # a migrated post's address on the old site, as it served it
    feed_id: str | None = None         # the old feed's entry id for it: readers see no duplicate

    @property
    def listing_sk(self) -> str:
        """The post's place in every listing."""
        return listing_sort_key(self.date, self.slug)

    @property
    def author(self) -> str:
        """The authors' names, for one line of text."""
        return ", ".join(a.name for a in self.authors)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an item."""
        data: dict[str, Any] = {
            "slug": self.slug, "title": self.title, "date": self.date, "date_offset": self.date_offset,
            "source": self.source.to_dict(), "summary": self.summary,
            "tags": [t.to_dict() for t in self.tags], "authors": [a.to_dict() for a in self.authors],
            "reading_minutes": self.reading_minutes,
        }
        for name in ("updated", "image", "expires", "old_path", "feed_id"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PostCard":
        """Back from a post item, a listing result or a membership."""
        return cls(
            slug=data["slug"], title=data.get("title", ""), date=data.get("date", ""),
            source=SourceVersion.from_dict(data["source"]), date_offset=data.get("date_offset", "+00:00"),
            updated=data.get("updated"), summary=data.get("summary", ""), tags=_named(data.get("tags")),
            authors=_named(data.get("authors")), reading_minutes=int(data.get("reading_minutes", 1)),
            image=data.get("image"), expires=data.get("expires"), old_path=data.get("old_path"),
            feed_id=data.get("feed_id"),
        )

    def is_visible(self, now: dt.datetime) -> bool:
        """Listed cards are visible from their date until they expire."""
        stamp = utc_text(now)
        return self.date <= stamp and (self.expires is None or self.expires > stamp)


@dataclass(frozen=True)
class PostRecord:
    """A post item: the post as readers see it, and what ingest needs to change it safely."""

    card: PostCard
    status: Status
    visible_from: str                  # UTC: the later of the date and publishDate
    words: int = 0
    aliases: tuple[str, ...] = ()      # normalized old paths that redirect here (from the front matter)
    moved_from: tuple[str, ...] = ()   # its own earlier paths, from renames: they redirect here too
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    error: Rejection | None = None     # the latest upload was rejected; this version stays online
    rev: int = 0
    indexed_at: str = ""
    counted: bool = False              # its tags, authors and month are in the counts
    claimants: tuple[str, ...] = ()    # source keys that asked for this slug while it was taken

    @property
    def slug(self) -> str:
        """The post's URL name."""
        return self.card.slug

    @property
    def source(self) -> SourceVersion:
        """The version readers see."""
        return self.card.source

    @property
    def seen_id(self) -> str:
        """The latest version ingest looked at: the rejected one if the latest upload failed."""
        return self.error.source_id if self.error else self.source.id

    @property
    def seen_etag(self) -> str:
        """The ETag of that version."""
        return self.error.etag if self.error else self.source.etag

    @property
    def old_paths(self) -> tuple[str, ...]:
        """Every old URL that answers 301 to this post."""
        return tuple(dict.fromkeys((*self.aliases, *self.moved_from)))

    @property
    def listed(self) -> bool:
        """In the listing index and the memberships: published, or scheduled by its date alone.

        A post held back by a publishDate later than its date stays out until the rebuild
        publishes it: a listing's upper bound on the date could not hide it.
        """
        return self.status is Status.PUBLISHED or (
            self.status is Status.SCHEDULED and self.visible_from == self.card.date)

    def status_now(self, now: dt.datetime) -> Status:
        """The status readers see at `now`: time publishes scheduled posts and expires others."""
        stamp = utc_text(now)
        if self.status in (Status.PUBLISHED, Status.SCHEDULED):
            if self.card.expires is not None and self.card.expires <= stamp:
                return Status.EXPIRED
            return Status.PUBLISHED if self.visible_from <= stamp else Status.SCHEDULED
        return self.status

    def is_public(self, now: dt.datetime) -> bool:
        """May readers see this post at `now`?"""
        return self.status_now(now) is Status.PUBLISHED

    def to_item(self) -> dict[str, Any]:
        """The item, with the attributes its indexes read."""
        item: dict[str, Any] = {
            **post_key(self.slug), **self.card.to_dict(),
            "status": self.status.value, "visible_from": self.visible_from, "words": self.words,
            "aliases": list(self.aliases), "moved_from": list(self.moved_from), "extra": self.extra, "warnings": list(self.warnings),
            "rev": self.rev, "indexed_at": self.indexed_at, "counted": self.counted,
            "claimants": list(self.claimants), **_source_attributes(self.source.key, self.seen_id, self.seen_etag),
        }
        if self.error is not None:
            item["error"] = self.error.to_dict()
        if self.listed:
            item["listing"] = LISTING_PARTITION
            item["listing_sk"] = self.card.listing_sk
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "PostRecord":
        """Back from a post item."""
        return cls(
            card=PostCard.from_dict(item), status=Status(item["status"]),
            visible_from=item.get("visible_from", item.get("date", "")), words=int(item.get("words", 0)),
            aliases=tuple(item.get("aliases", ())), moved_from=tuple(item.get("moved_from", ())),
            extra=dict(item.get("extra") or {}),
            warnings=tuple(item.get("warnings", ())),
            error=Rejection.from_dict(item["error"]) if item.get("error") else None,
            rev=int(item.get("rev", 0)), indexed_at=item.get("indexed_at", ""),
            counted=bool(item.get("counted", False)), claimants=tuple(item.get("claimants", ())),
        )


@dataclass(frozen=True)
class Tombstone:
    """A post whose source was deleted after readers saw it: its slug answers 410."""

    slug: str
    source_key: str
    deleted_at: str
    rev: int = 0
    error: Rejection | None = None     # a broken upload arrived at the deleted key
    claimants: tuple[str, ...] = ()

    status = Status.DELETED

    @property
    def seen_id(self) -> str:
        """The latest version ingest looked at ('' when the key is simply gone)."""
        return self.error.source_id if self.error else ""

    @property
    def seen_etag(self) -> str:
        """The ETag of that version."""
        return self.error.etag if self.error else ""

    def to_item(self) -> dict[str, Any]:
        """The item."""
        item: dict[str, Any] = {**post_key(self.slug), "slug": self.slug, "status": Status.DELETED.value,
                                "deleted_at": self.deleted_at, "rev": self.rev, "claimants": list(self.claimants),
                                **_source_attributes(self.source_key, self.seen_id, self.seen_etag)}
        if self.error is not None:
            item["error"] = self.error.to_dict()
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Tombstone":
        """Back from a tombstone item."""
        return cls(slug=item["slug"], source_key=item.get("source_key", ""), deleted_at=item.get("deleted_at", ""),
                   rev=int(item.get("rev", 0)),
                   error=Rejection.from_dict(item["error"]) if item.get("error") else None,
                   claimants=tuple(item.get("claimants", ())))


@dataclass(frozen=True)
class SourceRejection:
    """A source that has never been published, and why (shown by `blogctl status`)."""

    source_key: str
    error: Rejection
    claims: str = ""                   # the slug it asked for, when another source holds it
    rev: int = 0
    skipped: bool = False              # not a post at all: `error` says why, and it is no error

    @property
    def status(self) -> Status:
        """ERROR, or SKIPPED for a file that is not a post."""
        return Status.SKIPPED if self.skipped else Status.ERROR

    @property
    def seen_id(self) -> str:
        """The version that was rejected."""
        return self.error.source_id

    @property
    def seen_etag(self) -> str:
        """The ETag of that version."""
        return self.error.etag

    def to_item(self) -> dict[str, Any]:
        """The item."""
        item: dict[str, Any] = {**rejection_key(self.source_key), "status": self.status.value,
                                "error": self.error.to_dict(), "rev": self.rev,
                                **_source_attributes(self.source_key, self.seen_id, self.seen_etag)}
        if self.claims:
            item["claims"] = self.claims
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "SourceRejection":
        """Back from a rejection item."""
        return cls(source_key=item["source_key"], error=Rejection.from_dict(item["error"]),
                   claims=item.get("claims", ""), rev=int(item.get("rev", 0)),
                   skipped=item.get("status") == Status.SKIPPED.value)


SourceState = PostRecord | Tombstone | SourceRejection


def _source_attributes(source_key: str, seen_id: str, seen_etag: str) -> dict[str, str]:
    """What the by_source index reads: the key, its shard and the version last looked at.

    The rebuild compares `seen_etag` with the bucket's listing, which carries ETags only.
    """
    return {"source_key": source_key, "shard": shard_of(source_key), "seen_id": seen_id, "seen_etag": seen_etag}


def source_state(item: Mapping[str, Any]) -> SourceState:
    """The typed form of an item the by_source index returns."""
    if item["pk"].startswith(SOURCE_PREFIX):
        return SourceRejection.from_item(item)
    if item.get("status") == Status.DELETED.value:
        return Tombstone.from_item(item)
    return PostRecord.from_item(item)


def primary_state(states: Iterable[SourceState]) -> SourceState | None:
    """What a source key maps to: a post before a tombstone before a rejection."""
    rank = {PostRecord: 0, Tombstone: 1, SourceRejection: 2}
    found = sorted(states, key=lambda s: rank[type(s)])
    return found[0] if found else None


@dataclass(frozen=True)
class Membership:
    """A listed post's card in one tag's or one author's partition."""

    group: str                          # TAG#<slug> or AUTHOR#<slug>
    group_name: str                     # the tag or author as written
    card: PostCard

    @property
    def key(self) -> Key:
        """The item's key."""
        return membership_key(self.group, self.card.listing_sk)

    def to_item(self) -> dict[str, Any]:
        """The item (never with `source_key`: that would put it in the by_source index)."""
        return {**self.key, **self.card.to_dict(), "group_name": self.group_name}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Membership":
        """Back from a membership item."""
        return cls(group=item["pk"], group_name=item.get("group_name", ""), card=PostCard.from_dict(item))


def memberships(record: PostRecord | None) -> list[Membership]:
    """One membership per tag and per author of a listed post."""
    if record is None or not record.listed:
        return []
    card = record.card
    return ([Membership(tag_group(t.slug), t.name, card) for t in card.tags]
            + [Membership(author_group(a.slug), a.name, card) for a in card.authors])


@dataclass(frozen=True)
class Redirect:
    """An old URL that answers 301 to a post, when that post is public."""

    path: str
    target: str
    public: bool

    def to_item(self) -> dict[str, Any]:
        """The item."""
        return {**url_key(self.path), "target": self.target, "public": self.public}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Redirect":
        """Back from an old-URL item."""
        return cls(path=item["pk"][len(URL_PREFIX):], target=item["target"], public=bool(item.get("public")))


def post_path(slug: str) -> str:
    """A post's own path, as old URLs are stored."""
    return posts.normalize_path(f"/posts/{slug}")


# -- an imported site's configuration --

GENERATORS = ("hugo", "jekyll", "pelican")
# Where `blogctl import` puts an old site's site-wide files (Hugo `static/`, Jekyll's root folders,
# Pelican's STATIC_PATHS), under their old paths. Not `static/` (the blog's own stylesheet is served
# at /static/…) and not `assets/` (posts' own files): the API function may read this prefix only.
SITE_FILES_PREFIX = "files/"
ANY_SECTION = "*"  # the permalink rule of every post (DynamoDB map keys cannot be empty)
# Bounds on what the config item may hold, whatever wrote it.
MAX_PERMALINK_RULES = 50
MAX_PATTERN_CHARS = 300
MAX_FEED_PATHS = 20
MAX_SETTING_CHARS = 300


def _mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a map, else an empty one (an item's map attribute, as stored or damaged)."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class SiteConfig:
    """The old site an import came from: how it made its URLs, its time zone, where its files are.

    Written by `blogctl import` (one item, `SITE`/`CONFIG`); ingest reads it to date posts and
    compute their old URLs (chalicelib/permalinks.py), the site to serve old files and feeds.
    An empty config (no import) changes nothing.
    """

    generator: str = ""                              # hugo | jekyll | pelican; '' when nothing was imported
    base_url: str = ""                               # the old site's address: 'https://example.com/blog'
    time_zone: str = ""                              # IANA name; dates without an offset are in it ('' = UTC)
    permalinks: dict[str, str] = field(default_factory=dict)  # section (or ANY_SECTION) -> the generator's pattern
    settings: dict[str, str] = field(default_factory=dict)    # generator-specific (see permalinks.py)
    files_prefix: str = ""                           # SITE_FILES_PREFIX when the old site had files
    feed_paths: tuple[str, ...] = ()                 # the old feeds' paths (normalized): 301 to /feed.xml

    @property
    def base_path(self) -> str:
        """The path the old site lived under ('' at the root, '/blog' below it), normalized."""
        if not self.base_url:
            return ""
        try:
            path = posts.normalize_path(self.base_url)
        except ValueError:
            return ""
        return "" if path == "/" else path

    def zone(self) -> dt.tzinfo | None:
        """The site's time zone (UTC when none is set); None when its name is unknown here."""
        if not self.time_zone:
            return dt.timezone.utc
        import zoneinfo

        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None

    def to_item(self) -> dict[str, Any]:
        """The item."""
        return {**SITE_CONFIG_KEY, "generator": self.generator, "base_url": self.base_url,
                "time_zone": self.time_zone, "permalinks": dict(self.permalinks), "settings": dict(self.settings),
                "files_prefix": self.files_prefix, "feed_paths": list(self.feed_paths)}

    @classmethod
    def from_item(cls, item: Mapping[str, Any] | None) -> "SiteConfig":
        """Back from the item (an empty config for None); values past the bounds are left out."""
        if not item or item.get("generator") not in GENERATORS:
            return cls()

        def text(value: Any) -> str:
            return value if isinstance(value, str) and len(value) <= MAX_SETTING_CHARS else ""

        rules = _mapping(item.get("permalinks"))
        settings = _mapping(item.get("settings"))
        prefix = text(item.get("files_prefix"))
        return cls(
            generator=item["generator"], base_url=text(item.get("base_url")), time_zone=text(item.get("time_zone")),
            permalinks={str(k)[:MAX_SETTING_CHARS]: v for k, v in list(rules.items())[:MAX_PERMALINK_RULES]
                        if k and isinstance(v, str) and len(v) <= MAX_PATTERN_CHARS},
            settings={str(k)[:MAX_SETTING_CHARS]: text(v) for k, v in settings.items()},
            files_prefix=prefix if prefix.startswith(SITE_FILES_PREFIX) else "",
            feed_paths=tuple(p for p in item.get("feed_paths") or () if isinstance(p, str))[:MAX_FEED_PATHS],
        )


@dataclass(frozen=True)
class Count:
    """Public posts per tag, author or month."""

    partition: str                      # TAGS, AUTHORS or MONTHS
    name: str                           # the slug, or yyyy-mm
    label: str = ""                     # the tag or author as written
    count: int = 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Count":
        """Back from a counter item."""
        return cls(partition=item["pk"], name=item["sk"], label=item.get("label", ""), count=int(item.get("count", 0)))


def month_of(date: str) -> str:
    """The archive month of a stored UTC date: yyyy-mm."""
    return date[:7]


def contributions(record: PostRecord | None) -> dict[tuple[str, str], str]:
    """The counters a counted post adds one to, with their labels."""
    if record is None or not record.counted:
        return {}
    card = record.card
    found = {(TAGS_PK, t.slug): t.name for t in card.tags}
    found.update({(AUTHORS_PK, a.slug): a.name for a in card.authors})
    found[(MONTHS_PK, month_of(card.date))] = ""
    return found


@dataclass(frozen=True)
class Marker:
    """A post whose visibility changes at `when`: the rebuild finds it without a scan."""

    partition: str                      # SCHEDULED or EXPIRES
    when: str
    slug: str
    source_key: str

    @property
    def key(self) -> Key:
        """The item's key."""
        return {"pk": self.partition, "sk": f"{self.when}#{self.slug}"}

    def to_item(self) -> dict[str, Any]:
        """The item (the source is `key`, not `source_key`, to stay out of the by_source index)."""
        return {**self.key, "slug": self.slug, "key": self.source_key}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Marker":
        """Back from a marker item."""
        return cls(partition=item["pk"], when=item["sk"].split("#", 1)[0], slug=item["slug"], source_key=item["key"])


def markers(record: PostRecord | None) -> list[Marker]:
    """The times at which a post's visibility will change by itself."""
    if record is None or record.status not in (Status.PUBLISHED, Status.SCHEDULED):
        return []
    found = []
    if record.status is Status.SCHEDULED:
        found.append(Marker(SCHEDULED_PK, record.visible_from, record.slug, record.source.key))
    if record.card.expires is not None:
        found.append(Marker(EXPIRES_PK, record.card.expires, record.slug, record.source.key))
    return found


# Of a post's plain text, the search record keeps this much for excerpts and phrase checks: a
# long post's tail is still found by its words, but shown and phrase-checked from its start.
MAX_SEARCH_TEXT_CHARS = 20_000


MAX_IMAGES_PER_POST = 500  # sizes kept per post (about 100 bytes each: far below DynamoDB's 400 KB item)


@dataclass(frozen=True)
class ImageSize:
    """One image asset's size in pixels, and the version it was read from."""

    width: int
    height: int
    etag: str = ""


@dataclass(frozen=True)
class ImageSizes:
    """The sizes of the images under `assets/<slug>/`, by name within it ('figures/cat.png').

    Ingest of an asset writes them from the file's first bytes (images.dimensions); post
    pages read them with the post, in the same Query, to give every `<img>` its size.
    The item is apart from the post's, so either may be uploaded first.
    """

    slug: str
    sizes: Mapping[str, ImageSize] = field(default_factory=dict)
    rev: int = 0

    @property
    def key(self) -> Key:
        """The item's key."""
        return images_key(self.slug)

    def dimensions(self) -> dict[str, tuple[int, int]]:
        """Name -> (width, height), as the renderer takes them."""
        return {name: (size.width, size.height) for name, size in self.sizes.items()}

    def with_image(self, name: str, size: ImageSize | None) -> "ImageSizes":
        """The sizes with `name` set (or removed, for None); the next revision."""
        sizes = {k: v for k, v in self.sizes.items() if k != name}
        if size is not None:
            sizes[name] = size
        return ImageSizes(self.slug, dict(sorted(sizes.items())), self.rev + 1)

    def to_item(self) -> dict[str, Any]:
        """The item."""
        return {**self.key, "rev": self.rev,
                "sizes": {name: [s.width, s.height, s.etag] for name, s in self.sizes.items()}}

    @classmethod
    def from_item(cls, slug: str, item: Mapping[str, Any] | None) -> "ImageSizes":
        """Back from an item (None: no image of this post has been read yet)."""
        if not item:
            return cls(slug)
        sizes = {name: ImageSize(int(v[0]), int(v[1]), str(v[2]) if len(v) > 2 else "")
                 for name, v in dict(item.get("sizes") or {}).items()}
        return cls(slug, sizes, int(item.get("rev", 0)))


@dataclass(frozen=True)
class SearchText:
    """A post's search record (`POST#<slug>` / `TEXT`), queued for the next merge of the search index.

    `entry` is its pending entry (chalicelib.search.shards.pending_fields: slug, doc, rev, day,
    length, terms, forms; empty terms mean "leave the index"; a removal has no doc, the record
    keeps the one its postings have); `text` its plain text for
    excerpts; `waiting`, while it is scheduled, the entry it takes when it goes live.
    The merge writes `indexed`/`indexed_length` on the record; ingest never touches them.
    """

    slug: str
    entry: dict[str, Any]
    text: str = ""
    waiting: dict[str, Any] = field(default_factory=dict)

    @property
    def doc(self) -> str:
        """Its document id in the search index ('' for a removal: the stored record keeps its own)."""
        return str(self.entry.get("doc") or self.waiting.get("doc") or "")

    def queued(self) -> dict[str, Any]:
        """The attributes ingest sets, with the mark that queues it for the merge."""
        return {**self.entry, "text": self.text[:MAX_SEARCH_TEXT_CHARS], "waiting": self.waiting,
                "search_queue": SEARCH_QUEUE_PARTITION}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "SearchText":
        """Back from a search record."""
        entry = {k: item[k] for k in ("slug", "doc", "rev", "day", "length", "terms", "forms") if k in item}
        return cls(slug=item["slug"], entry=entry, text=item.get("text", ""), waiting=dict(item.get("waiting") or {}))
