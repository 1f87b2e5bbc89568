"""Checking a candidate's text for the query's phrases, and the excerpt a result shows. Pure.

The excerpt is the window of the text with the most of the query in it (a phrase first,
then the most distinct words), cut at words, the matches wrapped in <mark>, every other
character HTML-escaped: it is safe to put in a page as is. Only the words that may match
are looked at (found with str.find in the folded text), so a long post costs little; a
phrase is looked for by its longest word that is no stop word (`"a kangaroo"` by "kangaroo").
The text is read only until a window has every word and phrase, and a window's length after
it: the best candidates for common words are the posts that use them most, and reading each
of their thousand mentions made a big blog's excerpts cost more than a small one's.
"""
from __future__ import annotations

import heapq
import html
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from markupsafe import Markup

from chalicelib.search import text as analysis
from chalicelib.search.query import ParsedQuery

SNIPPET_CHARS = 240  # of text shown, about two lines
SNIPPET_LEAD_CHARS = 60  # of context shown before the first match
MAX_SCAN_CHARS = 100_000  # of a post's text read for phrases and excerpts (about 16,000 words)
MAX_MARKS = 2_000  # words looked at (that may match) per text
# Looked back per word, from a phrase's anchor to its first word: a longer word before the anchor (a
# 60-letter 'word') is not found, and neither is the phrase.
BACK_CHARS_PER_WORD = 64
ELLIPSIS = "…"
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Excerpt:
    """What a candidate's text says about it: whether it has the query's phrases, and its excerpt
    (cut when first asked for: a candidate without the phrases is dropped, and never needs it)."""

    has_phrases: bool
    text: str = field(repr=False)
    marks: list["_Mark"] = field(repr=False)
    heading_words: frozenset[int] = frozenset()  # query words the headings (title, tags) have

    def has_words(self, numbers: Sequence[int]) -> bool:
        """Does the text or a heading have each of these query words (by index)?"""
        wanted = set(numbers) - self.heading_words
        for mark in self.marks:
            wanted -= mark.words
            if not wanted:
                break
        return not wanted

    @cached_property
    def html(self) -> Markup:
        """The excerpt: the best window of the text, escaped, the matches in <mark>."""
        return _render(self.text, self.marks)


@dataclass(frozen=True)
class _Mark:
    start: int
    end: int
    words: frozenset[int]  # indexes of the query words it matches (-1 - n for phrase n)
    phrase: bool


def excerpt(text: str, query: ParsedQuery, terms: Sequence[frozenset[str]], headings: Sequence[str] = (),
            required: Sequence[int] = ()) -> Excerpt:
    """Check `text` (and `headings`: title, tags) for `query`'s phrases and cut the text's best excerpt;
    `terms[i]` are the terms that matched word i. A `required` word (by index) that neither the headings
    nor any word of the text can be (no word begins as its terms do) gives no marks at all, so that
    `has_words` says no without the text's other mentions being read."""
    source = _Text(text[:MAX_SCAN_CHARS])
    word_of = {term: i for i, found in enumerate(terms) for term in found}
    for i, word in enumerate(query.words):
        word_of.setdefault(word.term, i)
    anchors = [_anchor(phrase) for phrase in query.phrases]
    found: set[int] = set()
    in_headings: set[int] = set()
    for heading in headings:
        found |= _phrases_in(_Text(heading[:MAX_SCAN_CHARS]), query.phrases)
        in_headings.update(word_of[t] for t in analysis.terms(heading[:MAX_SCAN_CHARS]) if t in word_of)
    if any(not source.may_have({_surface_start(t) for t, n in word_of.items() if n == i})
           for i in set(required) - in_headings):
        return Excerpt(len(found) == len(query.phrases), text, [], frozenset(in_headings))
    openings = _shortest({_surface_start(t) for t in word_of} | {_surface_start(p[k]) for p, k in zip(query.phrases, anchors)})
    marks: list[_Mark] = []
    missing = set(range(len(query.words))) - in_headings  # words neither a heading nor a mark has yet
    read_until = len(source.text)  # moved up once a window may have the whole query (`whole`)
    whole = False
    after_phrase = 0
    for start, end, folded in source.words_beginning(openings):
        if start > read_until:
            break  # every word and phrase is in a window already, and the windows after it are read
        if start < after_phrase:
            continue  # inside a phrase already marked
        stem = analysis.stem(folded)
        for n, (phrase, anchor) in enumerate(zip(query.phrases, anchors)):
            begins = source.word_back(start, anchor) if stem == phrase[anchor] else -1
            phrase_end = begins >= after_phrase and source.phrase_end(begins, phrase)
            if phrase_end:
                while marks and marks[-1].start >= begins:
                    marks.pop()  # a word of the phrase, marked on its own before its anchor was met
                words = frozenset({-1 - n} | {word_of[s] for s in phrase if s in word_of})
                marks.append(_Mark(begins, phrase_end, words, True))
                found.add(n)
                after_phrase = phrase_end
                break
        else:
            if stem in word_of:
                marks.append(_Mark(start, end, frozenset({word_of[stem]}), False))
        if marks and not whole:
            missing -= marks[-1].words
            whole = not missing and len(found) == len(query.phrases)
            read_until = start + SNIPPET_CHARS if whole else read_until
    return Excerpt(len(found) == len(query.phrases), text, marks, frozenset(in_headings))


def _phrases_in(source: "_Text", phrases: Sequence[tuple[str, ...]]) -> set[int]:
    """The indexes of the phrases found in `source`."""
    return {n for n, phrase in enumerate(phrases)
            if any(analysis.stem(w) == phrase[0] and source.phrase_end(start, phrase)
                   for start, _, w in source.words_from(0))}


def _anchor(phrase: tuple[str, ...]) -> int:
    """The word a phrase is looked for by: its longest word that is no stop word (the first of those), not
    a leading 'a' or 'the', which would have every word beginning with those letters looked at."""
    return max(range(len(phrase)),
               key=lambda i: (phrase[i] not in analysis.STOP_WORDS, len(_surface_start(phrase[i])), -i))


def _shortest(openings: set[str]) -> tuple[str, ...]:
    """The openings no other one begins: a word that begins with 'kangaroo' begins with 'kang' too (a prefix's
    completions would each have the text searched once more for the same words)."""
    return tuple(sorted(o for o in openings if not any(o != other and o.startswith(other) for other in openings)))


def _surface_start(term: str) -> str:
    """What every word stemming to `term` begins with (a stem changes only its last letter: 'stori' <- 'story')."""
    return term[:-1] if term.endswith("i") and len(term) > 1 else term


class _Text:
    """A text's words, found through its folded form when folding keeps offsets, else word by word."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = analysis.fold_in_place(text)

    def words_from(self, position: int) -> Iterator[tuple[int, int, str]]:
        """(start, end, folded word) of the words from `position` on."""
        if self.folded is not None:
            for match in analysis.WORD_RE.finditer(self.folded, position):
                yield match.start(), match.end(), match.group()
        else:
            for match in analysis.WORD_RE.finditer(self.text, position):
                yield match.start(), match.end(), analysis.fold(match.group())

    def words_beginning(self, openings: tuple[str, ...]) -> Iterator[tuple[int, int, str]]:
        """The words that begin with one of `openings`, in order (at most MAX_MARKS), found as they are
        asked for: a reader that stops early leaves the rest of the text unread."""
        if self.folded is None:
            yield from itertools.islice((w for w in self.words_from(0) if w[2].startswith(openings)), MAX_MARKS)
            return
        folded = self.folded
        starts = heapq.merge(*(_word_starts(folded, opening) for opening in dict.fromkeys(openings)))
        for at, _ in itertools.islice(itertools.groupby(starts), MAX_MARKS):  # (two openings, one word)
            word = analysis.WORD_RE.match(folded, at)
            yield (at, word.end(), word.group()) if word else (at, at, "")


    def may_have(self, openings: set[str]) -> bool:
        """Could a word of the text begin with one of `openings`? (Always, when folding moved offsets.)"""
        if self.folded is None:
            return True
        return any(next(_word_starts(self.folded, opening), None) is not None for opening in openings)

    def word_back(self, position: int, count: int) -> int:
        """Where the word `count` words before the one at `position` begins (-1: there are fewer)."""
        if not count:
            return position
        text = self.folded if self.folded is not None else self.text
        window = max(0, position - BACK_CHARS_PER_WORD * count)
        starts = [match.start() for match in analysis.WORD_RE.finditer(text, window, position)]
        if window and starts:
            starts = starts[1:]  # (the window may begin inside a word)
        return starts[-count] if len(starts) >= count else -1

    def phrase_end(self, start: int, phrase: tuple[str, ...]) -> int:
        """Where `phrase` ends if it begins at `start` (0 if it does not)."""
        end = 0
        words = self.words_from(start)
        for expected in phrase:
            found = next(words, None)
            if found is None or analysis.stem(found[2]) != expected:
                return 0
            end = found[1]
        return end


def _word_starts(folded: str, opening: str) -> Iterator[int]:
    """Where the words beginning with `opening` begin in a folded text (str.find runs at C speed; Python
    only sees the occurrences)."""
    at = folded.find(opening)
    while at >= 0:
        if at == 0 or not folded[at - 1].isalnum():
            yield at
        at = folded.find(opening, at + 1)


def _render(text: str, marks: list[_Mark]) -> Markup:
    """The best window of `text` around `marks`, escaped, the marks in <mark>."""
    if not marks:
        start, end = 0, _cut_end(text, 0)
    else:
        first, last = _best_window(marks)
        start = _cut_start(text, max(0, marks[first].start - SNIPPET_LEAD_CHARS), marks[first].start)
        end = max(_cut_end(text, start), marks[first].end)
        marks = [m for m in marks[first:last + 1] if m.end <= end]
    pieces = [ELLIPSIS] if start > 0 else []
    at = start
    for mark in marks:
        pieces += [_escape(text[at:mark.start]), f"<mark>{_escape(text[mark.start:mark.end])}</mark>"]
        at = mark.end
    pieces.append(_escape(text[at:end]))
    if end < len(text):
        pieces.append(ELLIPSIS)
    return Markup("".join(pieces).strip())


def _best_window(marks: list[_Mark]) -> tuple[int, int]:
    """(first, last) indexes of the marks in the window with the most of the query (earliest wins a tie)."""
    best, best_span = (-1, -1, -1), (0, 0)
    inside: dict[int, int] = {}  # query words in the window -> their marks there, sliding
    phrases, last = 0, -1
    for first, mark in enumerate(marks):
        while last + 1 < len(marks) and marks[last + 1].end - mark.start <= SNIPPET_CHARS - SNIPPET_LEAD_CHARS:
            last += 1
            _count(inside, marks[last].words, 1)
            phrases += marks[last].phrase
        if last < first:  # one mark longer than the window: a window of its own
            last = first
            _count(inside, mark.words, 1)
            phrases += mark.phrase
        score = (phrases, len(inside), last - first + 1)
        if score > best:
            best, best_span = score, (first, last)
        _count(inside, mark.words, -1)
        phrases -= mark.phrase
    return best_span


def _count(inside: dict[int, int], words: frozenset[int], change: int) -> None:
    for word in words:
        inside[word] = inside.get(word, 0) + change
        if not inside[word]:
            del inside[word]


def _cut_start(text: str, start: int, limit: int) -> int:
    """`start` moved forward to the beginning of a word (not past `limit`)."""
    if start == 0:
        return 0
    space = _SPACES.search(text, start, limit)
    return space.end() if space else limit


def _cut_end(text: str, start: int) -> int:
    """Where an excerpt beginning at `start` ends: SNIPPET_CHARS on, at the end of a word."""
    end = start + SNIPPET_CHARS
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", start, end)
    return space if space > start else end


def _escape(piece: str) -> str:
    return html.escape(_SPACES.sub(" ", piece), quote=True)
