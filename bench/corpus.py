"""Generated posts that read like a real archive: post n is the same file in a blog of any size.

A blog of N posts is the newest N of one archive of LARGEST posts written over YEARS years:
500 to 3,000 words of prose from a Zipf-like vocabulary of 40,000 words, with headings,
emphasis, links, some lists and some code; 1 to 4 of 300 tags (a few popular, most rare)
and one of 7 authors (a few write most), as front matter an editor would upload.

The newest CORE posts are the current month at every size, and between them they name
every tag and every author: the home page, the feed, the top tag's first page, the current
month, the sitemap of pages and the current month's sitemap are then the same page at
100, 10,000 and 100,000 posts, and whatever differs in their cost is what the rest of the
archive costs. Each post is made from its own random seed, so any post can be made alone.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass

from chalicelib import posts
from chalicelib.search import text

VOCABULARY_WORDS = 40_000
ZIPF_SHIFT = 2.7  # Zipf-Mandelbrot: weight 1 / (rank + shift), like word counts in prose
TAG_NAMES = 300
TAG_ZIPF_SHIFT = 1.0  # a few tags are on a third of the posts, most on a handful
TAGS_PER_POST = (1, 4)
AUTHORS = ("Ada Brennan", "Tomás Okafor", "Mei Lindqvist", "Ravi Castellano", "Jo Whitfield", "Nadia Kowal",
           "Sam Ferreira")
WORDS_PER_POST = (500, 3_000)
SENTENCE_WORDS = (6, 22)
PARAGRAPH_SENTENCES = (2, 6)
SECTION_PARAGRAPHS = 4  # a '## heading' every few paragraphs
LIST_SHARE = 0.5  # posts with a bulleted list
CODE_SHARE = 0.2  # posts with a code block
PHRASE_SHARE = 0.3  # posts that name the blog's recurring series (the phrase query)
LARGEST = 100_000
YEARS = 15
CORE = 100  # the newest posts: the current month, at every size
CURRENT_MONTH = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
SLOT = dt.timedelta(days=YEARS * 365.25) / LARGEST  # one post every 1.3 hours, for 15 years
RARE_WORD = "quillfeather"  # in one post only (no generated word can spell it: no syllable is 'll')
RARE_POST = 7
SEED = 20_240_101
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["ar", "en", "il", "or", "us", "th", "qu"]
_CODE = ('```python\ndef {a}({b}, {c}=None):\n    """{d}."""\n    found = [{b} for {b} in {c} or () if {b}]\n'
         '    return sorted(found, key=len)[:{n}]\n```')


def vocabulary(size: int, rng: random.Random) -> list[str]:
    """`size` distinct pronounceable words, none a stop word, most frequent first."""
    found: dict[str, None] = {}
    while len(found) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4))))
        if len(word) > 2 and word not in text.STOP_WORDS:
            found[word] = None
    return list(found)


def prose(words: list[str], cum_weights: list[float], rng: random.Random, count: int) -> list[str]:
    """About `count` words drawn by their weights, as sentences of SENTENCE_WORDS words."""
    chosen = rng.choices(words, cum_weights=cum_weights, k=count)
    sentences, at = [], 0
    while at < count:
        size = rng.randint(*SENTENCE_WORDS)
        sentences.append(" ".join(chosen[at:at + size]).capitalize() + ".")
        at += size
    return sentences


def zipf_weights(count: int, shift: float) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights of `count` ranks (for random.choices' cum_weights)."""
    return list(itertools.accumulate(1 / (rank + shift) for rank in range(count)))


@dataclass(frozen=True)
class Post:
    """One generated post: its slug, its date and the file an editor uploads."""

    number: int
    slug: str
    date: str
    tags: tuple[str, ...]
    author: str
    source: bytes

    @property
    def key(self) -> str:
        """Where it lives in the bucket."""
        return f"{posts.POSTS_PREFIX}{self.slug}{posts.SOURCE_SUFFIX}"


class Corpus:
    """The archive's vocabulary, tags and authors, and any of its posts by number (0 is the newest)."""

    def __init__(self) -> None:
        rng = random.Random(SEED)
        self.words = vocabulary(VOCABULARY_WORDS, rng)
        self.weights = zipf_weights(VOCABULARY_WORDS, ZIPF_SHIFT)
        tag_words = self.words[200:2000]
        names = dict.fromkeys(" ".join(rng.sample(tag_words, 2)).title() for _ in range(TAG_NAMES * 2))
        self.tags = list({posts.slugify(name): name for name in names}.values())[:TAG_NAMES]
        self.tag_weights = zipf_weights(len(self.tags), TAG_ZIPF_SHIFT)
        self.author_weights = zipf_weights(len(AUTHORS), TAG_ZIPF_SHIFT)
        self.phrase = f"{self.words[300]} {self.words[301]}"

    def post(self, number: int) -> Post:
        """Post `number` of the archive (the same in every blog that holds it)."""
        rng = random.Random(SEED + number)
        title = " ".join(rng.choices(self.words[50:5000], k=rng.randint(3, 8))).capitalize()
        slug = f"{posts.slugify(' '.join(title.split()[:4]))}-{number:06d}"
        date = (CURRENT_MONTH + (CORE - number - 0.5 + rng.uniform(-0.45, 0.45)) * SLOT).strftime("%Y-%m-%dT%H:%M:%SZ")
        tags = self._tags(number, rng)
        author = AUTHORS[number] if number < len(AUTHORS) else rng.choices(AUTHORS, cum_weights=self.author_weights)[0]
        body = self.body(number, rng, rng.randint(*WORDS_PER_POST))
        tag_list = ", ".join(f'"{tag}"' for tag in tags)
        source = f'---\ntitle: "{title}"\ndate: {date}\nauthor: {author}\ntags: [{tag_list}]\n---\n\n{body}\n'
        return Post(number, slug, date, tags, author, source.encode())

    def _tags(self, number: int, rng: random.Random) -> tuple[str, ...]:
        """1 to 4 tags, popular ones more often; a core post carries the most popular tag (its
        first page is then the same at every size) and three more in turn (so the core names all)."""
        found = dict.fromkeys(rng.choices(self.tags, cum_weights=self.tag_weights, k=rng.randint(*TAGS_PER_POST)))
        if number < CORE:
            found = dict.fromkeys([self.tags[0], *(self.tags[(3 * number + i) % len(self.tags)] for i in range(3))])
        return tuple(found)

    def body(self, number: int, rng: random.Random, count: int) -> str:
        """About `count` words of Markdown: sections of paragraphs, emphasis, links, perhaps a list and code."""
        sentences = prose(self.words, self.weights, rng, count)
        if rng.random() < PHRASE_SHARE:
            sentences[rng.randrange(len(sentences))] += f" Part of the {self.phrase} series."
        if number == RARE_POST:
            sentences[len(sentences) // 2] += f" Like a {RARE_WORD} in the wind."
        blocks: list[str] = []
        while sentences:
            take = rng.randint(*PARAGRAPH_SENTENCES)
            paragraph, sentences = " ".join(sentences[:take]), sentences[take:]
            words = paragraph.split(" ")
            if len(words) > 8 and rng.random() < 0.5:
                at = rng.randrange(1, len(words) - 1)
                words[at] = f"*{words[at]}*" if words[at].isalpha() else words[at]
            if len(words) > 8 and rng.random() < 0.3:
                at = rng.randrange(1, len(words) - 3)
                target = f"/tags/{posts.slugify(rng.choice(self.tags))}" if rng.random() < 0.5 else \
                    f"https://example.org/{words[at].strip('.*').lower()}"
                words[at:at + 2] = [f"[{' '.join(words[at:at + 2])}]({target})"]
            if blocks and len(blocks) % (SECTION_PARAGRAPHS + 1) == 0:
                blocks.append("## " + " ".join(rng.choices(self.words[100:3000], k=rng.randint(2, 5))).capitalize())
            blocks.append(" ".join(words))
        if rng.random() < LIST_SHARE:
            items = [" ".join(rng.choices(self.words[:5000], k=rng.randint(3, 9))) for _ in range(rng.randint(3, 6))]
            blocks.insert(rng.randrange(1, len(blocks) + 1), "\n".join(f"- {item}" for item in items))
        if rng.random() < CODE_SHARE:
            a, b, c, d = rng.sample(self.words[:3000], 4)
            blocks.insert(rng.randrange(1, len(blocks) + 1), _CODE.format(a=a, b=b, c=c, d=d.capitalize(),
                                                                          n=rng.randint(2, 20)))
        return "\n\n".join(blocks)
