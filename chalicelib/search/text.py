"""Words for search: folding, stop words, plural stemming, and a post's weighted terms. Pure.

A *word* is a run of letters and digits, case- and accent-folded ('Café' -> 'cafe').
A *term* is what the index stores for a word: stop words dropped, English plurals
reduced to one stem ('posts' -> 'post', 'stories' -> 'stori', 'boxes' -> 'box'),
so that a query matches every number of a noun. Stems are not always words; the
`Document.forms` map keeps a word readers type for each stem that is not one.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

# Bounds of one post's search document (they bound a pending entry's size: see shards.py).
# Its terms and forms as a pending entry stores them ('term:count ', 'term:form '), heaviest first: about
# 4,000 distinct words of real prose (a 10,000-word post keeps its words used once), and three times this
# still fits a search record's DynamoDB item beside its text (tests/test_limits.py).
MAX_DOC_TERMS_BYTES = 64 * 1024
MAX_TERM_BYTES = 48  # longer "words" are hashes, URLs, base64: nobody searches for them
MAX_TEXT_CHARS = 300_000  # of a post's plain text; a 1 MB source has less text than that
TITLE_WEIGHT = 6  # a word in the title counts as this many in the body
TAG_WEIGHT = 4
MIN_STEM_CHARS = 4  # shorter words keep their 's' ('gas', 'bus', 'aws', 'its')
CACHED_WORDS = 1 << 16

STOP_WORDS = frozenset(
    "a an and are as at be but by for from has have he her his i in is it its of on or our "
    "she so that the their them they this to was we were what when which who will with you your".split()
)
# Words whose final 's' is no plural (the list keeps them from meeting another word: 'news' is not 'new').
NOT_PLURAL = frozenset("news lens alias atlas bias canvas always perhaps series species whereas".split())
_VOWELS = frozenset("aeiou")
# Letters and digits, with the combining accents a decomposed source may carry; '_' splits.
WORD_RE = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")
_EPOCH = dt.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=CACHED_WORDS)
def fold(word: str) -> str:
    """`word` in lower case without accents: 'Éclair' -> 'eclair', 'Straße' -> 'strasse'."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of `text`, in order, stop words included."""
    if text.isascii():
        return WORD_RE.findall(text.lower())
    return [fold(w) for w in WORD_RE.findall(text)]


def fold_in_place(text: str) -> str | None:
    """`text` folded character for character (same length, so offsets still point into `text`),
    or None when folding changes its length ('ß' -> 'ss', decomposed accents, ligatures)."""
    if text.isascii():
        return text.lower()
    folded_text = text
    for char in set(text):
        if not char.isascii():
            folded = fold(char)
            if len(folded) != 1:
                return None
            if folded != char:  # one pass at C speed per accented letter (str.translate looks up every character)
                folded_text = folded_text.replace(char, folded)
    folded_text = folded_text.lower()
    return folded_text if len(folded_text) == len(text) else None


def spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, folded word) of each word of `text`, for highlighting in the original."""
    for match in WORD_RE.finditer(text):
        yield match.start(), match.end(), fold(match.group())


@lru_cache(maxsize=CACHED_WORDS)
def stem(word: str) -> str:
    """The stem of a folded word: its English plural reduced, a silent final 'e' and 'y' unified.

    'boxes' and 'box' -> 'box'; 'stories' and 'story' -> 'stori'; 'caches' and 'cache' -> 'cach';
    'movies' and 'movie' -> 'movi'. Words with digits or non-Latin letters are left alone,
    and so is every ending that is not a plural ('status', 'class', 'news').
    """
    if len(word) < 3 or not (word.isascii() and word.isalpha()):
        return word
    return _unify_ending(_singular(word))


def _singular(word: str) -> str:
    if len(word) < MIN_STEM_CHARS or not word.endswith("s") or word.endswith(("ss", "us")) or word in NOT_PLURAL:
        return word
    if word.endswith("sses"):  # classes -> class
        return word[:-2]
    if word.endswith("ies"):  # stories -> stori(y); but ties -> tie
        return word[:-1] if len(word) <= 4 else word[:-2]
    if word.endswith(("ches", "shes", "xes", "zzes")) or word.endswith("uses") and len(word) > 4:
        return word[:-2]  # boxes -> box, churches -> church, statuses -> status
    return word[:-1]  # posts -> post, horses -> horse, heroes -> heroe (-> hero below)


def _unify_ending(word: str) -> str:
    """'y' -> 'i' after a vowel-bearing stem, and a final 'e' dropped unless it makes a syllable.

    These make a singular and its plural meet: 'story'/'stori(es)', 'cache'/'cach(es)',
    'hero(es)'/'hero'. The 'e' stays after consonant-vowel-consonant ('note' is not 'not',
    'rose' is not 'ros', 'code' is not 'cod').
    """
    if word.endswith("y") and len(word) > 2 and any(c in _VOWELS for c in word[:-1]):
        return word[:-1] + "i"
    if word.endswith("e") and len(word) >= MIN_STEM_CHARS + 1 and not _ends_cvc(word[:-1]):
        return word[:-1]
    return word


def _ends_cvc(word: str) -> bool:
    a, b, c = word[-3], word[-2], word[-1]
    return a not in _VOWELS and b in _VOWELS and c not in _VOWELS and c not in "wxy"


@lru_cache(maxsize=CACHED_WORDS)
def term(word: str) -> str | None:
    """The index term of a folded word, or None for a stop word, a lone letter or an absurd length."""
    if word in STOP_WORDS or (len(word) < 2 and not word.isdigit()) or len(word.encode()) > MAX_TERM_BYTES:
        return None
    return stem(word)


def terms(text: str) -> list[str]:
    """The index terms of `text`, in order (repeats kept)."""
    return [t for t in map(term, words(text)) if t is not None]


def day_number(date: str) -> int:
    """Days since 1970-01-01 of an ISO date or timestamp ('2024-01-02T...' -> 19724)."""
    return dt.date.fromisoformat(date[:10]).toordinal() - _EPOCH


@dataclass(frozen=True)
class Document:
    """One post as the index sees it: weighted term counts, its length and its day."""

    slug: str
    day: int
    length: int  # weighted words, title and tags included (BM25's document length)
    terms: dict[str, int]  # term -> weighted count, heaviest first, within MAX_DOC_TERMS_BYTES with their forms
    forms: dict[str, str] = field(default_factory=dict)  # term -> a word it came from, when they differ


def analyze(slug: str, date: str, title: str, tags: Iterable[str], text: str) -> Document:
    """The search document of a post: body words count once, title and tag words weigh more."""
    counts: Counter[str] = Counter(words(text[:MAX_TEXT_CHARS]))
    for word in words(title):
        counts[word] += TITLE_WEIGHT
    for tag in tags:
        for word in words(tag):
            counts[word] += TAG_WEIGHT
    weights: Counter[str] = Counter()
    forms: dict[str, str] = {}
    for word, count in counts.items():
        found = term(word)
        if found is None:
            continue
        weights[found] += count
        if found not in forms or (len(word), word) < (len(forms[found]), forms[found]):
            forms[found] = word  # the shortest word of a stem reads best: 'box', not 'boxes'

    # Heaviest first; among equals, the word met first (counts keep the order of the text).
    kept: dict[str, int] = {}
    size = 0
    for found, weight in sorted(weights.items(), key=lambda tw: -tw[1]):
        size += stored_bytes(found, weight, forms[found])
        if size > MAX_DOC_TERMS_BYTES:
            break
        kept[found] = weight
    return Document(slug=slug, day=day_number(date), length=sum(weights.values()), terms=kept,
                    forms={t: f for t, f in forms.items() if t in kept and f != t})


def stored_bytes(term: str, weight: int, form: str) -> int:
    """What a term takes in a pending entry: 'term:weight ' in its terms, and 'term:form ' in its forms
    when the word readers type for it is not the term itself."""
    size = len(term.encode()) + len(str(weight)) + 2
    return size + (len(term.encode()) + len(form.encode()) + 2 if form != term else 0)
