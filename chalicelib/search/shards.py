"""The search index at rest: shards of postings, a manifest, pending entries, and how they change. Pure.

Layout (the caller stores the bytes; key names are its choice, e.g. `_search/shards/17`):

- A **manifest** (`Manifest`, a few dozen bytes of JSON): the shard count, the number of
  documents and their total length (for BM25), the last merged batch's generation, and the
  shards' total size (which decides when to split).
- **Shards** (`Shard`, gzip'd lines of text, `encode_shard`/`decode_shard`; a query reads one
  with `view_shard`, which finds the lines it needs without parsing the rest). Every key lives
  in the shard `shard_of(key, count)` picks by a stable hash (linear hashing, so the count grows
  one shard at a time: `split_shard`), and shards stay about SHARD_TARGET_BYTES. A term's entry
  holds its true document frequency and its postings (document id, impact, day), best first, cut
  to MAX_POSTINGS_PER_TERM: reading a term costs no more at 100,000 posts than at 10,000. A
  prefix's entry (key '~' + prefix, 3 to 6 letters) holds the terms it begins, most frequent
  first: search-as-you-type and "did you mean" read it.
- **Document ids** (`doc_id`): postings name a post by a short id (6 characters) drawn from its
  slug, not by its slug (31 characters on average): a common term's thousand postings are most of
  what a query reads and splits. The caller keeps one item per id saying whose it is (written in
  the post's own transaction, on condition that no other slug has it: a slug that meets another's
  id takes its next `attempt`), and turns the ids a query ranks back into slugs.
- **Pending entries** (`PendingEntry`, one per changed post, written by ingest): the post's new
  terms (none when it left the index) and the terms the shards hold for it. Queries read them
  beside the shards (`Overlay`); the rebuild merges them in batches (`Batch`, `Progress`):
  postings shard by shard (`group_changes`, `merge_shard`), then the completions of the terms
  whose frequency changed enough (`group_completions`, `merge_completions`). Merges are
  idempotent per shard (each shard records the last batch it has), so a run that dies resumes.
"""
from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import math
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple

from chalicelib.errors import CorruptIndex
from chalicelib.search.text import Document

FORMAT = 2  # 2: postings hold document ids (1 held slugs: `blogctl reindex` rebuilds such an index)
DOC_ID_CHARS = 6  # base-36 digits of a document id: 2.2 billion ids, about 2 pairs of slugs meet in 100,000
DOC_ID_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_POSTINGS_PER_TERM = 1000  # postings kept per term, by impact: the cost of reading a term
SHARD_TARGET_BYTES = 8 * 1024  # stored bytes per shard, on average, before one splits: what reading a word costs
# (linear hashing leaves unsplit shards about twice the size of split ones, so a word's cost varies by
# up to 2x SHARD_TARGET_BYTES with the index's size; kept small, that is a small part of a query)
MAX_SHARD_BYTES = 16 * 1024 * 1024  # decoded bytes a reader accepts from one shard object
MAX_BATCH_BYTES = 64 * 1024 * 1024  # decoded bytes a reader accepts from one batch object
PREFIX_MIN_CHARS = 3
PREFIX_MAX_CHARS = 6  # longer prefixes are answered from the 6-letter entry, filtered
PREFIX_KEEP = 16  # completions kept per prefix, most frequent first
PREFIX_SIGIL = "~"  # prefix keys share the hash space with terms; no term contains '~'
SHARD_MAGIC = "search-shard"
IMPACT_SCALE = 100  # impacts are BM25's term-frequency part x 100, as integers
BM25_K1 = 1.2
BM25_B = 0.75
GZIP_LEVEL = 3  # 5% larger than level 6, twice as fast to write: merges rewrite many shards
PHASES = ("terms", "completions", "finished")
DEFLATE_MAX_RATIO = 1032
GUNZIP_CHUNK = 16 * 1024  # decoded bytes inflated at a time (a shard is about 10 to 150 KB decoded)
MAX_PREFIX_SCAN = 2_000  # mentions of a prefix a query's one pass over the pending entries takes in
MAX_ITEM_BYTES = 12  # an id, impact or day with its space, at most (they take 7, 4 and 6: room to spare)
STORED_POSTING_BYTES = 8  # a posting's share of a stored shard, about (gzip'd id, impact, day)


class Posting(NamedTuple):
    """One document in a term's postings."""

    doc: str  # the post's document id (`doc_id`)
    impact: int  # BM25's term-frequency part for this document, x IMPACT_SCALE
    day: int  # the post's day (days since 1970): newer wins a tie


class Completion(NamedTuple):
    """A term a prefix begins, with its document frequency and a word readers type for it."""

    term: str
    df: int
    form: str


# -- hashing ------------------------------------------------------------------------------

def key_hash(key: str) -> int:
    """A stable 32-bit hash of a key (the same in every process and Python version)."""
    return zlib.crc32(key.encode())


@lru_cache(maxsize=1 << 17)
def shard_of(key: str, count: int) -> int:
    """The shard holding `key` among `count` shards (linear hashing: growing by one moves one shard's keys)."""
    if count < 1:
        raise ValueError("a search index has at least one shard")
    level = count.bit_length() - 1  # 2**level <= count < 2**(level + 1)
    h = key_hash(key)
    number = h % (2 << level)
    return number if number < count else h % (1 << level)


def doc_id(slug: str, attempt: int = 0) -> str:
    """A post's document id: DOC_ID_CHARS base-36 digits of a stable hash of its slug; `attempt` n > 0
    gives the slug's next id, for when another slug holds the ones before."""
    digest = hashlib.blake2b(f"{slug}\n{attempt}".encode(), digest_size=8).digest()
    number = int.from_bytes(digest, "big") % len(DOC_ID_DIGITS) ** DOC_ID_CHARS
    digits = []
    for _ in range(DOC_ID_CHARS):
        number, digit = divmod(number, len(DOC_ID_DIGITS))
        digits.append(DOC_ID_DIGITS[digit])
    return "".join(reversed(digits))


def claim_doc_id(owners: MutableMapping[str, str], slug: str) -> str:
    """`slug`'s document id in `owners` (id -> slug), claimed there if new: its first `doc_id` attempt
    that no other slug holds (what ingest's conditional write finds, for tests and bulk loads)."""
    attempt = 0
    while owners.setdefault(doc_id(slug, attempt), slug) != slug:
        attempt += 1
    return doc_id(slug, attempt)


def prefix_key(prefix: str) -> str:
    """The key of a prefix's completions."""
    return PREFIX_SIGIL + prefix


def prefixes_of(term: str) -> list[str]:
    """The prefixes whose completions list `term` (3 to 6 letters, shorter than the term)."""
    return [term[:n] for n in range(PREFIX_MIN_CHARS, min(PREFIX_MAX_CHARS, len(term) - 1) + 1)]


def length_norm(length: int, average_length: float) -> float:
    """BM25's length normalisation of a document of `length` (k1 included)."""
    return BM25_K1 * (1 - BM25_B + BM25_B * length / max(average_length, 1.0))


def impact(count: int, norm: float) -> int:
    """BM25's term-frequency part, x IMPACT_SCALE, of a term met `count` (weighted) times in a
    document whose `length_norm` is `norm`."""
    return max(1, round(IMPACT_SCALE * count * (BM25_K1 + 1) / (count + norm)))


def idf(df: int, docs: int) -> float:
    """BM25's inverse document frequency of a term in `df` of `docs` documents."""
    docs = max(docs, df)
    return math.log(1 + (docs - df + 0.5) / (df + 0.5))


# -- manifest -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Manifest:
    """What a reader needs before any shard: how many there are, and the corpus figures for BM25."""

    shards: int = 1
    docs: int = 0
    length: int = 0  # total weighted length of the documents
    generation: int = 0  # the last batch merged
    bytes: int = 0  # stored bytes of all shards (an estimate kept up to date by merges and splits)

    @property
    def average_length(self) -> float:
        """The average document length (1 for an empty index)."""
        return self.length / self.docs if self.docs else 1.0

    def should_split(self, incoming: int = 0) -> bool:
        """Are the shards, on average, over their target size (with `incoming` bytes more)?"""
        return self.bytes + incoming > SHARD_TARGET_BYTES * self.shards

    def splits_needed(self, incoming: int = 0) -> int:
        """How many splits bring the shards back to their target size on average (at least one)."""
        return max(1, -(-(self.bytes + incoming) // SHARD_TARGET_BYTES) - self.shards)

    def to_dict(self) -> dict[str, int]:
        """The manifest as JSON- and DynamoDB-safe data (integers only)."""
        return {"format": FORMAT, "shards": self.shards, "docs": self.docs, "length": self.length,
                "generation": self.generation, "bytes": self.bytes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "Manifest":
        """A manifest from stored data; an empty index when there is none yet."""
        if not data:
            return cls()
        if int(data.get("format", 0)) != FORMAT:
            raise CorruptIndex(f"search manifest has format {data.get('format')!r}, expected {FORMAT}")
        try:
            manifest = cls(**{name: int(data[name]) for name in ("shards", "docs", "length", "generation", "bytes")})
        except (KeyError, TypeError, ValueError) as err:
            raise CorruptIndex(f"search manifest is malformed: {err}") from None
        if manifest.shards < 1 or min(manifest.docs, manifest.length, manifest.generation, manifest.bytes) < 0:
            raise CorruptIndex("search manifest has impossible figures")
        return manifest


# -- shards -------------------------------------------------------------------------------

class _Entries:
    """What a query asks of a shard, over its term and prefix entries however they are held."""

    def _entry(self, term: str) -> list[Any] | None:
        raise NotImplementedError

    def _prefix(self, prefix: str) -> str:
        raise NotImplementedError

    def df(self, term: str) -> int:
        """The number of documents containing `term`."""
        entry = self._entry(term)
        return int(entry[0]) if entry else 0

    def _column_texts(self, term: str, limit: int = -1) -> tuple[str, str, str] | None:
        """`term`'s three columns, or at least their first `limit` items (-1: whole)."""
        entry = self._entry(term)
        return (entry[1], entry[2], entry[3]) if entry and entry[1] else None

    def columns(self, term: str, limit: int = -1) -> tuple[list[str], str, str]:
        """`term`'s best postings (`limit`, or all: at most MAX_POSTINGS_PER_TERM) as (ids, impacts, days),
        the impacts and days as stored, items separated by spaces ('' when none): a query splits them one
        term at a time and converts only the few postings it scores (a common term's thousand numbers as
        Python objects would be a good part of a query's memory)."""
        found = self._column_texts(term, limit)
        if found is None:
            return [], "", ""
        ids, impacts, days = found
        if limit < 0:
            return ids.split(" "), impacts, days
        return (ids.split(" ", limit)[:limit], " ".join(impacts.split(" ", limit)[:limit]),
                " ".join(days.split(" ", limit)[:limit]))

    def postings(self, term: str) -> list[Posting]:
        """`term`'s postings, best first."""
        ids, impacts, days = self.columns(term)
        return [Posting(*p) for p in zip(ids, map(int, impacts.split()), map(int, days.split()))]

    def completions(self, prefix: str) -> list[Completion]:
        """The terms `prefix` begins, most frequent first (prefixes of 3 to 6 letters only)."""
        return parse_completions(self._prefix(prefix))


@dataclass
class Shard(_Entries):
    """One shard, decoded whole (to merge or split it).

    `terms` maps a term to [document frequency, ids, impacts, days], its postings as three
    space-separated columns, best first; `prefixes` maps a prefix to 'term:df:form ...' (most
    frequent first; form empty when it is the term itself).
    """

    number: int
    count: int = 1  # the shard count this shard was last written for (a split leaves strays behind)
    generation: int = 0  # the last batch whose terms are merged into it (merging twice changes nothing)
    completed: int = 0  # the last batch whose completions are merged into it
    terms: dict[str, list[Any]] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)

    def _entry(self, term: str) -> list[Any] | None:
        return self.terms.get(term)

    def _prefix(self, prefix: str) -> str:
        return self.prefixes.get(prefix, "")


class ShardView(_Entries):
    """A stored shard as a query reads it: its text, searched for the few lines it needs (no parsing
    of the rest: a query's cost does not grow with what else the shard holds)."""

    def __init__(self, number: int, raw: bytes | bytearray) -> None:
        self.number = number
        self._raw = raw
        self._spans: dict[str, tuple[int, int] | None] = {}  # a query asks about a key several times

    def _fields(self, key: str) -> tuple[int, int] | None:
        """Where the fields of `key`'s line begin and end in the text (None: no such line)."""
        if key in self._spans:
            return self._spans[key]
        needle = b"\n" + key.encode() + b"\t"
        at = self._raw.find(needle)
        span = None if at < 0 else (at + len(needle), self._raw.find(b"\n", at + 1))
        self._spans[key] = span
        return span

    def _line(self, key: str) -> list[str] | None:
        span = self._fields(key)
        return None if span is None else self._raw[span[0]:span[1]].decode().split("\t")

    def _column_texts(self, term: str, limit: int = -1) -> tuple[str, str, str] | None:
        # Field by field, straight from the shard's bytes: no copy of the whole line (most of the
        # shard, for a common term) on the way; with a `limit`, only the part of each column its first
        # items can fill (a completion reads its best 60 or 200 of a common word's thousand).
        span = self._fields(term)
        if span is None:
            return None
        start, end = span
        tabs = [self._raw.find(b"\t", start, end)]
        for _ in range(2):
            tabs.append(self._raw.find(b"\t", tabs[-1] + 1, end) if tabs[-1] >= 0 else -1)
        if -1 in tabs or self._raw.find(b"\t", tabs[-1] + 1, end) >= 0:
            raise CorruptIndex(f"search shard {self.number} has a malformed entry for {term!r}")
        first, second, third = (self._column(a + 1, b, limit) for a, b in zip(tabs, [*tabs[1:], end]))
        return (first, second, third) if first else None

    def _column(self, start: int, end: int, limit: int) -> str:
        """The column between these offsets, or a beginning of it with its first `limit` items whole."""
        stop = end if limit < 0 else min(end, start + limit * MAX_ITEM_BYTES)
        text = self._raw[start:stop].decode()
        if stop < end and text.count(" ") < limit:  # (an item over MAX_ITEM_BYTES: not written by merges)
            text = self._raw[start:end].decode()
        return text

    def df(self, term: str) -> int:
        """The number of documents containing `term` (its first field only: a common term's postings
        are most of its shard, and a query asks for its frequency more often than for its postings)."""
        span = self._fields(term)
        if span is None:
            return 0
        tab = self._raw.find(b"\t", span[0], span[1])
        try:
            return int(self._raw[span[0]:tab if tab >= 0 else span[1]])
        except ValueError:
            raise CorruptIndex(f"search shard {self.number} has a malformed entry for {term!r}") from None

    def _prefix(self, prefix: str) -> str:
        found = self._line(prefix_key(prefix))
        return found[0] if found else ""


def parse_completions(text: str) -> list[Completion]:
    """Completions from their stored string."""
    found = []
    for part in text.split():
        term, df, form = part.split(":")
        found.append(Completion(term, int(df), form or term))
    return found


def format_completions(completions: Iterable[Completion]) -> str:
    """Completions as their stored string."""
    return " ".join(f"{c.term}:{c.df}:{'' if c.form == c.term else c.form}" for c in completions)


def encode_shard(shard: Shard) -> bytes:
    """A shard as stored: gzip'd UTF-8 lines (deterministic: same shard, same bytes).

    A header line ('search-shard', format, number, count, generation, completed), then one line
    per term ('term, df, ids, impacts, days') and per prefix ('~prefix, completions'), fields
    separated by tabs, in key order. No key or field holds a tab or a line end.
    """
    lines = [f"{SHARD_MAGIC}\t{FORMAT}\t{shard.number}\t{shard.count}\t{shard.generation}\t{shard.completed}"]
    lines += [f"{term}\t{entry[0]}\t{entry[1]}\t{entry[2]}\t{entry[3]}" for term, entry in sorted(shard.terms.items())]
    lines += [f"{prefix_key(prefix)}\t{entry}" for prefix, entry in sorted(shard.prefixes.items())]
    return gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=GZIP_LEVEL, mtime=0)


def decode_shard(data: bytes, number: int) -> Shard:
    """The shard stored as `data`, decoded whole; CorruptIndex when it is not one (or not shard `number`)."""
    raw = _gunzip(data, MAX_SHARD_BYTES, f"search shard {number}")
    header = _header(raw, number)
    shard = Shard(number=number, count=header[0], generation=header[1], completed=header[2])
    try:
        for line in raw.decode().split("\n")[1:-1]:
            key, rest = line.split("\t", 1)
            if key.startswith(PREFIX_SIGIL):
                shard.prefixes[key[1:]] = rest
            else:
                df, ids, impacts, days = rest.split("\t")
                shard.terms[key] = [int(df), ids, impacts, days]
    except ValueError as err:
        raise CorruptIndex(f"search shard {number} is malformed: {err}") from None
    return shard


def view_shard(data: bytes, number: int) -> ShardView:
    """The shard stored as `data`, for a query: decompressed and checked, its lines found on demand."""
    raw = _gunzip(data, MAX_SHARD_BYTES, f"search shard {number}")
    _header(raw, number)
    return ShardView(number, raw)


def _header(raw: bytes | bytearray, number: int) -> tuple[int, int, int]:
    """(count, generation, completed) from a decoded shard's header line, checked."""
    first = raw[:raw.find(b"\n")].decode(errors="replace").split("\t")
    try:
        if first[0] != SHARD_MAGIC or int(first[1]) != FORMAT or int(first[2]) != number or not raw.endswith(b"\n"):
            raise ValueError(f"header {first[:3]!r}")
        return int(first[3]), int(first[4]), int(first[5])
    except (ValueError, IndexError) as err:
        raise CorruptIndex(f"search shard {number} is not one: {err}") from None


def empty_shard(number: int, count: int) -> Shard:
    """A shard with nothing in it yet (what a reader sees for a shard never written)."""
    return Shard(number=number, count=count)


def _gunzip(data: bytes, limit: int, what: str) -> bytearray:
    """`data` un-gzipped (at most `limit` bytes), into one buffer sized by the gzip trailer's length
    (a hint, checked as it fills): zlib's own output buffer grows in blocks and is copied at the end,
    which held about four times a shard's size at once."""
    inflater = zlib.decompressobj(wbits=31)  # gzip framing
    # (deflate expands at most about 1032 to 1: a trailer that claims more is not believed)
    raw = bytearray(min(int.from_bytes(data[-4:], "little"), limit + 1, len(data) * DEFLATE_MAX_RATIO))
    size = 0
    pending = data
    try:
        while not inflater.eof and size <= limit:
            chunk = inflater.decompress(pending, GUNZIP_CHUNK)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break  # every byte read, and no end: truncated
            raw[size:size + len(chunk)] = chunk
            size += len(chunk)
    except zlib.error as err:
        raise CorruptIndex(f"{what} is not gzip: {err}") from None
    if size > limit:
        raise CorruptIndex(f"{what} is over {limit} bytes decoded")
    if not inflater.eof:
        raise CorruptIndex(f"{what} is truncated")
    del raw[size:]
    return raw


# -- pending entries ----------------------------------------------------------------------

_ENTRY_FIELDS = ("slug", "doc", "rev", "day", "length", "terms", "forms", "indexed", "indexed_length")


@dataclass(frozen=True)
class PendingEntry:
    """A post whose searchable form changed since the last merge.

    `terms` is the new version ('term:count ...', empty when the post left the index:
    deleted, drafted, not yet public); `indexed` is what the shards hold for it ('term ...')
    and `indexed_length` its length, so a merge removes exactly the stale postings.
    """

    slug: str
    doc: str  # its document id in the postings (`doc_id`)
    rev: int
    day: int = 0
    length: int = 0
    terms: str = ""
    forms: str = ""  # 'term:word ...' for terms that are not words themselves
    indexed: str = ""
    indexed_length: int = 0

    @classmethod
    def of(cls, slug: str, doc: str, rev: int, document: Document | None, indexed: str = "",
           indexed_length: int = 0) -> "PendingEntry":
        """The entry for a post's new version (`document`), or for its removal (None)."""
        if document is None or not document.terms:
            return cls(slug=slug, doc=doc, rev=rev, indexed=indexed, indexed_length=indexed_length)
        return cls(slug=slug, doc=doc, rev=rev, day=document.day, length=document.length,
                   terms=" ".join(f"{t}:{n}" for t, n in document.terms.items()),
                   forms=" ".join(f"{t}:{f}" for t, f in document.forms.items()),
                   indexed=indexed, indexed_length=indexed_length)

    @property
    def removed(self) -> bool:
        """Does the post leave the index?"""
        return not self.terms

    def document(self) -> Document | None:
        """The new version as a Document (None when the post leaves the index)."""
        if not self.terms:
            return None
        counts = {}
        for part in self.terms.split():
            term, count = part.rsplit(":", 1)
            counts[term] = int(count)
        forms = dict(part.split(":", 1) for part in self.forms.split())
        return Document(slug=self.slug, day=self.day, length=self.length, terms=counts, forms=forms)

    def indexed_terms(self) -> list[str]:
        """The terms the shards hold postings of this post for."""
        return self.indexed.split()

    def settled(self) -> tuple[str, int]:
        """(indexed, indexed_length) once this entry is merged: what the shards then hold."""
        document = self.document()
        return (" ".join(document.terms), document.length) if document else ("", 0)

    def to_item(self) -> dict[str, Any]:
        """The entry as JSON- and DynamoDB-safe data: strings and small integers, no floats."""
        return {name: getattr(self, name) for name in _ENTRY_FIELDS}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "PendingEntry":
        """An entry from stored data (DynamoDB's Decimals become ints)."""
        try:
            entry = cls(slug=str(item["slug"]), doc=str(item.get("doc", "")), rev=int(item["rev"]),
                        day=int(item.get("day", 0)), length=int(item.get("length", 0)),
                        terms=str(item.get("terms", "")), forms=str(item.get("forms", "")),
                        indexed=str(item.get("indexed", "")), indexed_length=int(item.get("indexed_length", 0)))
        except (KeyError, TypeError, ValueError) as err:
            raise CorruptIndex(f"pending search entry is malformed: {err}") from None
        if not entry.doc and (entry.terms or entry.indexed):  # written before document ids
            raise CorruptIndex(f"pending search entry {entry.slug!r} has no document id (run `blogctl reindex`)")
        return entry


def pending_fields(slug: str, doc: str | None, rev: int, document: Document | None) -> dict[str, Any]:
    """The attributes ingest writes for a post's new version, in the post's own transaction: all of
    an entry but `indexed` and `indexed_length`, which only merges write (so ingest reads nothing);
    and but `doc` when it is None (a removal: the record keeps the id its postings have)."""
    item = PendingEntry.of(slug, doc or "", rev, document).to_item()
    del item["indexed"], item["indexed_length"]
    if doc is None:
        del item["doc"]
    return item


def estimated_bytes(entry: PendingEntry) -> int:
    """About how many stored shard bytes merging `entry` adds (a posting per term)."""
    return (entry.terms.count(" ") + 1 if entry.terms else 0) * STORED_POSTING_BYTES


def latest(entries: Iterable[PendingEntry]) -> list[PendingEntry]:
    """One entry per slug, the newest revision's, in slug order."""
    newest: dict[str, PendingEntry] = {}
    for entry in entries:
        if entry.slug not in newest or entry.rev > newest[entry.slug].rev:
            newest[entry.slug] = entry
    return [newest[slug] for slug in sorted(newest)]


class Overlay:
    """Pending entries as a query sees them: they hide their posts' shard postings and bring their own.

    A query asks about a term several times (its frequency, its postings, the count); each term's
    answer is read from the entries' text once (a pending entry holds a post's thousands of terms)."""

    def __init__(self, entries: Iterable[PendingEntry], average_length: float) -> None:
        self.entries = latest(entries)
        self.hidden = frozenset(e.doc for e in self.entries)  # document ids
        self._average_length = average_length
        # Padded with spaces so that ' term:' and ' term ' find whole terms with str.find (no parsing).
        self._terms = [(e, f" {e.terms} ") for e in self.entries if e.terms]
        self._indexed = [f" {e.indexed} " for e in self.entries if e.indexed]
        self._postings: dict[str, tuple[Posting, ...]] = {}
        self._removed: dict[str, int] = {}
        self._scanned: dict[str, list[str] | None] = {}  # prefix -> every pending term it begins (`_scan`)

    def docs_change(self) -> int:
        """How many more (or fewer) documents the index has once these are merged."""
        return len(self._terms) - len(self._indexed)

    def df_change(self, term: str) -> int:
        """How many more (or fewer) documents contain `term` once these are merged."""
        if term not in self._removed:
            self._removed[term] = 0 if self._covered(term) else sum(f" {term} " in text for text in self._indexed)
        return len(self.postings(term)) - self._removed[term]

    def postings(self, term: str) -> tuple[Posting, ...]:
        """The pending documents' postings for `term`."""
        if term in self._postings:
            return self._postings[term]
        if self._covered(term):
            return ()
        found = []
        needle = f" {term}:"
        for entry, text in self._terms:
            at = text.find(needle)
            if at >= 0:
                found.append(self._posting(entry, text, at + len(needle)))
        self._postings[term] = tuple(found)
        return self._postings[term]

    def _posting(self, entry: PendingEntry, text: str, count_at: int) -> Posting:
        """The posting of the term whose count begins at `count_at` of `entry`'s padded terms."""
        count = int(text[count_at:text.index(" ", count_at)])
        return Posting(entry.doc, impact(count, length_norm(entry.length, self._average_length)), entry.day)

    def _covered(self, term: str) -> bool:
        """Did a prefix scan see every pending term like `term` (so one it did not see is in no entry)?"""
        return any(term.startswith(prefix) for prefix, found in self._scanned.items() if found is not None)

    def _scan(self, prefix: str) -> list[str] | None:
        """Every pending term `prefix` begins, as the entries list them (heaviest of each first), their
        postings and removals kept for `postings` and `df_change`: one pass over the entries for a prefix
        and all its completions, where each term had one of its own (a big blog has more completions).
        None when it finds over MAX_PREFIX_SCAN mentions (then each term is looked up alone)."""
        if prefix in self._scanned:
            return self._scanned[prefix]
        added = list(itertools.islice(((entry, text, term, end) for entry, text in self._terms
                                       for term, end in _mentions(text, prefix, ":")), MAX_PREFIX_SCAN + 1))
        removed = list(itertools.islice((term for text in self._indexed for term, _ in _mentions(text, prefix, " ")),
                                        MAX_PREFIX_SCAN + 1 - len(added)))
        if len(added) + len(removed) > MAX_PREFIX_SCAN:
            self._scanned[prefix] = None
            return None
        postings: dict[str, list[Posting]] = {}
        for entry, text, term, end in added:
            postings.setdefault(term, []).append(self._posting(entry, text, end + 1))
        for term, found in postings.items():
            self._postings.setdefault(term, tuple(found))
        for term, count in Counter(removed).items():
            self._removed.setdefault(term, count)
        self._scanned[prefix] = list(postings)
        return self._scanned[prefix]

    def spelled(self, term: str) -> Completion:
        """A pending documents' term with how many of them have it and a word readers type for it: "did you
        mean" knows a new word before its first merge."""
        needle = f" {term}:"
        forms = (f" {e.forms} " for e in self.entries if e.forms)
        form = next((text[at + len(needle):text.index(" ", at + len(needle))]
                     for text in forms if (at := text.find(needle)) >= 0), term)
        return Completion(term, len(self.postings(term)), form)

    def completions(self, prefix: str, limit: int) -> list[str]:
        """Terms of pending documents that `prefix` begins (at most `limit`, heaviest of each document first)."""
        scanned = self._scan(prefix)
        if scanned is not None:
            return [term for term in scanned if len(term) > len(prefix)][:limit]
        found: dict[str, None] = {}
        for _, text in self._terms:
            for term, _ in _mentions(text, prefix, ":"):
                if len(term) > len(prefix):
                    found[term] = None
                    if len(found) >= limit:
                        return list(found)
        return list(found)


def _mentions(text: str, prefix: str, end_mark: str) -> Iterator[tuple[str, int]]:
    """(term, where it ends) of each term that `prefix` begins in a padded list of terms (a term's start is
    a space, found at C speed; its end is `end_mark`)."""
    needle = " " + prefix
    at = text.find(needle)
    while at >= 0:
        end = text.index(end_mark, at + 1)
        yield text[at + 1:end], end
        at = text.find(needle, end)


# -- merging ------------------------------------------------------------------------------

@dataclass
class ShardChanges:
    """What one batch changes in the terms of one shard."""

    removed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # doc id -> stale terms here
    added: dict[str, Document] = field(default_factory=dict)  # doc id -> new document, cut to terms here


def group_changes(entries: Iterable[PendingEntry], count: int) -> dict[int, ShardChanges]:
    """A batch's changes, grouped by the shard (of `count`) whose terms they touch, to merge shard by shard."""
    changes: dict[int, ShardChanges] = defaultdict(ShardChanges)
    for entry in latest(entries):
        for term in entry.indexed_terms():
            changes[shard_of(term, count)].removed[entry.doc].add(term)
        document = entry.document()
        if document is None:
            continue
        by_shard: dict[int, dict[str, int]] = defaultdict(dict)
        for term, weight in document.terms.items():
            by_shard[shard_of(term, count)][term] = weight
        for number, weights in by_shard.items():  # (forms shared, not cut: merge_shard only looks terms up)
            changes[number].added[entry.doc] = Document(entry.slug, document.day, document.length, weights,
                                                         document.forms)
    return dict(changes)


def merge_shard(shard: Shard, removed: Mapping[str, Iterable[str]], added: Mapping[str, Document], *,
                generation: int, count: int, average_length: float) -> tuple[Shard, dict[str, tuple[int, str]]]:
    """`shard` with a batch's term changes: stale postings out, new ones in, document frequencies updated.

    Also returns the terms whose completions must change, with their new document frequency
    and form: new terms, vanished ones (0), and those whose frequency crossed a power of two
    (so completions stay ranked within a factor of two without rewriting them for every post).
    A shard that already has this batch (its generation) comes back as is.
    """
    if shard.generation >= generation:
        return shard, {}
    terms = _owned(shard.terms, shard, count, lambda t: t)
    # Postings as (-impact, -day, doc id): the natural tuple order is best first.
    new_postings: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    dropped: dict[str, set[str]] = defaultdict(set)  # term -> doc ids whose stale posting goes
    df_change: Counter[str] = Counter()
    for doc, stale in removed.items():
        for term in stale:
            dropped[term].add(doc)
            df_change[term] -= 1
    for doc, document in added.items():
        norm = length_norm(document.length, average_length)
        for term, weight in document.terms.items():
            df_change[term] += 1
            new_postings[term].append((-impact(weight, norm), -document.day, doc))
    reported: dict[str, tuple[int, str]] = {}
    for term in df_change.keys() | new_postings.keys():
        entry = terms.get(term)
        old_df = entry[0] if entry else 0
        columns = _merged_postings(entry, new_postings.get(term, []), dropped.get(term, set()))
        df = max(old_df + df_change[term], columns[0].count(" ") + 1 if columns[0] else 0)
        if df > 0:
            terms[term] = [df, *columns]
        else:
            terms.pop(term, None)
        if df != old_df and (min(df, old_df) == 0 or df.bit_length() != old_df.bit_length()):
            reported[term] = (df, _best_form(term, added.values()))
    prefixes = _owned(shard.prefixes, shard, count, prefix_key)
    return replace(shard, count=count, generation=generation, terms=terms, prefixes=prefixes), reported


def _merged_postings(entry: list[Any] | None, new: list[tuple[int, int, str]],
                     dropped: set[str]) -> tuple[str, str, str]:
    """A term's posting columns without the `dropped` doc ids, with the `new` postings (keyed
    (-impact, -day, doc id)), best first, cut to MAX_POSTINGS_PER_TERM."""
    if entry and not new and not dropped:
        return entry[1], entry[2], entry[3]  # only its frequency changed: no parsing
    keyed = new
    if entry:
        dropped = dropped | {doc for _, _, doc in new}  # a post has one posting per term
        keyed = [(-value, -day, doc) for doc, value, day in
                 zip(entry[1].split(), map(int, entry[2].split()), map(int, entry[3].split()))
                 if doc not in dropped] + new
    keyed.sort()
    kept = keyed[:MAX_POSTINGS_PER_TERM]
    return (" ".join(doc for _, _, doc in kept), " ".join(str(-value) for value, _, _ in kept),
            " ".join(str(-day) for _, day, _ in kept))


def group_completions(reported: Mapping[str, tuple[int, str]],
                      count: int) -> dict[int, dict[str, dict[str, tuple[int, str]]]]:
    """Completion changes (term -> (df, form)), grouped by the shard (of `count`) of each prefix they touch."""
    changes: dict[int, dict[str, dict[str, tuple[int, str]]]] = defaultdict(lambda: defaultdict(dict))
    for term, (df, form) in reported.items():
        for prefix in prefixes_of(term):
            changes[shard_of(prefix_key(prefix), count)][prefix][term] = (df, form)
    return {number: dict(updates) for number, updates in changes.items()}


def _best_form(term: str, added: Iterable[Document]) -> str:
    """The word a term reads as, among the batch's documents that have it: the shortest, as in one post
    ('box', not 'boxes'); a document without a form for it had the term itself as a word."""
    forms = [d.forms.get(term, term) for d in added if term in d.terms]
    return min(forms, key=lambda f: (len(f), f)) if forms else term


def merge_completions(shard: Shard, updates: Mapping[str, Mapping[str, tuple[int, str]]], *,
                      generation: int, count: int) -> Shard:
    """`shard` with some terms' completion entries set to their new document frequency (0: removed)."""
    if shard.completed >= generation:
        return shard
    prefixes = _owned(shard.prefixes, shard, count, prefix_key)
    for prefix, changes in updates.items():
        by_term = {c.term: c for c in parse_completions(prefixes.get(prefix, ""))}
        for term, (df, form) in changes.items():
            if df > 0:
                old = by_term.get(term)
                by_term[term] = Completion(term, df, old.form if old and form == term else form)
            else:
                by_term.pop(term, None)
        kept = sorted(by_term.values(), key=lambda c: (-c.df, c.term))[:PREFIX_KEEP]
        if kept:
            prefixes[prefix] = format_completions(kept)
        else:
            prefixes.pop(prefix, None)
    terms = _owned(shard.terms, shard, count, lambda t: t)
    return replace(shard, count=count, completed=generation, terms=terms, prefixes=prefixes)


def _owned(entries: dict[str, Any], shard: Shard, count: int, key: Callable[[str], str]) -> dict[str, Any]:
    """A copy of a shard's entries, without the strays an interrupted split left (their keys moved on)."""
    if shard.count == count:
        return dict(entries)
    return {name: entry for name, entry in entries.items() if shard_of(key(name), count) == shard.number}


def split_shard(shard: Shard, count: int) -> tuple[Shard, Shard]:
    """Grow `count` shards to count + 1: shard `count - 2**level` keeps some keys, new shard `count` gets the rest.

    Store the new shard first, then the manifest, then the kept one: a reader never misses a key.
    """
    source = split_source(count)
    if shard.number != source:
        raise ValueError(f"growing {count} shards splits shard {source}, not {shard.number}")
    grown = count + 1
    parts = [Shard(number=n, count=grown, generation=shard.generation, completed=shard.completed)
             for n in (source, count)]
    for term, entry in shard.terms.items():
        number = shard_of(term, grown)
        if number in (source, count):
            parts[number == count].terms[term] = entry
    for prefix, completions in shard.prefixes.items():
        number = shard_of(prefix_key(prefix), grown)
        if number in (source, count):
            parts[number == count].prefixes[prefix] = completions
    return parts[0], parts[1]


def split_source(count: int) -> int:
    """The shard that splits when `count` shards grow to count + 1."""
    return count - (1 << (count.bit_length() - 1))


# -- batches ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Batch:
    """Pending entries being merged, frozen when the merge starts so that a merge cut short resumes
    with the same plan (the shards it already merged skip it by generation)."""

    generation: int
    shards: int  # the shard count it is merged into (no split happens while a batch is open)
    average_length: int  # of the index with the batch in, rounded (impacts use it)
    entries: tuple[PendingEntry, ...]

    def manifest_after(self, manifest: Manifest, bytes_change: int) -> Manifest:
        """The manifest once every shard has the batch (and the shards grew by `bytes_change`)."""
        docs, length = _counts_after(manifest, self.entries)
        return Manifest(shards=manifest.shards, docs=docs, length=length,
                        generation=self.generation, bytes=max(manifest.bytes + bytes_change, 0))


def _counts_after(manifest: Manifest, entries: Iterable[PendingEntry]) -> tuple[int, int]:
    """(documents, total length) of the index once `entries` (one per slug) are merged."""
    docs, length = manifest.docs, manifest.length
    for entry in entries:
        if entry.indexed:
            docs -= 1
            length -= entry.indexed_length
        if entry.terms:
            docs += 1
            length += entry.length
    return max(docs, 0), max(length, 0)


def average_length_after(manifest: Manifest, entries: Iterable[PendingEntry]) -> float:
    """The average document length once `entries` (one per slug) are merged: what their impacts use.

    Not the index's as it is: a new blog's is 1 (no documents), and its first batch (an import,
    hundreds of posts) scored against it had a long post's impacts squashed to the floor for good.
    """
    docs, length = _counts_after(manifest, entries)
    return length / docs if docs else 1.0


def batch_average_length(manifest: Manifest, entries: Iterable[PendingEntry]) -> int:
    """The average length a batch of `entries` scores against, as its merge stores it (and a query scores
    them before their merge: the same impacts, so a post ranks the same before and after)."""
    return max(1, round(average_length_after(manifest, entries)))


@dataclass(frozen=True)
class Progress:
    """How far a batch's merge got. Two phases: "terms" merges postings shard by shard and collects
    the terms whose completions change (`reported`); "completions" merges those into the prefixes' shards."""

    phase: str = "terms"  # or "completions"
    done: int = 0  # shards of the current phase merged, in shard order
    reported: dict[str, tuple[int, str]] = field(default_factory=dict)  # term -> (df, form)
    bytes_change: int = 0  # stored bytes the merged shards gained (negative: lost)


def start_batch(manifest: Manifest, entries: Iterable[PendingEntry]) -> Batch:
    """A new batch of `entries` over the index `manifest` describes."""
    kept = tuple(latest(entries))
    return Batch(generation=manifest.generation + 1, shards=manifest.shards,
                 average_length=batch_average_length(manifest, kept), entries=kept)


def encode_batch(batch: Batch) -> bytes:
    """A batch as stored: gzip'd JSON."""
    return _gzip_json({"format": FORMAT, "generation": batch.generation, "shards": batch.shards,
                       "average_length": batch.average_length, "entries": [e.to_item() for e in batch.entries]})


def decode_batch(data: bytes) -> Batch:
    """The batch stored as `data`; CorruptIndex when it is not one."""
    obj = _gunzip_json(data, "search batch")
    try:
        return Batch(generation=int(obj["generation"]), shards=int(obj["shards"]),
                     average_length=int(obj["average_length"]),
                     entries=tuple(PendingEntry.from_item(e) for e in obj["entries"]))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise CorruptIndex(f"search batch is malformed: {err}") from None


def encode_progress(progress: Progress) -> bytes:
    """A batch's progress as stored: gzip'd JSON (small but for the first merges of a new vocabulary)."""
    reported = " ".join(f"{term}:{df}:{form}" for term, (df, form) in progress.reported.items())
    return _gzip_json({"format": FORMAT, "phase": progress.phase, "done": progress.done,
                       "reported": reported, "bytes_change": progress.bytes_change})


def decode_progress(data: bytes | None) -> Progress:
    """The progress stored as `data` (none yet: the start); CorruptIndex when it is not one."""
    if data is None:
        return Progress()
    obj = _gunzip_json(data, "search batch progress")
    try:
        if obj["phase"] not in PHASES:
            raise ValueError(f"phase {obj['phase']!r}")
        reported = {term: (int(df), form) for term, df, form in (p.split(":") for p in obj["reported"].split())}
        return Progress(phase=obj["phase"], done=int(obj["done"]), bytes_change=int(obj["bytes_change"]),
                        reported=reported)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise CorruptIndex(f"search batch progress is malformed: {err}") from None


def _gzip_json(data: Any) -> bytes:
    return gzip.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
                         compresslevel=GZIP_LEVEL, mtime=0)


def _gunzip_json(data: bytes, what: str) -> Any:
    raw = _gunzip(data, MAX_BATCH_BYTES, what)
    try:
        obj = json.loads(raw)
    except ValueError as err:
        raise CorruptIndex(f"{what} is not JSON: {err}") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CorruptIndex(f"{what} has an unknown format")
    return obj
