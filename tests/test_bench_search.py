"""The search benchmark's generated blogs and query mix (fast checks; nothing is timed here)."""
from __future__ import annotations

from bench import search as bench
from chalicelib.search import engine


def test_generated_posts_are_deterministic_and_shaped_like_posts():
    corpus = bench.Corpus()
    item, body, document = corpus.post(3)
    assert corpus.post(3)[1] == body and corpus.post(4)[1] != body
    assert bench.WORDS_PER_POST[0] <= len(body.split()) <= bench.WORDS_PER_POST[1]
    assert len(corpus.tags) == bench.TAG_NAMES and 1 <= len(item["tags"]) <= 4
    assert set(item["tags"]) <= set(corpus.tags) and document.slug == item["slug"]
    assert len(set(corpus.words)) == bench.VOCABULARY_WORDS


def test_every_query_of_the_mix_finds_what_it_is_for():
    corpus = bench.Corpus()
    store = bench.blog(corpus, 40)
    assert len(store.pending(100)) == bench.PENDING_POSTS  # the newest posts are not merged yet
    results = {name: engine.search(store, q) for name, q in bench.queries(corpus).items()}
    assert all(r.hits for name, r in results.items() if name != "typo")
    assert results["typo"].suggestion and not results["typo"].hits
    assert results["phrase"].query.phrases
    assert store.bytes_read > 0 and store.other_bytes == 0  # counted only when asked
    assert bench.figures_of(store, bench.queries(corpus))["other_bytes"] > 0


def test_time_per_result_compares_what_each_page_showed():
    own = {bench.SMALL: 0.012, bench.LARGE: 0.030}
    figure = bench.per_result_figure(own, {bench.SMALL: 120, bench.LARGE: 200})
    assert figure.status == "info" and figure.data["ratio"] == 1.5  # 0.150 ms a result vs 0.100 ms
    assert "0.150 ms a result, 200 shown; vs 0.100 ms, 120 shown" in figure.measured


def test_time_per_result_is_an_error_when_a_size_showed_nothing():
    row = bench.guarded("k", "label", "goal", lambda: bench.per_result_figure({bench.SMALL: 0.01, bench.LARGE: 0.01},
                                                                             {bench.SMALL: 0, bench.LARGE: 10}))
    assert row.status not in ("pass", "info") and "not a measurement" in row.measured
