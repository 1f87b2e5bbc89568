"""Full-text search over titles, tags and bodies, as one artifact loaded whole. Pure: no I/O.

Legacy: the site and the rebuild use it until they switch to the sharded engine
(`chalicelib.search.engine`), which reads only what a query needs.

The scheduled rebuild turns every listed post into a document (`document`) and saves
the collection as one artifact (`build_artifact`); the site loads it once per
process (`SearchIndex`) and ranks with BM25, titles and tags weighing more than body
text. Scheduled posts are in the artifact with their date and filtered out at query
time, so they become searchable the moment they are published.
"""
from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

ARTIFACT_VERSION = 1
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 12
MAX_TERMS_PER_DOC = 400
TITLE_WEIGHT = 4
TAG_WEIGHT = 3
BM25_K1 = 1.2
BM25_B = 0.75
MIN_PREFIX_CHARS = 3
MAX_PREFIX_EXPANSIONS = 50
PREFIX_WEIGHT = 0.5

STOP_WORDS = frozenset(
    "a an and are as at be but by for from has have he her his i in is it its of on or our "
    "she so that the their them they this to was we were what when which who will with you your".split()
)
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Words of `text`, case- and accent-folded, stop words dropped."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return [w for w in _WORD_RE.findall(folded) if w not in STOP_WORDS and (len(w) > 1 or w.isdigit())]


def document(item: dict[str, Any], body_text: str) -> dict[str, Any]:
    """The searchable form of one post: its weighted term counts and what a result shows."""
    counts: Counter[str] = Counter(tokenize(body_text))
    for term in tokenize(item.get("title", "")):
        counts[term] += TITLE_WEIGHT
    for tag in item.get("tags", []):
        for term in tokenize(tag["name"]):
            counts[term] += TAG_WEIGHT
    terms = dict(counts.most_common(MAX_TERMS_PER_DOC))
    return {
        "slug": item["slug"], "title": item["title"], "date": item["date"],
        "summary": item.get("summary", ""), "tags": item.get("tags", []),
        "source_id": item.get("source_id"), "length": sum(counts.values()), "terms": terms,
    }


def build_artifact(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The search artifact: every document, in a stable order."""
    return {"version": ARTIFACT_VERSION, "docs": sorted(docs, key=lambda d: d["slug"])}


@dataclass(frozen=True)
class Hit:
    """One search result."""

    doc: dict[str, Any]
    score: float


@dataclass(frozen=True)
class Query:
    """A reader's query, trimmed to limits; `terms` is empty when nothing is searchable."""

    text: str
    terms: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> "Query":
        """Normalize a query string (the caller rejects ones over MAX_QUERY_CHARS)."""
        text = " ".join(text.split())[:MAX_QUERY_CHARS]
        return cls(text=text, terms=tuple(dict.fromkeys(tokenize(text)))[:MAX_QUERY_TERMS])


class SearchIndex:
    """An inverted index over an artifact's documents."""

    def __init__(self, artifact: dict[str, Any]) -> None:
        self.docs: list[dict[str, Any]] = artifact.get("docs", [])
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for number, doc in enumerate(self.docs):
            for term, count in doc["terms"].items():
                self._postings[term].append((number, count))
        self._vocabulary = sorted(self._postings)
        total = sum(d["length"] for d in self.docs)
        self._average_length = total / len(self.docs) if self.docs else 1.0

    def search(self, query: Query, now_iso: str, limit: int = 30) -> list[Hit]:
        """The best `limit` public documents for `query`, best first."""
        scores: dict[int, float] = defaultdict(float)
        matched: Counter[int] = Counter()
        for position, term in enumerate(query.terms):
            found: set[int] = set()
            for word in self._expand(term, prefix=position == len(query.terms) - 1):
                weight = 1.0 if word == term else PREFIX_WEIGHT
                for number, value in self._contributions(word):
                    scores[number] += weight * value
                    found.add(number)
            matched.update(found)
        visible = [(n, s) for n, s in scores.items() if self.docs[n]["date"] <= now_iso]
        # Documents that match every term first, then by score, then newest.
        visible.sort(key=lambda ns: (matched[ns[0]], ns[1], self.docs[ns[0]]["date"]), reverse=True)
        return [Hit(self.docs[n], round(s, 4)) for n, s in visible[:limit]]

    def _expand(self, term: str, prefix: bool) -> list[str]:
        """The term itself, and for the last term the words it begins (search as you type)."""
        if not prefix or len(term) < MIN_PREFIX_CHARS:
            return [term]
        start = bisect.bisect_left(self._vocabulary, term)
        words = []
        for word in self._vocabulary[start:start + MAX_PREFIX_EXPANSIONS]:
            if not word.startswith(term):
                break
            words.append(word)
        return words or [term]

    def _contributions(self, word: str) -> list[tuple[int, float]]:
        """BM25 score of `word` in each document containing it."""
        postings = self._postings.get(word, [])
        if not postings:
            return []
        idf = math.log(1 + (len(self.docs) - len(postings) + 0.5) / (len(postings) + 0.5))
        result = []
        for number, count in postings:
            length_ratio = self.docs[number]["length"] / self._average_length
            norm = count * (BM25_K1 + 1) / (count + BM25_K1 * (1 - BM25_B + BM25_B * length_ratio))
            result.append((number, idf * norm))
        return result


MAX_TEXT_CHARS = 32_000  # of a post's plain text kept for snippets and phrase checks


def post_document(record: Any, text: str) -> tuple[dict[str, Any], str]:
    """The searchable form of a post record (chalicelib.model.PostRecord) and its bounded text."""
    card = record.card
    item = {"slug": card.slug, "title": card.title, "date": card.date, "summary": card.summary,
            "tags": [t.to_dict() for t in card.tags], "source_id": card.source.id}
    return document(item, text), text[:MAX_TEXT_CHARS]
