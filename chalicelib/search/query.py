"""A reader's query: parsing, ranked candidates from shards and pending entries, "did you mean". Pure.

Every word must match (AND); "quoted phrases" must appear as written (the caller checks
them in the candidates' text, see snippets.py), and so must words joined without a space
('node.js', '3.5', "don't": JOINERS); a last word that is no word of the blog
matches the words it begins instead (search as you type: 'kang' finds 'kangaroo').
Candidates are ranked by BM25 from the postings' impacts (titles and tags weigh more:
text.TITLE_WEIGHT), ties newest first. Reads go through a `read(numbers) -> {number: bytes}`
callable, at most three times per query.

Quality limits, the price of bounded reads: a word's postings are cut to its best
MAX_POSTINGS_PER_TERM, so the posts that have every word are known for certain only among the
words' best postings. When a word's postings are cut, the posts its best postings miss but the
other words have are candidates too, ranked after the certain ones, and a post among them is a
result only once its text shows the word (engine.py checks the texts it reads anyway): at
100,000 posts three words of a few percent of the posts each found 1 post without this. `total`
is then a lower bound. A phrase is checked in the best MAX_CHECKED candidates only (engine.py),
so a phrase of common words in a big blog may be missed; "did you mean" corrects frequent words
whose first three or four letters are right (or swapped). A post is indexed by its heaviest terms
within text.MAX_DOC_TERMS_BYTES: about 4,000 distinct words of prose, so only a very long post can
lose a word it uses once.
"""
from __future__ import annotations

import functools
import heapq
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from chalicelib.errors import BadRequest
from chalicelib.search import shards as stored
from chalicelib.search import text as analysis
from chalicelib.search.shards import (
    IMPACT_SCALE, PREFIX_MAX_CHARS, PREFIX_MIN_CHARS, Manifest, Overlay, PendingEntry, Shard, ShardView,
    batch_average_length, empty_shard, idf, latest, prefix_key, shard_of, view_shard,
)

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 8  # distinct words that must match; more are ignored
MAX_PHRASES = 4
MAX_PHRASE_WORDS = 10
MIN_PREFIX_CHARS = PREFIX_MIN_CHARS  # 'ka' completes to nothing: too many words begin so
MAX_PREFIX_EXPANSIONS = 6  # words the last word may complete to, most frequent first
PREFIX_WEIGHT = 0.6  # a completion counts this much of the word itself...
MAX_COMPLETION_POSTINGS = 200  # ...and brings its best postings only
MAX_CANDIDATES = 60  # ranked candidates a query hands to the caller
MAX_PENDING = 100  # pending entries a query reads...
MAX_PENDING_BYTES = 1024 * 1024  # ...and their bytes (one DynamoDB Query page); past it, posts show up when merged
MAX_CORRECTED_WORDS = 2
MAX_PENDING_SPELLINGS = 16  # words of the pending posts a misspelt word is compared with, per prefix
SCORE_DIGITS = 6  # scores equal to this many decimals (in impact units) tie, and the newer post wins
QUOTES = "\"“”„‟«»＂"
_QUOTE_TABLE = str.maketrans({q: '"' for q in QUOTES})
# Words joined by one of these, without a space ('node.js', '3.5', "don't", 'e-mail', 'x86_64'), are one
# thing to the reader: they must appear together, as a quoted phrase would (a version is not a 3 and a 5
# anywhere in the post). The apostrophe of a possessive ("docker's") joins nothing: 'docker' reads the same.
JOINERS = ".-_'’‐"
_JOINED_RE = re.compile(rf"(?:{analysis.WORD_RE.pattern})(?:[{re.escape(JOINERS)}](?:{analysis.WORD_RE.pattern}))+")
_POSSESSIVE_RE = re.compile(r"['’]s$", re.IGNORECASE)

Read = Callable[[Collection[int]], Mapping[int, bytes]]


@dataclass(frozen=True)
class Word:
    """One word every result must contain."""

    text: str  # folded, as the reader typed it
    term: str  # its index term
    prefix: bool = False  # the last word: it also matches the words it begins


@dataclass(frozen=True)
class ParsedQuery:
    """A query trimmed to its limits; false when it has nothing to search for."""

    text: str  # whitespace collapsed, as shown back to the reader
    words: tuple[Word, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # each a run of stems (stop words included) to find in the text

    def __bool__(self) -> bool:
        return bool(self.words)


def parse_query(text: str) -> ParsedQuery:
    """Words, phrases and the last word's prefix of a query; BadRequest over MAX_QUERY_CHARS."""
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"Search for at most {MAX_QUERY_CHARS} characters.")
    shown = " ".join(text.split())
    parts = shown.translate(_QUOTE_TABLE).split('"')
    closed = len(parts) % 2 == 1  # an unclosed quote's words count as plain words
    found: dict[str, Word] = {}
    phrases: list[tuple[str, ...]] = []
    typing = bool(text) and not text[-1].isspace() and not text.translate(_QUOTE_TABLE).endswith('"')
    for number, part in enumerate(parts):
        quoted = number % 2 == 1 and (closed or number < len(parts) - 1)
        folded = analysis.words(part)
        if quoted and len(folded) > 1 and len(phrases) < MAX_PHRASES:
            phrases.append(tuple(analysis.stem(w) for w in folded[:MAX_PHRASE_WORDS]))
        for joined in _JOINED_RE.findall(part) if not quoted else ():
            stems = tuple(analysis.stem(w) for w in analysis.words(_POSSESSIVE_RE.sub("", joined))[:MAX_PHRASE_WORDS])
            if len(stems) > 1 and len(phrases) < MAX_PHRASES and stems not in phrases:
                phrases.append(stems)
        last_part = number == len(parts) - 1
        for position, word in enumerate(folded):
            term = analysis.term(word)
            if term is None:
                continue
            prefix = (not quoted and last_part and typing and position == len(folded) - 1
                      and len(word) >= MIN_PREFIX_CHARS)
            found.pop(term, None)  # a repeated word counts once, where it was last typed
            found[term] = Word(text=word, term=term, prefix=prefix)
    words = tuple(found.values())[-MAX_QUERY_WORDS:]  # past the bound, the words typed last count
    return ParsedQuery(text=shown, words=words, phrases=tuple(phrases))


# -- reading shards -------------------------------------------------------------------------

class ShardReader:
    """The shards a query has read so far, decoded; each `load` is one call of `read`."""

    def __init__(self, manifest: Manifest, read: Read) -> None:
        self._count = manifest.shards
        self._read = read
        self._shards: dict[int, Shard | ShardView] = {}
        self.calls = 0
        self.bytes_read = 0

    def load(self, keys: Iterable[str]) -> None:
        """Read and decode the shards holding `keys` that are not read yet (one call, or none)."""
        wanted = {shard_of(key, self._count) for key in keys} - set(self._shards)
        if not wanted:
            return
        self.calls += 1
        stored = self._read(sorted(wanted))
        for number in wanted:
            data = stored.get(number)
            self.bytes_read += len(data or b"")
            self._shards[number] = view_shard(data, number) if data else empty_shard(number, self._count)

    @property
    def shards_read(self) -> int:
        """How many shards were read."""
        return len(self._shards)

    def shard(self, key: str) -> Shard | ShardView:
        """The (loaded) shard holding `key`."""
        return self._shards[shard_of(key, self._count)]

    def completions(self, text: str) -> list[tuple[str, int, str]]:
        """(term, df, form) of the terms `text` begins, from its loaded prefix entry, most frequent first."""
        shard = self.shard(prefix_key(text[:PREFIX_MAX_CHARS]))
        return [(c.term, c.df, c.form) for c in shard.completions(text[:PREFIX_MAX_CHARS])
                if c.term.startswith(text)]


# -- candidates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A document that contains every word (or may: see `unverified`), with its score."""

    doc: str  # the post's document id (shards.doc_id): the caller finds its slug
    score: float  # with unverified words: the most it can be (their best impact it was not among)
    day: int
    unverified: tuple[int, ...] = ()  # words whose cut postings do not list it: its text must show them


@dataclass(frozen=True)
class Candidates:
    """A query's best documents from the index, before the caller checks them against the posts."""

    ranked: tuple[Candidate, ...] = ()  # best first, at most MAX_CANDIDATES with `more()`
    total: int = 0  # documents matching every word (a lower bound when `partial`)
    partial: bool = False  # several words, one's postings cut: `total` counts only those every word lists
    terms: tuple[frozenset[str], ...] = ()  # per word, the terms that matched it (to highlight)
    missing: tuple[Word, ...] = ()  # words nothing matched
    shards_read: int = 0
    bytes_read: int = 0
    # The candidates after `ranked` that some cut word's best postings miss (`_uncertain`), worked out when
    # first asked for: a page that `ranked` fills never needs them (at 100,000 posts, two common words'
    # 23 certain posts fill it, and the 977 others of the rarer word's best cost 0.9 ms to rank).
    more: Callable[[], tuple[Candidate, ...]] = field(default=tuple, repr=False, compare=False)
    reader: ShardReader | None = field(default=None, repr=False, compare=False)
    overlay: Overlay | None = field(default=None, repr=False, compare=False)


def find(query: ParsedQuery, manifest: Manifest, read: Read, pending: Iterable[PendingEntry]) -> Candidates:
    """The documents matching every word of `query`, best first, from the shards and pending entries."""
    if not query:
        return Candidates()
    entries = latest(_bounded(pending))
    overlay = Overlay(entries, batch_average_length(manifest, entries))  # as their merge will score them
    reader = ShardReader(manifest, read)
    prefixed = [w for w in query.words if w.prefix]
    reader.load([w.term for w in query.words] + [prefix_key(w.text[:PREFIX_MAX_CHARS]) for w in prefixed])
    alternatives = [_alternatives(w, reader, overlay) for w in query.words]
    reader.load(term for alts in alternatives for term in alts)
    docs = manifest.docs + overlay.docs_change()
    # One word needs no intersection: its best MAX_CANDIDATES postings per term (stored best first)
    # hold its best documents, whatever the postings' length; the posts pending hide theirs.
    limit = MAX_CANDIDATES + len(overlay.hidden) if len(query.words) == 1 else -1
    per_word, sizes, wanted, first = _matching(alternatives, reader, overlay, docs, limit)
    missing = tuple(w for w, size in zip(query.words, sizes) if not size)
    scores: dict[str, float] = {}
    days: dict[str, int] = {}
    if not missing:  # only the ids every word has are scored, the words' scores summed smallest first
        order = sorted(range(len(per_word)), key=sizes.__getitem__)
        scores, days = _scores(wanted, [per_word[n] for n in order])
    ranked = [Candidate(s, round(scores[s] / IMPACT_SCALE, 4), days[s]) for s in _best(scores, days)]
    partial = limit < 0 and not missing and any(found.cut for postings in per_word for found in postings)
    more: Callable[[], tuple[Candidate, ...]] = tuple
    if partial and len(ranked) < MAX_CANDIDATES:
        more = functools.cache(lambda: tuple(_uncertain(per_word, wanted, MAX_CANDIDATES - len(ranked), first)))
    total = len(scores)
    if limit >= 0 and not missing:  # postings read in part: the words' document frequencies count the rest
        total = max(total, *(reader.shard(t).df(t) + overlay.df_change(t) for t in alternatives[0]))
    return Candidates(ranked=tuple(ranked), more=more, total=total, partial=partial,
                      terms=tuple(frozenset(found.term for found in postings) for postings in per_word),
                      missing=missing, shards_read=reader.shards_read, bytes_read=reader.bytes_read, reader=reader,
                      overlay=overlay)


def _best(scores: Mapping[str, float], days: Mapping[str, int], count: int = MAX_CANDIDATES) -> list[str]:
    """The `count` best-scored document ids, ties newest first."""
    pool: Iterable[str] = scores
    if len(scores) > count:  # the best scores (at C speed), and whatever ties with the last of them
        cut = heapq.nlargest(count, scores.values())[-1] - 10 ** -SCORE_DIGITS
        pool = [doc for doc, score in scores.items() if score >= cut]
    return sorted(pool, key=lambda s: (-round(scores[s], SCORE_DIGITS), -days[s], s))[:count]


def _uncertain(per_word: list[list[_TermPostings]], certain: set[str], count: int, rarest: int) -> list[Candidate]:
    """Up to `count` posts that may have every word, best possible score first: those every uncut word
    lists (or, every word cut, the `rarest` word lists) that some cut word's best postings miss.

    A cut word's missing impact is at most the last (smallest) of its best postings: the score used
    to rank them is the most each can have. Their unverified words are for the caller to find in the text.
    """
    whole = [n for n, postings in enumerate(per_word) if not any(found.cut for found in postings)]
    bases = whole or [rarest]
    pool = set.intersection(*(set(itertools.chain.from_iterable(found.ids for found in per_word[n]))
                              for n in bases)) - certain
    if not pool:
        return []
    # Every post starts at the most it can have (each word's ceiling); a word that lists it swaps its
    # ceiling for its score. Only the listed are visited: most of the pool is missed by most words.
    ceilings = [max((f.weighted * f.floor for f in postings), default=0.0) for postings in per_word]
    scores: dict[str, float] = dict.fromkeys(pool, sum(ceilings))
    days: dict[str, int] = {}
    listed: list[dict[str, float]] = []
    for number, (ceiling, postings) in enumerate(zip(ceilings, per_word)):
        # A base word lists the whole pool: its postings alone give every day.
        found_scores, found_days = _scores(pool, [postings], with_days=number == bases[0])
        days.update(found_days)
        for doc, score in found_scores.items():
            scores[doc] += score - ceiling
        listed.append(found_scores)
    return [Candidate(s, round(scores[s] / IMPACT_SCALE, 4), days[s],
                      tuple(n for n, found in enumerate(listed) if s not in found))
            for s in _best(scores, days, count)]


class _TermPostings(NamedTuple):
    """One term's postings for a word, impacts and days as stored (see `Shard.columns`)."""

    term: str
    weighted: float  # the word's weight for the term x its idf
    ids: list[str]
    impacts: str
    days: str
    cut: bool = False  # more documents have the term than these postings (its best) list
    floor: int = 0  # the smallest impact listed: the most an unlisted document's can be
    df: int = 0  # documents that have the term
    listed: int = 0  # postings read, before they were kept `within` the bounding word's ids
    at: list[int] | None = None  # where each of `ids` is in the columns (None: their first items, in order)

    def where(self, positions: list[int]) -> list[int]:
        """Where the postings at these positions of `ids` are in the columns."""
        return positions if self.at is None else [self.at[p] for p in positions]


def _word_postings(alts: dict[str, float], reader: ShardReader, overlay: Overlay, docs: int,
                   limit: int = -1, within: set[str] | None = None) -> tuple[list[_TermPostings], set[str]]:
    """The postings of each of a word's alternatives that has any, from each term's best `limit` (-1: all),
    the pending posts' own in place of the shards' for them, only those of ids `within` (None: all); and
    the ids they hold. The impacts and days columns stay as read, the pending posts' appended: the
    postings dropped are dropped from `ids` only (`at` says where the others are), and the scores split
    a column once, for the few postings they need."""
    found = []
    members: set[str] = set()
    for term, weight in alts.items():
        shard = reader.shard(term)
        read = _read_limit(weight, limit)
        ids, impacts, term_days = shard.columns(term, -1 if read >= stored.MAX_POSTINGS_PER_TERM else read)
        stored_df = shard.df(term)
        cut = bool(ids) and len(ids) < stored_df
        floor = int(impacts.rsplit(" ", 1)[-1]) if cut else 0
        in_columns = len(ids)
        at: list[int] | None = None
        if overlay.hidden and not overlay.hidden.isdisjoint(ids):
            at = [i for i, doc in enumerate(ids) if doc not in overlay.hidden]
            ids = [ids[i] for i in at]
        pending = overlay.postings(term)
        if pending:
            at = None if at is None else at + list(range(in_columns, in_columns + len(pending)))
            ids = ids + [p.doc for p in pending]
            impacts = " ".join(filter(None, [impacts, *(str(p.impact) for p in pending)]))
            term_days = " ".join(filter(None, [term_days, *(str(p.day) for p in pending)]))
        listed = len(ids)
        if within is not None and ids:
            positions, ids = _positions(ids, within)
            at = positions if at is None else [at[p] for p in positions]
        if listed:
            members.update(ids)
            df = max(stored_df + overlay.df_change(term), listed)
            found.append(_TermPostings(term, weight * idf(df, docs), ids, impacts, term_days, cut, floor, df,
                                       listed, at))
    return found, members


def _matching(alternatives: list[dict[str, float]], reader: ShardReader, overlay: Overlay, docs: int,
              limit: int) -> tuple[list[list[_TermPostings]], list[int], set[str], int]:
    """Per word its postings and how many it lists; the ids every word has (set intersections: C speed);
    and the word `_uncertain` draws from when every word is cut (`_bounding`).

    The bounding word is read first. When every candidate must be among its ids (it is whole, or every
    word is cut), the other words keep only their postings of those ids: a common word's thousand postings
    are split and dropped, never held as a set or scored (three words, one rare, at 10,000 posts: 1.81 to 1.72 ms
    and 621 to 530 KiB).
    """
    first, bounds = _bounding(alternatives, reader, overlay)
    per_word: list[list[_TermPostings]] = [[] for _ in alternatives]
    sizes = [0] * len(alternatives)
    per_word[first], wanted = _word_postings(alternatives[first], reader, overlay, docs, limit)
    sizes[first] = len(wanted)
    cut = any(found.cut for found in per_word[first])
    within = wanted if not cut or bounds else None
    for number, alts in enumerate(alternatives):
        if number != first:
            per_word[number], members = _word_postings(alts, reader, overlay, docs, limit, within)
            sizes[number] = len(members) if within is None else sum(found.listed for found in per_word[number])
            wanted = wanted & members  # (a new set: `within` stays the bounding word's)
    return per_word, sizes, wanted, first


def _bounding(alternatives: list[dict[str, float]], reader: ShardReader, overlay: Overlay) -> tuple[int, bool]:
    """The word with the fewest documents (by its terms' frequencies; the first of equals), and whether every
    word's postings are cut (then every candidate is among that word's, `_uncertain`'s pool included)."""
    def frequency(alts: dict[str, float]) -> int:
        return max(reader.shard(t).df(t) + overlay.df_change(t) for t in alts)

    def cut(alts: dict[str, float]) -> bool:
        return any(reader.shard(t).df(t) > _read_limit(weight, -1) for t, weight in alts.items())

    first = min(range(len(alternatives)), key=lambda n: frequency(alternatives[n]))
    return first, all(cut(alts) for alts in alternatives)


def _read_limit(weight: float, limit: int) -> int:
    """How many of a term's best postings a query reads: `limit` (-1: all), and a completion at most
    MAX_COMPLETION_POSTINGS; at most MAX_POSTINGS_PER_TERM are stored."""
    limits = [n for n in (limit, MAX_COMPLETION_POSTINGS if weight != 1.0 else -1, stored.MAX_POSTINGS_PER_TERM)
              if n >= 0]
    return min(limits)


def _scores(wanted: set[str], words: list[list[_TermPostings]],
            with_days: bool = True) -> tuple[dict[str, float], dict[str, int]]:
    """(doc id -> score, doc id -> day) of the `wanted` ids: per word its best alternative's score, the words'
    scores summed in their order, the day from the first word's postings (its last alternative's; no days
    unless `with_days`).

    Only the postings of wanted ids are converted and scored (with several words, a few of each word's
    thousand), one column split at a time.
    """
    scores: dict[str, float] = {}
    days: dict[str, int] = {}
    for number, postings in enumerate(words):
        best: dict[str, float] = {}
        for found in postings:
            positions, ids = _positions(found.ids, wanted)
            in_columns = found.where(positions)
            for doc, value in zip(ids, _picked(found.impacts, in_columns)):
                score = found.weighted * int(value)
                if score > best.get(doc, 0.0):
                    best[doc] = score
            if with_days and not number:
                days.update(zip(ids, map(int, _picked(found.days, in_columns))))
        scores = best if not number else {doc: score + best[doc] for doc, score in scores.items()}
    return scores, days


def _positions(ids: list[str], wanted: set[str]) -> tuple[list[int], list[str]]:
    """Where the `wanted` ids are among `ids`, and which they are (found at C speed)."""
    positions = list(itertools.compress(range(len(ids)), map(wanted.__contains__, ids)))
    return positions, [ids[at] for at in positions]


def _picked(column: str, positions: list[int]) -> list[str]:
    """The items of a column at `positions`."""
    items = column.split(" ")
    return [items[at] for at in positions]


def _bounded(pending: Iterable[PendingEntry]) -> list[PendingEntry]:
    """The pending entries a query reads: at most MAX_PENDING, at most MAX_PENDING_BYTES."""
    kept: list[PendingEntry] = []
    size = 0
    for entry in pending:
        size += len(entry.terms) + len(entry.forms) + len(entry.indexed)
        if len(kept) >= MAX_PENDING or size > MAX_PENDING_BYTES:
            break
        kept.append(entry)
    return kept


def _alternatives(word: Word, reader: ShardReader, overlay: Overlay) -> dict[str, float]:
    """The terms that satisfy `word`, with their weights: itself, and for a last word that is no word
    of the blog (yet: it is being typed), the words it begins."""
    alts = {word.term: 1.0}
    if not word.prefix or reader.shard(word.term).df(word.term):
        return alts
    pending = overlay.completions(word.text, MAX_PREFIX_EXPANSIONS)  # first: its pass finds the word's own postings
    if overlay.postings(word.term):
        return alts
    for term in [*(term for term, _, _ in reader.completions(word.text)), *pending]:
        if len(alts) > MAX_PREFIX_EXPANSIONS:
            break
        alts.setdefault(term, PREFIX_WEIGHT)
    return alts


# -- did you mean -------------------------------------------------------------------------

def suggest(query: ParsedQuery, candidates: Candidates) -> str | None:
    """The query with its unknown words replaced by the nearest known ones, or None.

    Candidates come from the completions of the word's first three and four letters (and of
    its first letters with one pair swapped), and from the words of the posts not merged yet:
    a typo in the first letters is not corrected, and only frequent words are offered. One more
    call of `read`, at most.
    """
    reader, overlay = candidates.reader, candidates.overlay
    if candidates.total or not candidates.missing or reader is None:
        return None
    wrong = [w for w in candidates.missing if len(w.text) >= MIN_PREFIX_CHARS + 1][:MAX_CORRECTED_WORDS]
    probes = {w: _probes(w.text) for w in wrong}
    reader.load(prefix_key(p) for found in probes.values() for p in found)
    fixes: dict[str, str] = {}
    for word, prefixes in probes.items():
        best: tuple[int, int, str] | None = None
        limit = 1 if len(word.text) <= 4 else 2
        seen: set[str] = set()  # pending words compared already
        compared: set[tuple[str, int, str]] = set()  # a word completes several probes (its first 3 and 4 letters)
        for prefix in prefixes:
            close = []
            for pending in overlay.completions(prefix, MAX_PENDING_SPELLINGS) if overlay else []:
                if overlay and pending not in seen and edit_distance(word.term, pending, limit) <= limit:
                    close.append(overlay.spelled(pending))
                seen.add(pending)
            for term, df, form in [*reader.completions(prefix), *close]:
                if (term, df, form) in compared:
                    continue
                compared.add((term, df, form))
                distance = edit_distance(word.text, form, limit)
                if (word.term, term) != (word.text, form):  # (mostly they are the same two words)
                    distance = min(distance, edit_distance(word.term, term, limit))
                if distance <= limit and (best is None or (distance, -df) < best[:2]):
                    best = (distance, -df, _in_number_typed(word.text, term, form))
        if best:
            fixes[word.text] = best[2]
    if not fixes:
        return None
    pieces, last = [], 0
    for start, end, folded in analysis.spans(query.text):
        if folded in fixes:
            pieces += [query.text[last:start], fixes[folded]]
            last = end
    return "".join(pieces) + query.text[last:]


def _in_number_typed(typed: str, term: str, form: str) -> str:
    """A correction as singular or plural as the reader's word. A completion keeps the form its first
    posts wrote (a merge reporting the term itself cannot tell it from no news), so a plural may stand
    for its term; a form that is the term and an 's' has the term itself for its singular."""
    return term if form == term + "s" and not typed.endswith("s") else form


def _probes(word: str) -> list[str]:
    """Prefixes to look for a misspelt word's correction under."""
    found = [word[:PREFIX_MIN_CHARS], word[:PREFIX_MIN_CHARS + 1]]
    for i in range(PREFIX_MIN_CHARS):  # 'pyhton' -> 'python': a swap near the start
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        found.append(swapped[:PREFIX_MIN_CHARS + 1])
    return list(dict.fromkeys(p for p in found if len(p) >= PREFIX_MIN_CHARS))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`; limit + 1 when over `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return min(row[-1], limit + 1)
