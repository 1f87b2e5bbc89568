"""Scale: every reader request on a realistic archive of LARGE posts against the same request on 100,
the sitemap files of the large archive, and a bulk import through the ingest path.

The archive is bench/corpus.py's (500 to 3,000 words a post, 300 tags, 15 years), written
straight into moto's bucket and table by the writes ingest plans (bench/world.seed_sources),
and its search index merged by the rebuild's own steps (engine.merge and engine.grow, in
batches of BUILD_BATCH posts). Its newest posts are the same at every size, so each request below asks for the same page at both sizes
and whatever differs is what the rest of the archive costs.

Per request, side by side: own time (thread CPU minus the time inside AWS calls: moto's Query
walks its whole table, so its time is not ours) and peak memory (tracemalloc, measured outside
AWS calls only, so moto's working memory is not counted), each request served by a Site with
empty caches, as a container's first request for that page. The items each request reads
(Query ScannedCount, GetItem/BatchGetItem keys) and the bytes it reads are kept in results.json.

Sizes: BENCH_SCALE_MAX (default 1,000, so that the default `make bench` stays short) sets the
large archive: writing it takes about 15 ms a post on moto, and merging its search index more
as the index grows (10,000: about 10 minutes; 100,000: hours, moto holds every shard).
BENCH_SCALE_SEARCH=0 leaves the search index and the search requests out (the search bench
measures them at 100,000 in memory), so that the other requests can be measured at 100,000.
BENCH_IMPORT_POSTS (default 100) sets the bulk import, about 20 to 85 ms a post on moto
(moto's Query walks the table).
"""
from __future__ import annotations

import gc
import os
import sys
import threading
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from bench import corpus as archive
from bench.figures import Figure, failed, guarded, judged, ms, reported, times
from bench.ingest import Drained, drain
from bench.timing import ColdCaches, interleave, median, own_seconds, ratio
from bench.world import Blog, World, seed_sources
from blogctl.publishing import MARKDOWN_TYPE
from blogctl.recorder import Call
from chalicelib import aws, config, feeds, model, posts, search_index
from chalicelib.links import links_for
from chalicelib.search import engine
from chalicelib.site import MAX_MONTHS, Site, now_utc

SMALL = 100
LARGE = int(os.environ.get("BENCH_SCALE_MAX") or 1_000)
IMPORT_POSTS = int(os.environ.get("BENCH_IMPORT_POSTS") or 100)
WITH_SEARCH = os.environ.get("BENCH_SCALE_SEARCH", "1") != "0"  # 0: no search index, no search requests
BUILD_BATCH = 2_500  # posts a search merge takes at once while building (an import's batches: fewer shard rewrites)
IMPORT_WAVE = 100  # uploads per wave the handler drains (moto's SendMessage walks the whole queue)
ROUNDS = 9  # timed requests per size, alternating
MEMORY_ROUNDS = 3
GOAL = 1.2
GOAL_TEXT = f"≤ {times(GOAL)}"
MAX_SITEMAP_URLS = 50_000  # sitemaps.org's limit per file
MAX_SITEMAP_BYTES = 3 * 1024 * 1024  # half of Lambda's 6 MB response limit: "well under"
SITEMAP_KEY, SITEMAP_LABEL = "scale.sitemap_files", "Scale: largest sitemap file at {count:,} posts"
SITEMAP_GOAL = f"≤ {MAX_SITEMAP_URLS:,} URLs and ≤ {MAX_SITEMAP_BYTES // 2**20} MB each"
WORST_SITE_URL = "https://blog.example-publisher.com"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MONTH = archive.CURRENT_MONTH.strftime("%Y-%m")
# Requests whose answer is not a page: they grow with something else than the posts, and are judged by that bound.
GROWS_WITH = {"sitemap index": "one file per month the blog spans"}


def requests(corpus: archive.Corpus, with_search: bool = True) -> dict[str, str]:
    """Each kind of reader request, as the same page at every size (the searches only `with_search`)."""
    newest = corpus.post(0)
    searches = {
        "search (rare word)": f"/search?q={archive.RARE_WORD}",
        "search (common word)": f"/search?q={quote(corpus.words[30])}",
    }
    return {
        "home": "/",
        "post": f"/posts/{newest.slug}",
        "tag": f"/tags/{posts.slugify(corpus.tags[0])}",
        "archive month": f"/archive/{MONTH.replace('-', '/')}",
        **(searches if with_search else {}),
        "feed": "/feed.xml",
        "sitemap index": "/sitemap.xml",
        "sitemap page": f"/sitemaps/posts-{MONTH}.xml",
        "API list": "/api/posts",
    }


def log(message: str, started: float) -> None:
    """A line on stderr: what took how long (the large sizes take minutes)."""
    print(f"[bench] scale: {message} in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)


def build(world: World, corpus: archive.Corpus, count: int) -> Blog:
    """The newest `count` posts of the archive in a blog of their own, search index merged."""
    started = time.monotonic()
    blog = world.empty(f"corpus{count}")
    generated = (corpus.post(number) for number in range(count))
    seed_sources(blog.index, blog.content, aws.client("dynamodb"), ((p.key, p.source) for p in generated))
    log(f"{count:,} posts written", started)
    if not WITH_SEARCH:
        return blog
    store = search_index.IndexStore(blog.index, blog.content, now_utc())
    while engine.merge(store, batch_docs=BUILD_BATCH).entries:  # as rebuild runs do (in larger batches), until settled
        engine.grow(store)
    log(f"{count:,} posts written and their search index merged", started)
    return blog


class OwnMemory:
    """tracemalloc's peak, counted only outside AWS calls: moto's work inside a call is not ours.

    botocore's `request-created` comes before the request is sent (moto answers it in-process)
    and `needs-retry` after the answer is parsed: the peak so far is kept at the first, and
    tracemalloc's peak restarts at the second, after a collection (moto's walk of its table
    leaves cyclic garbage that grows with the table). What a call returns stays allocated,
    so it counts.
    """

    def __init__(self) -> None:
        self._peak = 0

    def attach(self, client: Any) -> None:
        """Watch `client`'s calls."""
        client.meta.events.register("request-created", self._entering, unique_id="bench-own-memory-in")
        client.meta.events.register("needs-retry", self._leaving, unique_id="bench-own-memory-out")

    def _entering(self, **_: Any) -> None:
        if tracemalloc.is_tracing():
            self._peak = max(self._peak, tracemalloc.get_traced_memory()[1])

    def _leaving(self, **_: Any) -> None:
        if tracemalloc.is_tracing():
            gc.collect()  # moto's garbage in reference cycles would count until the collector runs
            tracemalloc.reset_peak()

    def peak(self, work: Callable[[], Any]) -> int:
        """Bytes allocated at the peak of `work`, above what was allocated before it."""
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            self._peak = 0
            work()
            return max(self._peak, tracemalloc.get_traced_memory()[1]) - base
        finally:
            tracemalloc.stop()


@dataclass(frozen=True)
class Sample:
    """One request: status, own time, and what it read."""

    status: int
    own: float
    calls: tuple[tuple[str, str], ...]
    items: int  # Query ScannedCount, plus one per GetItem
    read_bytes: int


@contextmanager
def fresh_site(blog: Blog) -> Iterator[None]:
    """Serve `blog` from a Site with empty caches: a container's first request for the page."""
    blog.site = Site(blog.index, blog.content, config.get_settings())
    with blog.serving():
        yield


def timed(world: World, http: Any, blog: Blog, path: str) -> Callable[[], Sample]:
    """GET `path` once from `blog` and measure it.

    Own time is this thread's CPU time minus the AWS calls made on this thread: the calls a
    search makes side by side run on other threads, so their time was never in this thread's.
    """
    measuring = threading.get_ident()

    def sample() -> Sample:
        answers, here = [], []

        def note(call: Call) -> None:
            if threading.get_ident() == measuring:
                here.append(call.seconds)

        world.meter.on_call.append(note)
        try:
            with fresh_site(blog):
                total, _ = own_seconds(lambda: answers.append(http.get(path)), world.meter)
        finally:
            world.meter.on_call.remove(note)
        own = total - sum(here)
        calls = world.meter.calls
        items = sum(c.scanned for c in calls if c.scanned is not None) + sum(c.operation == "GetItem" for c in calls)
        return Sample(answers[0].status_code, own, tuple(c.key for c in calls), items,
                      sum(c.response_bytes for c in calls))
    return sample


def measured_peak(memory: OwnMemory, http: Any, blog: Blog, path: str) -> Callable[[], int]:
    """GET `path` once from `blog`; the peak memory of our code."""
    def sample() -> int:
        with fresh_site(blog):
            return memory.peak(lambda: http.get(path))
    return sample


def request_figures(world: World, corpus: archive.Corpus, blogs: dict[int, Blog]) -> list[Figure]:
    """Own time and peak memory of each reader request, LARGE against SMALL posts."""
    memory = OwnMemory()
    clients = [aws.client(service) for service in ("s3", "dynamodb")]
    for client in clients:
        memory.attach(client)
    found = []
    with world.http() as http, ColdCaches().attached(clients):
        for name, path in requests(corpus, WITH_SEARCH).items():
            started = time.monotonic()
            times_of = interleave({str(n): timed(world, http, blog, path) for n, blog in blogs.items()}, ROUNDS)
            peaks = interleave({str(n): measured_peak(memory, http, blog, path) for n, blog in blogs.items()},
                               MEMORY_ROUNDS)
            found += judge(name, path, times_of[str(SMALL)], times_of[str(LARGE)], peaks[str(SMALL)],
                           peaks[str(LARGE)])
            log(f"{name} measured", started)
    return found


def judge(name: str, path: str, small: list[Sample], large: list[Sample], small_peaks: list[int],
          large_peaks: list[int]) -> list[Figure]:
    """The time and memory figures of one request."""
    key = name.split(" (")[0].replace(" ", "_") + ("_" + name.split("(")[1].split(")")[0].split()[0]
                                                   if "(" in name else "")
    statuses = sorted({s.status for s in small + large})
    ok = statuses == [200]
    reads = {str(n): {"items": max(s.items for s in samples), "bytes": max(s.read_bytes for s in samples),
                      "calls": dict(Counter(f"{a}:{b}" for a, b in samples[0].calls))}
             for n, samples in ((SMALL, small), (LARGE, large))}
    time_label = f"Scale: own time of {name}, {LARGE:,} vs {SMALL} posts"
    memory_label = f"Scale: peak memory of {name}, {LARGE:,} vs {SMALL} posts"

    grows = GROWS_WITH.get(name)
    if grows:
        time_label += f" (grows with the months: {grows})"
        memory_label += " (grows with the months)"

    def verdict(key: str, label: str, measured: str, value: float, **data: Any) -> Figure:
        if grows:
            return reported(key, label, measured, **data)
        return judged(key, label, measured, GOAL_TEXT, value <= GOAL, **data)

    def own_time() -> Figure:
        if not ok:
            return failed(f"scale.own_time.{key}", time_label, GOAL_TEXT, f"{path} answered {statuses}")
        own = {n: median([s.own for s in samples]) for n, samples in ((SMALL, small), (LARGE, large))}
        value = ratio(own[LARGE], own[SMALL])
        return verdict(f"scale.own_time.{key}", time_label,
                       f"{times(value)} ({ms(own[LARGE])} vs {ms(own[SMALL])}; read {_read(reads[str(LARGE)])} "
                       f"vs {_read(reads[str(SMALL)])})", value,
                       path=path, own_ratio=round(value, 3), rounds=len(small),
                       own_ms={str(n): round(v * 1000, 2) for n, v in own.items()}, reads=reads)

    def peak_memory() -> Figure:
        if not ok:
            return failed(f"scale.memory.{key}", memory_label, GOAL_TEXT, f"{path} answered {statuses}")
        peak = {SMALL: median([float(v) for v in small_peaks]), LARGE: median([float(v) for v in large_peaks])}
        value = ratio(peak[LARGE], peak[SMALL])
        return verdict(f"scale.memory.{key}", memory_label,
                       f"{times(value)} ({peak[LARGE] / 1024:,.0f} KiB vs {peak[SMALL] / 1024:,.0f} KiB)", value,
                       path=path, memory_ratio=round(value, 3), peak_bytes={str(n): int(v) for n, v in peak.items()})

    found = [guarded(f"scale.own_time.{key}", time_label, GOAL_TEXT, own_time),
             guarded(f"scale.memory.{key}", memory_label, GOAL_TEXT, peak_memory)]
    if grows:
        found.append(guarded(f"scale.reads.{key}", *_bound_of(name, path, statuses, reads)))
    return found


def _bound_of(name: str, path: str, statuses: list[int],
              reads: dict[str, Any]) -> tuple[str, str, Callable[[], Figure]]:
    """(label, goal, figure) of a request that grows with the months: one Query of at most MAX_MONTHS items."""
    label = f"Scale: reads of {name}, {LARGE:,} vs {SMALL} posts (one item per month)"
    goal = f"one DynamoDB Query of ≤ {MAX_MONTHS:,} items (site.MAX_MONTHS), at any size"
    key = f"scale.reads.{name.replace(' ', '_')}"

    def figure() -> Figure:
        if statuses != [200]:
            return failed(key, label, goal, f"{path} answered {statuses}")
        calls = {size: found["calls"] for size, found in reads.items()}
        met = all(c == {"dynamodb:Query": 1} for c in calls.values()) and \
            all(found["items"] <= MAX_MONTHS for found in reads.values())
        return judged(key, label, f"{reads[str(LARGE)]['items']} vs {reads[str(SMALL)]['items']} items, "
                      f"{', '.join(f'{n} {c}' for n, c in calls[str(LARGE)].items())}", goal, met, reads=reads)

    return label, goal, figure


def _read(reads: dict[str, Any]) -> str:
    return f"{reads['items']} items, {reads['bytes'] / 1024:,.0f} KiB"


def sitemap_figure(world: World, blog: Blog, count: int) -> Figure:
    """Every sitemap file of the large archive, parsed: the most URLs and the most bytes in one file."""
    key, label, goal = SITEMAP_KEY, SITEMAP_LABEL.format(count=count), SITEMAP_GOAL
    with world.http() as http, fresh_site(blog):
        index = http.get("/sitemap.xml")
        if index.status_code != 200:
            return failed(key, label, goal, f"/sitemap.xml answered {index.status_code}")
        files = [urlsplit(loc.text or "").path for loc in ET.fromstring(index.body).iter(f"{SITEMAP_NS}loc")]
        sizes: dict[str, tuple[int, int]] = {}
        for path in files:
            answer = http.get(path)
            if answer.status_code != 200:
                return failed(key, label, goal, f"{path} answered {answer.status_code}")
            urls = len(list(ET.fromstring(answer.body).iter(f"{SITEMAP_NS}url")))
            sizes[path] = (urls, len(answer.body))
    if not sizes:
        return failed(key, label, goal, "the sitemap index lists no files")
    most_urls = max(sizes, key=lambda p: sizes[p][0])
    most_bytes = max(sizes, key=lambda p: sizes[p][1])
    total = sum(urls for urls, _ in sizes.values())
    posts_listed = sum(urls for path, (urls, _) in sizes.items() if "/posts-" in path)
    return judged(key, label,
                  f"{sizes[most_urls][0]:,} URLs ({most_urls}), {sizes[most_bytes][1] / 1024:,.0f} KiB "
                  f"({most_bytes}); {len(sizes)} files, {total:,} URLs, {posts_listed:,} posts",
                  goal, all(u <= MAX_SITEMAP_URLS and b <= MAX_SITEMAP_BYTES for u, b in sizes.values())
                  and posts_listed == count and feeds.MAX_SITEMAP_URLS <= MAX_SITEMAP_URLS,
                  files=len(sizes), urls=total, posts_listed=posts_listed,
                  largest_by_urls=[most_urls, *sizes[most_urls]], largest_by_bytes=[most_bytes, *sizes[most_bytes]])


def search_index_figure(blogs: dict[int, Blog]) -> Figure:
    """How big the search index grew at each size: shards (what a merge may rewrite) and bytes."""
    manifests = {n: (blog.index.get(search_index.MANIFEST_KEY) or {}).get("manifest") or {} for n, blog in blogs.items()}
    return reported("scale.search_index", f"Scale: search index at {LARGE:,} vs {SMALL} posts",
                    " vs ".join(f"{int(m.get('shards', 0)):,} shards, {int(m.get('bytes', 0)) / 2**20:.1f} MB"
                                for m in (manifests[LARGE], manifests[SMALL])),
                    **{str(n): {k: int(v) for k, v in m.items()} for n, m in manifests.items()})


def worst_sitemap_figure() -> Figure:
    """The largest file the code may write: feeds.MAX_SITEMAP_URLS posts of one month, each with the
    longest slug, on a site with a longish domain (a month's posts or the tags past 50,000 are cut)."""
    key, label = "scale.sitemap_worst_case", "Scale: worst-case sitemap file (the most URLs, the longest slugs)"
    links = links_for(WORST_SITE_URL, None, None)
    slug = "s" * posts.MAX_SLUG_CHARS
    body, held = feeds.sitemap(links, [(f"/posts/{slug}", "2025-06-01")] * feeds.MAX_SITEMAP_URLS)
    size = len(body.encode())
    return judged(key, label, f"{size / 2**20:.1f} MB ({held:,} URLs of {size // max(held, 1)} bytes, "
                              f"{WORST_SITE_URL}; the rest of {feeds.MAX_SITEMAP_URLS:,} cut, and logged)",
                  f"≤ {MAX_SITEMAP_BYTES // 2**20} MB (Lambda's limit: 6 MB)", 0 < size <= MAX_SITEMAP_BYTES,
                  bytes=size, urls=held, slug_chars=posts.MAX_SLUG_CHARS)


def import_figures(world: World, corpus: archive.Corpus) -> list[Figure]:
    """A bulk import through the ingest path: uploads, the queue, the handler; all published?"""
    key, label = "scale.bulk_import", f"Scale: bulk import of {IMPORT_POSTS:,} posts through ingest"
    goal = f"all {IMPORT_POSTS:,} published (time and calls: none set)"
    blog = world.fresh(f"import{IMPORT_POSTS}")
    drained = Drained()
    slugs = []
    for start in range(0, IMPORT_POSTS, IMPORT_WAVE):
        for number in range(start, min(start + IMPORT_WAVE, IMPORT_POSTS)):
            post = corpus.post(number)
            blog.content.put(post.key, post.source, MARKDOWN_TYPE)
            slugs.append(post.slug)
        drain(world, blog, drained)
    if drained.errors:  # an AWS call failed: the import is not what it should be
        return [failed(key, label, goal, f"{len(drained.errors)} AWS call(s) failed, e.g. {drained.errors[0]}")]
    published = sum(getattr(blog.index.post(slug), "status", None) is model.Status.PUBLISHED for slug in slugs)
    calls = sum(drained.calls.values())
    per_post = {f"{service}:{operation}": round(n / IMPORT_POSTS, 2)
                for (service, operation), n in sorted(drained.calls.items())}
    breakdown = ", ".join(f"{name.split(':')[1]} {n:g}" for name, n in per_post.items())

    def figure() -> Figure:
        per_second = ratio(IMPORT_POSTS, drained.own_seconds)
        return judged(key, label,
                      f"{published:,} of {IMPORT_POSTS:,} published; {ms(drained.own_seconds / IMPORT_POSTS)} "
                      f"of our code and {calls / IMPORT_POSTS:g} AWS calls per post "
                      f"({breakdown})",
                      goal, published == IMPORT_POSTS, published=published, posts=IMPORT_POSTS,
                      own_posts_per_second=round(per_second, 1), calls_per_post=per_post,
                      handler_seconds_on_moto=round(drained.seconds, 1))

    return [guarded(key, label, goal, figure)]


def run(world: World) -> list[Figure]:
    """Reader requests at LARGE vs SMALL posts, the large archive's sitemaps, and a bulk import."""
    corpus = archive.Corpus()
    blogs = {SMALL: build(world, corpus, SMALL), LARGE: build(world, corpus, LARGE)}
    found = [*([search_index_figure(blogs)] if WITH_SEARCH else []), *request_figures(world, corpus, blogs)]
    found.append(guarded(SITEMAP_KEY, SITEMAP_LABEL.format(count=LARGE), SITEMAP_GOAL,
                         lambda: sitemap_figure(world, blogs[LARGE], LARGE)))
    found.append(worst_sitemap_figure())
    started = time.monotonic()
    found += import_figures(world, corpus)
    log(f"bulk import of {IMPORT_POSTS:,} posts", started)
    return found
