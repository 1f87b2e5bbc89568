"""The scale benchmark's helpers: the generated archive and the memory meter that leaves AWS calls out.

Fast checks of the measuring code only; no benchmark runs here and nothing is timed.
"""
from __future__ import annotations

import datetime as dt

import boto3
import moto
import pytest

from bench import corpus as archive
from bench.figures import FAIL, INFO, PASS
from bench.scale import OwnMemory, Sample, judge, requests, worst_sitemap_figure
from bench.timing import ColdCaches
from chalicelib import feeds, posts

MB = 1024 * 1024


@pytest.fixture(scope="module")
def corpus() -> archive.Corpus:
    return archive.Corpus()


def test_a_post_is_the_same_in_every_blog(corpus):
    assert archive.Corpus().post(1234) == corpus.post(1234)


def test_generated_posts_parse_with_their_tags_and_author(corpus):
    made = corpus.post(3)
    post = posts.parse_post(made.key, made.source)
    assert post.slug == made.slug and post.title
    assert [t.name for t in post.tags] == list(made.tags)
    assert archive.WORDS_PER_POST[0] * 0.9 <= len(post.body.split()) <= archive.WORDS_PER_POST[1] * 1.2


def test_the_core_is_the_current_month_and_names_every_tag_and_author(corpus):
    core = [corpus.post(n) for n in range(archive.CORE)]
    month = archive.CURRENT_MONTH.strftime("%Y-%m")
    assert all(p.date.startswith(month) for p in core)
    assert not corpus.post(archive.CORE).date.startswith(month)
    assert {t for p in core for t in p.tags} == set(corpus.tags)
    assert {p.author for p in core} == set(archive.AUTHORS)
    assert all(p.tags[0] == corpus.tags[0] for p in core)  # the top tag's first page is the same at every size


def test_older_posts_are_older(corpus):
    dates = [dt.datetime.fromisoformat(corpus.post(n).date.replace("Z", "+00:00")) for n in (0, 99, 100, 5_000)]
    assert dates == sorted(dates, reverse=True)


def test_the_rare_word_is_in_one_post_only(corpus):
    holding = [n for n in range(archive.CORE + 20) if archive.RARE_WORD.encode() in corpus.post(n).source]
    assert holding == [archive.RARE_POST]


def test_every_reader_request_is_named(corpus):
    assert set(requests(corpus)) >= {"home", "post", "tag", "archive month", "search (rare word)", "feed",
                                      "sitemap index", "sitemap page", "API list"}
    assert set(requests(corpus)) - set(requests(corpus, with_search=False)) == {"search (rare word)",
                                                                                 "search (common word)"}


def test_own_memory_counts_our_allocations_but_not_those_inside_an_aws_call():
    memory = OwnMemory()
    kept: list[bytes] = []

    def work(inside_call: bool) -> None:
        kept.append(bytes(MB))  # ours, and kept: counts
        if inside_call:
            memory._entering()
        scratch = bytes(8 * MB)  # what moto would allocate and drop while answering
        del scratch
        if inside_call:
            memory._leaving()

    assert MB <= memory.peak(lambda: work(inside_call=True)) < 2 * MB
    assert memory.peak(lambda: work(inside_call=False)) >= 9 * MB


def test_the_worst_case_sitemap_ends_at_the_byte_cap():
    figure = worst_sitemap_figure()
    assert figure.data["bytes"] > feeds.MAX_SITEMAP_BYTES - 1000 and 0 < figure.data["urls"] < feeds.MAX_SITEMAP_URLS


def samples(own: float, items: int, calls: tuple[tuple[str, str], ...] = (("dynamodb", "Query"),)) -> list[Sample]:
    return [Sample(200, own, calls, items, 100 * items)] * 3


def test_a_page_is_judged_by_its_ratio_and_the_sitemap_index_by_its_one_query():
    home = {f.key: f for f in judge("home", "/", samples(0.001, 11), samples(0.002, 11), [100], [100])}
    assert home["scale.own_time.home"].status == FAIL and home["scale.memory.home"].status == PASS
    index = {f.key: f for f in judge("sitemap index", "/sitemap.xml", samples(0.001, 1), samples(0.002, 19),
                                     [100], [300])}
    assert index["scale.own_time.sitemap_index"].status == INFO  # it lists a file per month: it grows
    assert index["scale.memory.sitemap_index"].status == INFO
    reads = index["scale.reads.sitemap_index"]
    assert reads.status == PASS and reads.measured.startswith("19 vs 1 items")  # one Query, one item per month
    many = judge("sitemap index", "/sitemap.xml", samples(0.001, 1), samples(0.001, 19, (("dynamodb", "Query"),) * 2),
                 [100], [100])
    assert [f.status for f in many if f.key == "scale.reads.sitemap_index"] == [FAIL]  # a second Query


def test_cold_caches_flush_inside_each_aws_call_while_attached():
    caches = ColdCaches(size=MB)
    seen: list[str] = []
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.meta.events.register("provide-client-params", lambda **_: seen.append("call starts"))
        s3.meta.events.register("after-call", lambda **_: seen.append("call answered"))
        with caches.attached([s3]):
            s3.meta.events.register("response-received", lambda **_: seen.append(f"flushed {caches.flushes}"))
            s3.list_buckets()
        s3.list_buckets()
    # Inside the calls' window (the recorder's, so not in own time), once per call, and only while attached.
    assert seen == ["call starts", "flushed 1", "call answered", "call starts", "flushed 1", "call answered"]
    assert caches.flushes == 1
