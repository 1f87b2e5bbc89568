"""Search at scale: the same queries on indexes of 100, 2,000 and 10,000 posts (BENCH_SEARCH_MAX), side by side.

The posts are generated: 500 to 3,000 words each from a Zipf-like vocabulary of 40,000
words, 1 to 4 of 300 tags, dates over 15 years. Each blog is indexed the way the rebuild
will do it (pending entries merged in batches, shards split as they grow) into a
`MemoryStore`, so a query reads shards, pending entries and post texts from dicts: what is
measured is the engine's own work (decoding, scoring, checking phrases, excerpts), not
storage latency. The store's own reads (dict lookups, which slow down as its dicts grow: on AWS
they are requests whose cost does not depend on the table's size) are timed apart and left out
of the judged own time; the time with them is reported beside it.

Two query mixes. The judged one (`queries`) asks for the same page at every size, as the
scale rows do: words common enough to fill a page at 100 posts already, and words planted
in the small blog's posts only (a rare word, a phrase, a tag: no generated word can spell
them), which find the same posts in the larger blogs. The other (`drawn_queries`, reported)
asks for words drawn from the prose, whose pages differ by size: a word in 6 posts at 100
is in about 180 at 10,000, so the larger blog shows and excerpts more results.
Figures: each mix's own time (thread CPU, medians) and peak memory (tracemalloc) at 10,000
against 100 posts, and against 2,000 (where a one-word query's bounds are reached already;
a multi-word query's checks of texts keep growing until its rarest word is cut too), and
the bytes a query reads.

BENCH_SEARCH_MAX sets the large index (default 10,000, so that `make bench` stays short): at
100,000 indexing takes about an hour and 4 GB, on one core.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from bench.corpus import prose, vocabulary
from bench.figures import NO_GOAL, Figure, guarded, judged, ms, reported, times
from bench.timing import clock, interleave, median, ratio, seconds
from chalicelib.search import engine, text
from chalicelib.search.shards import Manifest

SMALL, MIDDLE = 100, 2_000  # past MIDDLE, a one-word query's bounds are reached
LARGE = int(os.environ.get("BENCH_SEARCH_MAX") or 10_000)
VOCABULARY_WORDS = 40_000
ZIPF_SHIFT = 2.7  # Zipf-Mandelbrot: weight 1 / (rank + shift), like word counts in prose
TAG_NAMES = 300
WORDS_PER_POST = (500, 3_000)
PENDING_POSTS = 20  # recently changed posts, not merged yet, at both sizes
BUILD_BATCH = 2_500  # posts merged at once while building (an import's batches; fewer rewrites of the shards)
ROUNDS = 9
GOAL = 1.2
SEED = 20_240_101
PER_RESULT_LABEL = f"Search own time per result shown (the drawn words' 10 queries), {LARGE:,} vs {SMALL} posts"
FIRST_DAY = dt.date(2010, 1, 1)
DAYS = 15 * 365
# Planted in the small blog's posts only (every blog holds them: the small blog is the larger ones' start).
# No generated word has an 'x' or a 'y' (see bench.corpus's syllables), so only these posts have them.
RARE_WORD = "oxbarrow"
RARE_POSTS = (3, 17, 31, 48, 66, 90)  # the rare word's posts; the phrase's first word is there too, alone
PHRASE = ("vexilon", "dyrmark")  # whole in post PHRASE_POST only
PHRASE_POST = 0
TAG = "Yarrow Exmoor"
TAG_POSTS = range(0, SMALL, 3)  # 34 posts: a full page at every size


class Corpus:
    """Generated posts: post n is the same in a blog of any size (the small blog is the big one's start)."""

    def __init__(self) -> None:
        rng = random.Random(SEED)
        self.words = vocabulary(VOCABULARY_WORDS, rng)
        self.weights = list(itertools.accumulate(1 / (rank + ZIPF_SHIFT) for rank in range(VOCABULARY_WORDS)))
        tag_words = self.words[200:2000]
        self.tags = list(dict.fromkeys(" ".join(rng.sample(tag_words, 2)).title() for _ in range(TAG_NAMES * 2)))
        self.tags = self.tags[:TAG_NAMES]

    def post(self, number: int) -> tuple[dict[str, Any], str, text.Document]:
        """Post `number`: its index item, its plain text and its search document."""
        rng = random.Random(SEED + number)
        body = self.body(rng, rng.randint(*WORDS_PER_POST), number)
        title = " ".join(rng.choices(self.words[50:5000], k=rng.randint(3, 8))).capitalize()
        tags = rng.sample(self.tags, rng.randint(1, 4)) + ([TAG] if number in TAG_POSTS else [])
        date = (FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))).isoformat() + "T09:00:00Z"
        slug = f"post-{number:06d}-{'-'.join(title.lower().split()[:3])}"
        item = {"slug": slug, "title": title, "date": date, "tags": tags, "rev": 1}
        return item, body, text.analyze(slug, date, title, tags, body)

    def body(self, rng: random.Random, count: int, number: int = -1) -> str:
        """`count` words of prose: sentences and paragraphs (and the planted words, for post `number`)."""
        sentences = prose(self.words, self.weights, rng, count)
        if number in RARE_POSTS:
            sentences[len(sentences) // 3] += f" An {RARE_WORD} of {PHRASE[0]} stood by the {PHRASE[1]}."
        if number == PHRASE_POST:
            sentences[-1] += f" It was {' '.join(PHRASE)} again."
        return "\n\n".join(" ".join(sentences[i:i + 5]) for i in range(0, len(sentences), 5))


Read = TypeVar("Read")


class BenchStore(engine.MemoryStore):
    """A MemoryStore that also counts the bytes of pending entries and post texts a query reads, and the
    time its reads take (`spent`)."""

    counting = False  # (counting costs time: only while not timed)
    other_bytes = 0
    spent = 0.0  # seconds of this thread's time in the store's reads

    def _timed(self, read: Callable[[], Read]) -> Read:
        started = clock()
        try:
            return read()
        finally:
            self.spent += clock() - started

    def manifest(self) -> dict[str, Any] | None:
        """The manifest's data."""
        return self._timed(super().manifest)

    def shards(self, numbers: Collection[int]) -> dict[int, bytes]:
        """Stored shards, as new objects: a shard read from S3 is allocated in the query's memory too."""
        read = partial(super().shards, numbers)
        return self._timed(lambda: {n: bytes(memoryview(data)) for n, data in read().items()})

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """Pending entries, counted as their JSON."""
        found = self._timed(partial(super().pending, limit))
        self.other_bytes += sum(len(json.dumps(item)) for item in found) if self.counting else 0
        return found

    def slugs(self, docs: Collection[str]) -> dict[str, str]:
        """The slugs that claimed these document ids."""
        return self._timed(partial(super().slugs, docs))

    def posts(self, slugs: Sequence[str]) -> dict[str, tuple[dict[str, Any], str]]:
        """Posts, counted as their UTF-8 text."""
        found = self._timed(partial(super().posts, slugs))
        self.other_bytes += sum(len(body.encode()) for _, body in found.values()) if self.counting else 0
        return found


def timed_search(store: BenchStore, query: str) -> tuple[float, float]:
    """(own time without the store's reads, own time with them) of one search, in seconds."""
    before = store.spent
    total = seconds(lambda: engine.search(store, query))
    return total - (store.spent - before), total


def blog(corpus: Corpus, size: int) -> BenchStore:
    """A blog of `size` posts, merged, with PENDING_POSTS more changed since the last merge."""
    store = BenchStore()
    for number in range(size):
        store.put_post(*corpus.post(number))
        if (number + 1) % BUILD_BATCH == 0:
            store.refresh(batch_docs=BUILD_BATCH)
    store.refresh(batch_docs=BUILD_BATCH)
    for number in range(size, size + PENDING_POSTS):  # new posts, visible through their pending entries
        store.put_post(*corpus.post(number))
    return store


def queries(corpus: Corpus) -> dict[str, str]:
    """The judged mix, the same page at every size: words that fill a page at 100 posts already (one, two,
    a prefix, a word and a prefix), the planted rare word, phrase and tag, three words the rare word's posts
    have, a typo."""
    drawn = drawn_queries(corpus)
    words = corpus.words
    return {
        "common word": drawn["common word"],
        "mid word": drawn["mid word"],
        "rare word": RARE_WORD,
        "two words": drawn["two words"],
        "three words": f"{words[15]} {RARE_WORD} {words[100]}",
        "phrase": f'"{" ".join(PHRASE)}"',
        "prefix": drawn["prefix"],
        "word and prefix": drawn["word and prefix"],
        "tag": TAG,
        "typo": drawn["typo"],
    }


def drawn_queries(corpus: Corpus) -> dict[str, str]:
    """The mix of words drawn from the prose: common and rare words, several words, a phrase, a prefix, a
    typo. The same words show other pages at each size (a rarer word is found in more posts of a larger blog)."""
    words = corpus.words
    first_text = corpus.post(0)[1].split()
    phrase = " ".join(w.strip(".").lower() for w in first_text[10:12])
    rare = next(w for w in (x.strip(".").lower() for x in first_text) if words.index(w) > 5000)
    vocabulary = set(words)

    def typing(word: str) -> str:
        """The first letters of `word` that are no word themselves: a word being typed."""
        return next(word[:n] for n in range(4, len(word)) if word[:n] not in vocabulary)

    known = next(w for w in words[100:] if len(w) >= 7)
    typo = known[:4] + known[5] + known[4] + known[6:]  # two letters swapped
    return {
        "common word": words[30],
        "mid word": words[600],
        "rare word": rare,
        "two words": f"{words[40]} {words[350]}",
        "three words": f"{words[15]} {words[200]} {words[1200]}",
        "phrase": f'"{phrase}"',
        "prefix": typing(next(w for w in words[90:] if len(w) >= 6)),
        "word and prefix": f"{words[60]} {typing(next(w for w in words[700:] if len(w) >= 6))}",
        "tag": corpus.tags[7],
        "typo": typo,
    }


def figures_of(store: BenchStore, mix: dict[str, str]) -> dict[str, Any]:
    """What the query mix finds and reads at one size (not timed)."""
    shard_bytes, other_bytes = store.bytes_read, store.other_bytes
    store.counting = True
    found = {name: engine.search(store, query) for name, query in mix.items()}
    store.counting = False
    return {"matches": {n: r.total for n, r in found.items()}, "hits": {n: len(r.hits) for n, r in found.items()},
            "suggestions": {n: r.suggestion for n, r in found.items() if r.suggestion},
            "shard_bytes": (store.bytes_read - shard_bytes) / len(mix),
            "other_bytes": (store.other_bytes - other_bytes) / len(mix)}


def measure_memory(store: engine.MemoryStore, query: str) -> int:
    """Peak bytes allocated while running `query`."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        engine.search(store, query)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def per_result_figure(own: dict[int, float], shown: dict[int, int]) -> Figure:
    """Own time per result shown by the drawn mix, LARGE vs SMALL posts: at SMALL, some of its queries fill
    less than a page, and checking and excerpting fewer posts costs less, which its ratio counts against LARGE."""
    each = {size: own[size] / shown[size] if shown[size] else 0.0 for size in (SMALL, LARGE)}
    value = ratio(each[LARGE], each[SMALL])
    return reported("search.own_time_per_result", PER_RESULT_LABEL,
                    f"{times(value)} ({each[LARGE] * 1000:.3f} ms a result, {shown[LARGE]} shown; "
                    f"vs {each[SMALL] * 1000:.3f} ms, {shown[SMALL]} shown)",
                    ratio=round(value, 3), shown={str(size): shown[size] for size in (SMALL, LARGE)})


@dataclass(frozen=True)
class Measured:
    """One query mix at every size: own time (seconds, medians), peak memory, what it found."""

    mix: dict[str, str]
    samples: dict[str, float]  # 'size|name' -> seconds, the store's reads left out
    memory: dict[int, dict[str, int]]  # size -> name -> peak bytes
    seen: dict[int, dict[str, Any]]  # size -> figures_of
    with_store: dict[str, float] = field(default_factory=dict)  # 'size|name' -> seconds, the store's reads in

    def own(self, size: int, names: Sequence[str] | None = None) -> float:
        """The mix's own time at `size` (or these queries')."""
        return sum(self.samples[f"{size}|{name}"] for name in (self.mix if names is None else names))

    def own_with_store(self, size: int) -> float:
        """The mix's time at `size` with the store's reads."""
        return sum(self.with_store[f"{size}|{name}"] for name in self.mix)

    def peak(self, size: int) -> float:
        """The mix's mean peak memory at `size`."""
        return sum(self.memory[size].values()) / len(self.memory[size])

    def worst(self, size: int) -> int:
        """The mix's largest peak memory at `size`."""
        return max(self.memory[size].values())

    def ratios(self, size: int, against: int) -> tuple[float, float]:
        """(own time, mean peak memory) at `size` against those at `against`."""
        return ratio(self.own(size), self.own(against)), ratio(self.peak(size), self.peak(against))

    def shown(self, size: int) -> int:
        """Results the mix's pages showed at `size`."""
        return sum(self.seen[size]["hits"].values())

    def data(self) -> dict[str, Any]:
        """The results file's record of it."""
        return {"queries": self.mix, "own_ms": {key: round(value * 1000, 3) for key, value in self.samples.items()},
                "with_store_ms": {key: round(value * 1000, 3) for key, value in self.with_store.items()},
                "peak_bytes": {str(size): values for size, values in self.memory.items()},
                "found": {str(size): values for size, values in self.seen.items()}}


def measure(stores: dict[int, BenchStore], mixes: dict[str, dict[str, str]]) -> dict[str, Measured]:
    """Every mix's queries on every store, timed side by side (alternated), then their memory and findings."""
    for store in stores.values():
        for mix in mixes.values():
            for query in mix.values():
                engine.search(store, query)  # warm: caches of folded words, as in a warm container
    cases = {f"{kind}|{size}|{name}": (lambda s=store, q=query: timed_search(s, q))
             for kind, mix in mixes.items() for size, store in stores.items() for name, query in mix.items()}
    timed = interleave(cases, ROUNDS)
    samples = {key: median([own for own, _ in values]) for key, values in timed.items()}
    with_store = {key: median([total for _, total in values]) for key, values in timed.items()}

    def of_kind(values: dict[str, float], kind: str) -> dict[str, float]:
        return {key.split("|", 1)[1]: value for key, value in values.items() if key.startswith(kind + "|")}

    return {kind: Measured(mix, of_kind(samples, kind),
                           {size: {name: measure_memory(store, query) for name, query in mix.items()}
                            for size, store in stores.items()},
                           {size: figures_of(store, mix) for size, store in stores.items()},
                           of_kind(with_store, kind))
            for kind, mix in mixes.items()}


def run(world: object = None) -> list[Figure]:
    """Own time, peak memory and bytes read of both query mixes at LARGE against 100 and 2,000 posts."""
    started = time.monotonic()
    corpus = Corpus()
    stores = {size: blog(corpus, size) for size in (SMALL, MIDDLE, LARGE)}
    print(f"[bench] search: indexed {SMALL}, {MIDDLE} and {LARGE} posts in {time.monotonic() - started:.0f} s",
          file=sys.stderr, flush=True)
    found = measure(stores, {"same": queries(corpus), "drawn": drawn_queries(corpus)})
    same, drawn = found["same"], found["drawn"]
    manifests = {size: Manifest.from_dict(store.manifest()) for size, store in stores.items()}
    index = {size: sum(map(len, store.shard_data.values())) for size, store in stores.items()}
    time_ratio, memory_ratio = same.ratios(LARGE, SMALL)
    store_ratio = ratio(same.own_with_store(LARGE), same.own_with_store(SMALL))
    bounded_time, bounded_memory = same.ratios(LARGE, MIDDLE)
    drawn_time, drawn_memory = drawn.ratios(LARGE, SMALL)
    pages = {name: {size: same.seen[size]["hits"][name] for size in stores} for name in same.mix}
    full = [name for name, shown in pages.items() if all(n == engine.PAGE_SIZE for n in shown.values())]
    full_ratio = ratio(same.own(LARGE, full), same.own(SMALL, full))
    read = {size: same.seen[size]["shard_bytes"] for size in stores}
    return [
        judged("search.own_time", f"Search own time (10 queries, the same page at every size; the in-memory store's "
               f"reads left out), {LARGE:,} vs {SMALL} posts", f"{times(time_ratio)} ({ms(same.own(LARGE))} vs {ms(same.own(SMALL))}; results shown "
               f"{same.shown(LARGE)} vs {same.shown(SMALL)})", f"≤ {times(GOAL)}", time_ratio <= GOAL,
               ratio=round(time_ratio, 3), rounds=ROUNDS, pending_posts=PENDING_POSTS, **same.data()),
        judged("search.peak_memory", f"Search peak memory (mean of 10 queries, the same page at every size), "
               f"{LARGE:,} vs {SMALL} posts",
               f"{times(memory_ratio)} ({same.peak(LARGE) / 1024:.0f} KiB vs {same.peak(SMALL) / 1024:.0f} KiB; "
               f"worst {same.worst(LARGE) / 1024:.0f} KiB vs {same.worst(SMALL) / 1024:.0f} KiB)",
               f"≤ {times(GOAL)}", memory_ratio <= GOAL, ratio=round(memory_ratio, 3)),
        reported("search.own_time_with_store", f"Search own time with the in-memory store's reads (its dict lookups), "
                 f"{LARGE:,} vs {SMALL} posts", f"{times(store_ratio)} ({ms(same.own_with_store(LARGE))} vs "
                 f"{ms(same.own_with_store(SMALL))})", ratio=round(store_ratio, 3)),
        reported("search.own_time_full_pages", "Search own time, the queries with a full page at every size, "
                 f"{LARGE:,} vs {SMALL} posts", f"{times(full_ratio)} ({', '.join(full)})" if full else "no such query",
                 ratio=round(full_ratio, 3), queries=full),
        reported("search.drawn", f"Search own time and peak memory, 10 queries of words drawn from the prose (other "
                 f"pages at each size), {LARGE:,} vs {SMALL} posts",
                 f"time {times(drawn_time)} ({ms(drawn.own(LARGE))} vs {ms(drawn.own(SMALL))}; results shown "
                 f"{drawn.shown(LARGE)} vs {drawn.shown(SMALL)}); memory {times(drawn_memory)} "
                 f"({drawn.peak(LARGE) / 1024:.0f} KiB vs {drawn.peak(SMALL) / 1024:.0f} KiB)",
                 time_ratio=round(drawn_time, 3), memory_ratio=round(drawn_memory, 3), **drawn.data()),
        guarded("search.own_time_per_result", PER_RESULT_LABEL, NO_GOAL,
                lambda: per_result_figure({size: drawn.own(size) for size in stores},
                                          {size: drawn.shown(size) for size in stores})),
        reported("search.bounded",
                 f"Search own time and peak memory, {LARGE:,} vs {MIDDLE:,} posts (a one-word query's bounds reached)",
                 f"time {times(bounded_time)} ({ms(same.own(LARGE))} vs {ms(same.own(MIDDLE))}); "
                 f"memory {times(bounded_memory)}", time_ratio=round(bounded_time, 3),
                 memory_ratio=round(bounded_memory, 3)),
        reported("search.bytes_read", f"Bytes a search reads (mean of 10 queries), {LARGE:,} vs {SMALL} posts",
                 f"shards {read[LARGE] / 1024:.0f} KiB vs {read[SMALL] / 1024:.0f} KiB; pending entries and "
                 f"texts {same.seen[LARGE]['other_bytes'] / 1024:.0f} KiB vs "
                 f"{same.seen[SMALL]['other_bytes'] / 1024:.0f} KiB",
                 shard_bytes={str(size): round(value) for size, value in read.items()},
                 other_bytes={str(size): round(same.seen[size]["other_bytes"]) for size in stores}),
        reported("search.index", f"Search index (gzip'd shards) at {LARGE:,}, {MIDDLE:,} and {SMALL} posts",
                 "; ".join(f"{manifests[size].shards} shards, {index[size] / 2**20:.2f} MiB"
                           for size in (LARGE, MIDDLE, SMALL)),
                 shards={str(s): m.shards for s, m in manifests.items()},
                 bytes={str(s): v for s, v in index.items()}),
    ]
