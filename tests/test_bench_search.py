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
