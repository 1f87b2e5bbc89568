"""The search benchmark's generated blogs and query mix (fast checks; nothing is timed here)."""
from __future__ import annotations

from bench import search as bench
from bench import timing
from chalicelib.search import engine


def test_generated_posts_are_deterministic_and_shaped_like_posts():
    corpus = bench.Corpus()
    item, body, document = corpus.post(3)
    assert corpus.post(3)[1] == body and corpus.post(4)[1] != body
    assert bench.WORDS_PER_POST[0] <= len(body.split()) <= bench.WORDS_PER_POST[1]
    assert len(corpus.tags) == bench.TAG_NAMES and 1 <= len(item["tags"]) <= 5
    assert set(item["tags"]) <= {*corpus.tags, bench.TAG} and document.slug == item["slug"]
    assert len(set(corpus.words)) == bench.VOCABULARY_WORDS


def test_every_query_of_both_mixes_finds_what_it_is_for():
    corpus = bench.Corpus()
    store = bench.blog(corpus, 40)
    assert len(store.pending(100)) == bench.PENDING_POSTS  # the newest posts are not merged yet
    for mix in (bench.queries(corpus), bench.drawn_queries(corpus)):
        results = {name: engine.search(store, q) for name, q in mix.items()}
        assert all(r.hits for name, r in results.items() if name != "typo")
        assert results["typo"].suggestion and not results["typo"].hits
        assert results["phrase"].query.phrases
    assert store.bytes_read > 0 and store.other_bytes == 0  # counted only when asked
    assert bench.figures_of(store, bench.queries(corpus))["other_bytes"] > 0


def test_the_planted_words_find_the_same_posts_in_every_blog():
    corpus = bench.Corpus()
    mix = bench.queries(corpus)
    small, large = bench.blog(corpus, bench.SMALL), bench.blog(corpus, 3 * bench.SMALL)
    for name in ("rare word", "phrase", "tag", "three words"):
        found = [sorted(h.slug for h in engine.search(store, mix[name]).hits) for store in (small, large)]
        assert found[0] == found[1] and found[0], name
    rare = engine.search(small, mix["rare word"]).hits
    assert sorted(int(h.slug.split("-")[1]) for h in rare) == sorted(bench.RARE_POSTS)
    assert [h.slug for h in engine.search(small, mix["phrase"]).hits] == [corpus.post(bench.PHRASE_POST)[0]["slug"]]
    assert len(engine.search(small, mix["tag"]).hits) == engine.PAGE_SIZE  # a full page already


def test_time_per_result_compares_what_each_page_showed():
    own = {bench.SMALL: 0.012, bench.LARGE: 0.030}
    figure = bench.per_result_figure(own, {bench.SMALL: 120, bench.LARGE: 200})
    assert figure.status == "info" and figure.data["ratio"] == 1.5  # 0.150 ms a result vs 0.100 ms
    assert "0.150 ms a result, 200 shown; vs 0.100 ms, 120 shown" in figure.measured


def test_time_per_result_is_an_error_when_a_size_showed_nothing():
    row = bench.guarded("k", "label", "goal", lambda: bench.per_result_figure({bench.SMALL: 0.01, bench.LARGE: 0.01},
                                                                             {bench.SMALL: 0, bench.LARGE: 10}))
    assert row.status not in ("pass", "info") and "not a measurement" in row.measured


def test_the_stores_reads_are_timed_apart_from_the_engines_work(monkeypatch):
    store = bench.blog(bench.Corpus(), 30)
    reads: list[str] = []
    tick = lambda: reads.append("read") or len(reads)  # noqa: E731 (a clock that moves one tick a reading)
    monkeypatch.setattr(bench, "clock", tick)
    monkeypatch.setattr(timing, "clock", tick)
    before = store.spent
    own, total = bench.timed_search(store, bench.queries(bench.Corpus())["two words"])
    # manifest, shards (twice: the words, then their completions), pending, slugs, posts: a tick each
    spent = store.spent - before
    assert spent == (len(reads) - 2) // 2 >= 6 and total == len(reads) - 1 and own == total - spent
