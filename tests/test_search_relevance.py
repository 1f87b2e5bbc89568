"""Search relevance on a corpus of our own (tests/data/search): expected results for each query.

The posts go through the same steps as on the blog: front matter parsed, Markdown rendered
to plain text, analysed, stored as pending entries and merged into shards; the queries
run through `engine.search` as the site runs them.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib import posts, render, sanitizer
from chalicelib.search import engine, text

CORPUS = Path(__file__).parent / "data" / "search"
QUERIES = json.loads((CORPUS / "queries.json").read_text(encoding="utf-8"))


def load_corpus(store: engine.MemoryStore) -> None:
    """Every post of the corpus into `store`, as ingest would put it."""
    for path in sorted((CORPUS / "posts").glob("*.md")):
        post = posts.parse_post(f"posts/{path.name}", path.read_bytes())
        plain = sanitizer.text_of_html(render.render_markdown(post.body).html)
        date = post.date.strftime("%Y-%m-%dT%H:%M:%SZ")
        tags = [t.name for t in post.tags]
        item = {"slug": post.slug, "title": post.title, "date": date, "tags": tags, "rev": 1}
        store.put_post(item, plain, text.analyze(post.slug, date, post.title, tags, plain))


@pytest.fixture(scope="module")
def corpus() -> engine.MemoryStore:
    store = engine.MemoryStore()
    load_corpus(store)
    store.refresh()
    return store


def test_the_corpus_is_big_enough_to_mean_something(corpus):
    assert len(corpus.items) >= 40 and len(QUERIES) >= 30
    assert not corpus.pending(1)  # everything merged: the queries read shards


@pytest.mark.parametrize("case", QUERIES, ids=[c["q"] for c in QUERIES])
def test_query_finds_the_expected_posts(corpus, case):
    results = engine.search(corpus, case["q"])
    found = [hit.slug for hit in results.hits]
    assert bool(results.query) == case.get("searchable", True)
    if "ranked" in case:
        assert found == case["ranked"], case["why"]
    if "all" in case:
        assert sorted(found) == sorted(case["all"]), case["why"]
    if "first" in case:
        assert found[:1] == [case["first"]], case["why"]
    if "top" in case:
        assert set(found[:len(case["top"])]) == set(case["top"]), case["why"]
    assert results.suggestion == case.get("suggestion"), case["why"]
    assert results.total == len(found)


def test_same_answers_before_the_merge(corpus):
    """Pending entries answer like the shards do: a post is findable the moment it is ingested."""
    fresh = engine.MemoryStore()
    load_corpus(fresh)
    for case in QUERIES:
        if "suggestion" in case:
            continue  # suggestions come from the shards' completions only
        expected = [h.slug for h in engine.search(corpus, case["q"]).hits]
        assert [h.slug for h in engine.search(fresh, case["q"]).hits] == expected, case["q"]
