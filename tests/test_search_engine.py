"""The search engine end to end on a MemoryStore: pending entries, merges, splits, excerpts, bounds."""
from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from chalicelib.search import engine, query, shards, snippets, text
from chalicelib.search.shards import Manifest


def put(store: engine.MemoryStore, slug: str, body: str, title: str = "", date: str = "2024-01-02",
        rev: int = 1, public: bool = True, tags: tuple[str, ...] = ()) -> None:
    title = title or slug
    item = {"slug": slug, "title": title, "date": date, "rev": rev, "public": public, "tags": list(tags)}
    store.put_post(item, body, text.analyze(slug, date, title, tags, body))


def slugs(store: engine.MemoryStore, q: str) -> list[str]:
    return [hit.slug for hit in engine.search(store, q).hits]


@pytest.fixture
def store() -> engine.MemoryStore:
    store = engine.MemoryStore()
    put(store, "kangaroos", "A kangaroo hops across the red plain.", title="Kangaroo facts")
    put(store, "wombats", "Wombats dig burrows; a kangaroo sometimes shelters there.")
    put(store, "boxes", "Pack heavy things in small boxes.", title="Moving boxes")
    store.refresh()
    return store


def test_a_new_post_is_found_before_any_merge(store):
    put(store, "emus", "An emu cannot walk backwards, like a kangaroo.")
    assert store.pending(10) and slugs(store, "emu") == ["emus"]
    assert "emus" in slugs(store, "kangaroo")
    store.refresh()
    assert not store.pending(10) and slugs(store, "emu") == ["emus"]


def test_an_edit_replaces_the_old_words_before_the_merge(store):
    put(store, "wombats", "Wombats dig burrows with strong claws.", rev=2)
    assert slugs(store, "kangaroo") == ["kangaroos"]  # the stale posting is hidden
    assert slugs(store, "claws") == ["wombats"]
    store.refresh()
    assert slugs(store, "kangaroo") == ["kangaroos"] and slugs(store, "claws") == ["wombats"]
    assert "wombats" not in _shard_slugs(store, "kangaroo")  # gone from the shards too


def test_a_deleted_or_unpublished_post_disappears_at_once(store):
    store.delete_post("boxes", rev=2)
    put(store, "kangaroos", "A kangaroo hops.", title="Kangaroo facts", rev=2, public=False)  # drafted again
    assert slugs(store, "boxes") == [] and slugs(store, "kangaroo") == ["wombats"]
    store.refresh()
    assert slugs(store, "boxes") == [] and slugs(store, "kangaroo") == ["wombats"]
    assert Manifest.from_dict(store.manifest()).docs == 1


def test_a_private_post_is_never_shown_even_if_the_index_still_has_it(store):
    store.items["boxes"]["public"] = False  # made private; its pending entry not written yet
    assert slugs(store, "boxes") == []
    results = engine.search(store, "boxes")
    assert results.total == 0 and results.hits == ()


def test_results_carry_the_current_item_a_score_and_an_excerpt(store):
    results = engine.search(store, "kangaroo")
    assert [h.slug for h in results.hits] == ["kangaroos", "wombats"]  # the title counts more
    first = results.hits[0]
    assert first.item["title"] == "Kangaroo facts" and first.score > results.hits[1].score > 0
    assert isinstance(first.snippet, Markup) and "<mark>kangaroo</mark>" in first.snippet
    assert results.total == 2 and results.suggestion is None


def test_equal_scores_list_the_newest_first():
    store = engine.MemoryStore()
    for slug, date in [("b-old", "2020-01-01"), ("a-new", "2024-01-01"), ("c-mid", "2022-01-01")]:
        put(store, slug, "kangaroo", title="Same", date=date)
    store.refresh()
    assert slugs(store, "kangaroo") == ["a-new", "c-mid", "b-old"]


def test_the_first_merge_of_a_blog_scores_against_its_own_average_length():
    """Impacts use the index's average length with the batch (or the pending posts) in: scored against
    an empty index's average of 1, a new blog's first posts (an import: a whole batch) had every long
    post's impacts squashed near the floor, ranked below any short post merged after them."""
    filler = " ".join(f"filler{n}" for n in range(60))
    fresh = engine.MemoryStore()
    put(fresh, "guide", f"{filler} kangaroo", title="Kangaroo guide")  # in the title, in a long post
    put(fresh, "aside", "A kangaroo, in passing.")  # once, in a short post
    assert slugs(fresh, "kangaroo") == ["guide", "aside"]  # pending, before any merge
    store = engine.MemoryStore()
    put(store, "guide", f"{filler} kangaroo", title="Kangaroo guide")
    store.refresh()  # the blog's first batch
    put(store, "aside", "A kangaroo, in passing.")
    store.refresh()
    assert slugs(store, "kangaroo") == ["guide", "aside"]


def test_did_you_mean_offers_a_known_word(store):
    results = engine.search(store, "kangaroi boxes")
    assert results.hits == () and results.suggestion == "kangaroo boxes"
    assert engine.search(store, "zzzzzz").suggestion is None


def test_did_you_mean_offers_the_word_as_written_in_the_posts():
    """A term's completion reads as the shortest word the batch's posts wrote for it: a post that has
    the word itself counts (it carries no form), whatever the order of the batch."""
    store = engine.MemoryStore()
    put(store, "a-herd", "Wombats everywhere, wombats all day.")
    put(store, "b-one", "A wombat naps.")
    store.refresh()
    assert engine.search(store, "wombta").suggestion == "wombat"
    older = engine.MemoryStore()  # the plural merged first, the word itself in a later batch
    put(older, "a-herd", "Wombats everywhere, wombats all day.")
    older.refresh()
    put(older, "b-one", "A wombat naps.")
    older.refresh()
    assert engine.search(older, "wombta").suggestion == "wombat"
    assert engine.search(older, "wombtas").suggestion == "wombats"  # in the number typed


def test_did_you_mean_knows_the_words_of_posts_not_merged_yet():
    store = engine.MemoryStore()
    put(store, "kangaroos", "A kangaroo hops.")
    store.refresh()
    put(store, "herd", "Wombats everywhere, wombats all day.")  # pending: the next merge has it
    assert engine.search(store, "wombtas").suggestion == "wombats"
    assert engine.search(store, "wombta").suggestion == "wombat"  # in the number typed
    store.refresh()
    assert engine.search(store, "wombtas").suggestion == "wombats"  # the same once merged


def test_a_merge_cut_short_resumes_to_the_same_index(monkeypatch):
    monkeypatch.setattr(shards, "SHARD_TARGET_BYTES", 300)  # many shards
    whole = engine.MemoryStore()
    stepwise = engine.MemoryStore()
    for target in (whole, stepwise):
        for n in range(30):
            put(target, f"post-{n}", f"word{n} kangaroo common{n % 3} and more words here")
    engine.merge(whole)
    calls = 0
    while True:
        report = engine.merge(stepwise, budget=2)
        calls += 1
        if report.finished:
            break
        assert stepwise.batch() is not None and slugs(stepwise, "word7") == ["post-7"]  # pending still answers
    assert calls > 2 and stepwise.batch() is None and not stepwise.pending(100)
    assert stepwise.shard_data == whole.shard_data and stepwise.manifest_data == whole.manifest_data


class Crashing(engine.MemoryStore):
    """A store whose next `fail_after` shard writes succeed and the one after raises."""

    fail_after = -1

    def put_shards(self, shards: Mapping[int, bytes]) -> None:
        if self.fail_after == 0:
            raise RuntimeError("the run died")
        self.fail_after -= 1
        super().put_shards(shards)


def test_a_merge_that_dies_midway_is_finished_by_the_next_run(monkeypatch):
    monkeypatch.setattr(engine, "MERGE_CHUNK", 1)
    monkeypatch.setattr(shards, "SHARD_TARGET_BYTES", 300)  # many shards
    clean, crashing = engine.MemoryStore(), Crashing()
    for target in (clean, crashing):
        for n in range(40):
            put(target, f"post-{n}", f"word{n} kangaroo shared{n % 4} text")
        target.refresh()
    for n in range(5):  # a second batch, on an index of many shards
        for target in (clean, crashing):
            put(target, f"late-{n}", f"late{n} kangaroo", rev=1)
    clean.refresh()
    crashing.fail_after = 3
    with pytest.raises(RuntimeError):
        engine.merge(crashing)
    assert crashing.batch() is not None
    crashing.fail_after = -1  # the next run goes well
    crashing.refresh()
    assert crashing.shard_data == clean.shard_data
    crashed, expected = dict(crashing.manifest_data), dict(clean.manifest_data)
    estimate = crashed.pop("bytes")  # an estimate: a crash may lose one chunk's growth
    assert abs(estimate - expected.pop("bytes")) < 0.1 * estimate and crashed == expected
    assert slugs(crashing, "late3") == ["late-3"]


def test_a_newer_revision_during_a_merge_stays_pending(store):
    put(store, "emus", "An emu.", rev=1)
    engine.merge(store, budget=0)  # the batch is open, nothing written yet
    put(store, "emus", "An emu and an ostrich.", rev=2)
    store.refresh()
    record = store.records["emus"]
    assert not record["pending"] and record["rev"] == 2 and "ostrich" in record["indexed"]
    assert slugs(store, "ostrich") == ["emus"]


def test_shards_split_as_the_index_grows_and_answers_stay_the_same(monkeypatch):
    monkeypatch.setattr(shards, "SHARD_TARGET_BYTES", 400)
    store = engine.MemoryStore()
    for n in range(60):
        put(store, f"post-{n}", f"word{n} kangaroo shared{n % 5} stories boxes")
        if n % 20 == 19:
            store.refresh()
    manifest = Manifest.from_dict(store.manifest())
    assert manifest.shards > 4
    stored = sum(map(len, store.shard_data.values()))
    assert stored <= 400 * manifest.shards and abs(manifest.bytes - stored) < 0.05 * stored
    assert slugs(store, "word42") == ["post-42"] and len(slugs(store, "kangaroo")) == engine.PAGE_SIZE
    assert engine.search(store, "kangaroo").total == 60 and engine.search(store, "shared3").total == 12
    assert slugs(store, "story box word7") == ["post-7"]


def grown_store(monkeypatch: pytest.MonkeyPatch) -> engine.MemoryStore:
    """One shard holding 120 posts, then a target that wants it split in dozens (as after a bulk import)."""
    monkeypatch.setattr(shards, "SHARD_TARGET_BYTES", 1 << 20)
    store = engine.MemoryStore()
    for n in range(120):
        put(store, f"post-{n}", f"word{n} kangaroo shared{n % 7} stories")
    engine.merge(store)
    assert Manifest.from_dict(store.manifest()).shards == 1
    monkeypatch.setattr(shards, "SHARD_TARGET_BYTES", 100)
    return store


def test_splits_made_side_by_side_store_what_one_by_one_stores(monkeypatch):
    together, alone = grown_store(monkeypatch), grown_store(monkeypatch)
    grown = engine.grow(together)
    monkeypatch.setattr(engine, "MERGE_CHUNK", 1)
    assert engine.grow(alone) == grown > 2 * engine.MERGE_CHUNK  # crosses levels and chunks
    assert together.shard_data == alone.shard_data and together.manifest_data == alone.manifest_data
    assert Manifest.from_dict(together.manifest()).shards == grown + 1 and not engine.grow(together)
    assert slugs(together, "word77") == ["post-77"] and engine.search(together, "shared3").total == 17


def test_a_grow_that_dies_between_its_writes_loses_nothing(monkeypatch):
    store = grown_store(monkeypatch)
    crashing = Crashing(manifest_data=store.manifest_data, shard_data=dict(store.shard_data),
                        records=store.records, owners=store.owners, items=store.items, texts=store.texts)
    crashing.fail_after = 1  # the new shards and the manifest are written, the kept halves are not
    with pytest.raises(RuntimeError):
        engine.grow(crashing)
    assert Manifest.from_dict(crashing.manifest()).shards > 1
    assert [slugs(crashing, f"word{n}") for n in range(120)] == [[f"post-{n}"] for n in range(120)]
    crashing.fail_after = -1  # the next run finishes the growth
    engine.grow(crashing)
    assert engine.search(crashing, "kangaroo").total == 120 and slugs(crashing, "word5") == ["post-5"]


def test_an_interrupted_split_loses_nothing(monkeypatch, store):
    count = Manifest.from_dict(store.manifest()).shards
    source = shards.split_source(count)
    kept, moved = shards.split_shard(shards.decode_shard(store.shard_data[source], source), count)
    store.put_shards({count: shards.encode_shard(moved)})
    store.put_manifest({**store.manifest(), "shards": count + 1})  # and the run dies before writing `kept`
    assert slugs(store, "kangaroo") == ["kangaroos", "wombats"] and slugs(store, "boxes") == ["boxes"]


def test_a_query_reads_a_bounded_number_of_shards_and_pending_entries(monkeypatch):
    monkeypatch.setattr(shards, "SHARD_TARGET_BYTES", 300)
    store = engine.MemoryStore()
    for n in range(80):
        put(store, f"post-{n}", f"alpha{n} beta{n} gamma kangaroo{n} kangaroo")
    store.refresh()
    reads: list[int] = []
    original = store.shards
    store.shards = lambda numbers: reads.append(len(numbers)) or original(numbers)
    words = " ".join(f"word{n}" for n in range(30)) + " kang"
    engine.search(store, words)
    assert len(reads) <= 3  # words, then completions; a third call only for "did you mean"
    assert sum(reads) <= query.MAX_QUERY_WORDS + 1 + query.MAX_PREFIX_EXPANSIONS * 2
    seen: list[int] = []
    store.pending = lambda limit: seen.append(limit) or []
    engine.search(store, "kangaroo")
    assert seen == [query.MAX_PENDING]


def test_a_query_reads_a_bounded_part_of_the_pending_entries(monkeypatch):
    monkeypatch.setattr(query, "MAX_PENDING_BYTES", 2000)
    store = engine.MemoryStore()
    for n in range(40):
        put(store, f"post-{n:02d}", f"kangaroo word{n} " + " ".join(f"filler{n}x{i}" for i in range(20)))
    found = engine.search(store, "kangaroo")
    assert 0 < found.total < 40  # the first pending entries, up to the byte bound
    store.refresh()
    assert engine.search(store, "kangaroo").total == 40


def test_the_last_word_completes_only_while_it_is_no_word_of_the_blog():
    store = engine.MemoryStore()
    put(store, "gallery", "Modern art on the walls.")
    put(store, "painter", "An artist paints every day.")
    put(store, "writer", "How to write an article.")
    store.refresh()
    assert slugs(store, "art") == ["gallery"]  # a word: itself only
    assert slugs(store, "arti") == ["painter", "writer"] or slugs(store, "arti") == ["writer", "painter"]
    assert slugs(store, "artis") == ["painter"]
    assert slugs(store, "art ") == ["gallery"] and slugs(store, "arti ") == []  # typing is over


def test_a_completion_brings_only_its_best_postings(monkeypatch):
    monkeypatch.setattr(query, "MAX_COMPLETION_POSTINGS", 2)
    store = engine.MemoryStore()
    for n in range(5):
        put(store, f"post-{n}", "kangaroo " * (n + 1) + "filler words here")
    put(store, "kangaroos", "kangaroo", title="Kangaroos")
    store.refresh()
    assert slugs(store, "kang") == ["kangaroos", "post-4"]  # 'kangaroo' completes 'kang': its best two
    assert len(slugs(store, "kangaroo")) == 6  # the word itself: every posting


def test_candidates_are_bounded(monkeypatch, store):
    for n in range(query.MAX_CANDIDATES + 20):
        put(store, f"extra-{n}", "kangaroo")
    store.refresh()
    found = query.find(query.parse_query("kangaroo "), Manifest.from_dict(store.manifest()), store.shards, [])
    assert len(found.ranked) == query.MAX_CANDIDATES and found.total == query.MAX_CANDIDATES + 22
    results = engine.search(store, "kangaroo")
    assert len(results.hits) == engine.PAGE_SIZE and results.total == query.MAX_CANDIDATES + 22
    assert not results.exact  # counted by the index, not every post checked
    assert engine.search(store, "boxes").exact


def test_phrases_are_checked_in_the_text_and_the_title(store):
    put(store, "rescue", "The lifeguard saved one swimmer.")
    put(store, "seats", "A seat is saved for one latecomer.", title="One saved seat")
    assert slugs(store, '"saved one"') == ["rescue"]
    assert slugs(store, '"one saved"') == ["seats"]
    assert sorted(slugs(store, "saved one")) == ["rescue", "seats"]


def test_words_joined_without_a_space_must_appear_together():
    store = engine.MemoryStore()
    put(store, "release", "Upgrade to version 3.5 of Kangaroo.js today; don't wait.", title="Release notes")
    put(store, "scattered", "Kangaroo hops 3 metres and 5 more; js files: don wrote them, t is for time.")
    store.refresh()
    assert slugs(store, "kangaroo.js") == ["release"]
    assert slugs(store, "kangaroo 3.5") == ["release"]
    assert slugs(store, "don't") == ["release"]
    assert sorted(slugs(store, "kangaroo js")) == ["release", "scattered"]  # apart: any order, anywhere
    assert "<mark>Kangaroo.js</mark>" in engine.search(store, "kangaroo.js").hits[0].snippet


def excerpt(body: str, q: str, headings: tuple[str, ...] = (), required: tuple[int, ...] = (),
            terms: tuple[frozenset[str], ...] = ()) -> snippets.Excerpt:
    parsed = query.parse_query(q)
    return snippets.excerpt(body, parsed, terms or [frozenset({w.term}) for w in parsed.words], headings, required)


def test_excerpts_escape_hostile_text_and_mark_only_words():
    body = 'Say <script>alert("kangaroo")</script> & <b onclick=x>kangaroos</b> \'hop\''
    html = str(excerpt(body, "kangaroo").html)
    assert "<script" not in html and "<b " not in html and "onclick" not in html.split("&lt;b ")[0]
    assert html.count("<mark>") == 2 and re.sub(r"</?mark>", "", html).count("<") == 0
    assert "&lt;script&gt;" in html and "&amp;" in html and "&#x27;hop&#x27;" in html
    assert "<mark>kangaroos</mark>" in html


def test_an_excerpt_is_a_bounded_window_around_the_most_of_the_query():
    filler = "Lorem ipsum dolor sit amet. " * 40
    body = f"Kangaroo once. {filler}Here a kangaroo meets a wombat in the same sentence. {filler}"
    html = str(excerpt(body, "kangaroo wombat").html)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>kangaroo</mark> meets a <mark>wombat</mark>" in html
    assert len(re.sub(r"</?mark>", "", html)) <= snippets.SNIPPET_CHARS + 2
    plain = str(excerpt("No match at all here. " * 50, "kangaroo").html)
    assert plain.startswith("No match") and plain.endswith("…") and len(plain) <= snippets.SNIPPET_CHARS + 1


def test_a_phrase_is_marked_whole_and_checked():
    found = excerpt("We saved one joey, and one saved us.", '"saved one"')
    assert found.has_phrases and "<mark>saved one</mark>" in found.html
    assert not excerpt("One saved us.", '"saved one"').has_phrases
    assert excerpt("Nothing here.", '"one saved"', headings=("One Saved Seat",)).has_phrases


def test_a_phrase_is_found_by_its_longest_word(monkeypatch):
    found = excerpt("We saw a kangaroo hop, then a big kangaroo.", 'big "a big kangaroo"')
    assert found.has_phrases and "<mark>a big kangaroo</mark>" in found.html
    assert "<mark>big</mark>" not in found.html  # marked alone before the anchor was met, then taken in
    assert not excerpt("A kangaroo was big.", '"a big kangaroo"').has_phrases
    assert excerpt("Ä big kangaroo.", '"a big kangaroo"').has_phrases  # looking back through a folded text
    looked_at = []
    stem = text.stem
    monkeypatch.setattr(text, "stem", lambda word: looked_at.append(word) or stem(word))
    busy = "an apple and an axe are all around " * 200 + "a kangaroo"
    assert excerpt(busy, '"a kangaroo"').has_phrases
    assert len(looked_at) < 10  # not every word that begins with 'a' (1,600 of them here)


def test_excerpts_fold_texts_whose_folding_changes_lengths():
    found = excerpt("Die Straße ist lang, e\u0301clairs au café.", "strasse eclair")
    assert "<mark>Straße</mark>" in found.html and "<mark>e\u0301clairs</mark>" in found.html


def test_excerpts_scan_a_bounded_part_of_a_long_text():
    body = "word " * (snippets.MAX_SCAN_CHARS // 5) + '"late phrase"'
    assert not excerpt(body, '"late phrase"').has_phrases  # beyond the scan: not seen
    assert excerpt("late phrase " + body, '"late phrase"').has_phrases



def test_an_excerpt_reads_the_text_only_until_a_window_has_every_word():
    body = "A kangaroo met a wombat. " + "Then nothing. " * 40 + "kangaroo " * 1500
    seen = excerpt(body, "kangaroo wombat")
    assert [m.start for m in seen.marks] == [2, 17]  # the thousand mentions after its window are never read
    assert seen.has_words([0, 1]) and seen.html.startswith("A <mark>kangaroo</mark> met a <mark>wombat</mark>.")
    assert len(excerpt(body, "kangaroo platypus").marks) == 1501  # a word missing: every mention is read
    assert len(excerpt(body, "kangaroo", headings=("Kangaroo",)).marks) == 1  # a heading's word needs no mark
    missing = excerpt(body, "kangaroo platypus", required=(1,))  # a word the index could not vouch for
    assert missing.marks == [] and not missing.has_words([1])  # no word begins 'platypus': nothing more is read
    assert excerpt(body, "kangaroo wombat", required=(1,)).has_words([1])


def test_a_prefix_and_its_completions_mark_each_word_once():
    seen = excerpt("Kangaroos and a kangaroo met a kangkong.", "kang", terms=(frozenset({"kang", "kangaroo"}),))
    assert [seen.text[m.start:m.end] for m in seen.marks] == ["Kangaroos", "kangaroo"]
    assert snippets._shortest({"kangaroo", "kang", "wombat", "wom"}) == ("kang", "wom")

def _shard_slugs(store: engine.MemoryStore, term: str) -> list[str]:
    """The slugs of `term`'s postings in its shard, best first."""
    count = Manifest.from_dict(store.manifest()).shards
    number = shards.shard_of(term, count)
    return [store.owners[p.doc] for p in shards.decode_shard(store.shard_data[number], number).postings(term)]


@pytest.mark.parametrize("q", ["kangaroo", "kanga"])
def test_one_word_reads_its_best_postings_only_and_finds_what_all_of_them_find(monkeypatch, q):
    store = engine.MemoryStore()
    for n in range(150):
        put(store, f"post-{n:03d}", " ".join(["kangaroo"] * (1 + n % 13) + ["kangaroos"] * (n % 3) + ["filler"] * 20),
            date=f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}")
    store.refresh()
    for n in sorted(range(150), key=lambda n: -(n % 13))[:50]:  # the best 50, edited and not merged yet:
        put(store, f"post-{n:03d}", "emu " * (n % 7) + "emu", rev=2)  # their old postings are hidden
    columns: list[int] = []
    monkeypatch.setattr(shards.ShardView, "columns", lambda self, term, limit=-1: columns.append(limit) or
                        shards.Shard.columns(self, term, limit))
    cut = engine.search(store, q)
    assert columns and max(columns) == query.MAX_CANDIDATES + 50 and -1 not in columns
    monkeypatch.setattr(query, "MAX_CANDIDATES", 10_000)  # every posting read
    whole = engine.search(store, q)
    assert [(h.slug, h.score) for h in cut.hits] == [(h.slug, h.score) for h in whole.hits]
    assert len(cut.hits) == engine.PAGE_SIZE and cut.total == whole.total >= 100


def test_only_the_hits_shown_are_excerpted(monkeypatch, store):
    put(store, "rescue", "The lifeguard saved one swimmer.")
    put(store, "seats", "A seat is saved for one latecomer.")
    rendered: list[str] = []
    original = snippets._render
    monkeypatch.setattr(snippets, "_render", lambda text, marks: rendered.append(text) or original(text, marks))
    found = engine.search(store, '"saved one"')
    assert [h.slug for h in found.hits] == ["rescue"] and "<mark>saved one</mark>" in found.hits[0].snippet
    assert rendered == ["The lifeguard saved one swimmer."]  # "seats" was checked for the phrase, not excerpted
    rendered.clear()
    kept = engine.search(store, "kangaroo", limit=1)  # two posts match: a chunk of candidates is checked
    assert [h.slug for h in kept.hits] == ["kangaroos"] and len(rendered) == 1  # the other is never cut


def test_posts_a_common_words_cut_postings_miss_are_found_through_their_text(monkeypatch):
    monkeypatch.setattr(shards, "MAX_POSTINGS_PER_TERM", 3)
    store = engine.MemoryStore()
    for n in range(4):  # kangaroo's best postings: four posts about little else
        put(store, f"kangaroo-{n}", "kangaroo " * 6 + "hops")
    put(store, "both", "A wombat met one kangaroo among many other animals of the plain at dusk.")
    put(store, "wombat-only", "A wombat dug a burrow under the old gum tree at the edge of the plain.")
    store.refresh()
    assert "both" not in _shard_slugs(store, "kangaroo")
    found = engine.search(store, "wombat kangaroo")
    assert [hit.slug for hit in found.hits] == ["both"]  # its text has the word; wombat-only's has not
    assert "<mark>kangaroo</mark>" in found.hits[0].snippet
    assert found.total == 1 and not found.exact  # more may have both words: the page says "1+"


def test_the_other_words_keep_only_the_postings_of_the_rarest_words_posts(monkeypatch):
    store = engine.MemoryStore()
    for n in range(6):
        put(store, f"plain-{n}", "plain " * (8 - n) + "grass")
    put(store, "wombat-plain", "wombat " * 4 + "plain grass")
    put(store, "wombat-burrow", "wombat " * 4 + "burrow grass")
    store.refresh()
    kept: list[int] = []
    original = query._word_postings

    def word_postings(*args, **kwargs):
        found, members = original(*args, **kwargs)
        kept.append(sum(len(postings.ids) for postings in found))
        return found, members
    monkeypatch.setattr(query, "_word_postings", word_postings)
    found = engine.search(store, "grass plain wombat")
    assert [hit.slug for hit in found.hits] == ["wombat-plain"] and found.total == 1 and found.exact
    # wombat (2 posts) is read first; grass (8) and plain (7) keep their postings of wombat's posts only
    assert kept == [2, 2, 1]


def test_with_every_words_postings_cut_the_rarest_words_best_are_checked_for_the_rest(monkeypatch):
    monkeypatch.setattr(shards, "MAX_POSTINGS_PER_TERM", 2)
    store = engine.MemoryStore()
    for n in range(3):
        put(store, f"plain-{n}", "plain " * 8 + "grass")
    put(store, "wombat-plain", "wombat " * 4 + "plain")
    put(store, "wombat-burrow", "wombat " * 4 + "burrow")
    put(store, "wombat-tree", "wombat" + " tree" * 6)
    store.refresh()
    assert "wombat-plain" not in _shard_slugs(store, "plain")
    found = engine.search(store, "plain wombat")  # both cut, wombat the rarer: its best two are checked
    assert [hit.slug for hit in found.hits] == ["wombat-plain"]



def test_the_uncertain_candidates_are_ranked_only_when_the_certain_ones_leave_the_page_short(monkeypatch):
    monkeypatch.setattr(shards, "MAX_POSTINGS_PER_TERM", 3)
    store = engine.MemoryStore()
    put(store, "both-0", "wombat " * 6 + "plain " * 6)
    put(store, "both-1", "wombat " * 5 + "plain " * 5)
    put(store, "wombat-plain", "wombat " * 4 + "plain" + " grass" * 10)  # among both words' best three: certain
    put(store, "only-wombat", "wombat" + " grass" * 60)
    put(store, "plain-a", "plain " * 8)
    put(store, "plain-b", "plain " * 7)
    store.refresh()
    ranked: list[int] = []
    original = query._uncertain

    def uncertain(*args, **kwargs):
        found = original(*args, **kwargs)
        ranked.append(len(found))
        return found
    monkeypatch.setattr(query, "_uncertain", uncertain)
    monkeypatch.setattr(engine, "CHECK_CHUNK", 1)  # (they are ranked once a chunk to check would hold them)
    assert [h.slug for h in engine.search(store, "wombat plain", limit=1).hits] == ["wombat-plain"]
    assert ranked == []  # the page is full of certain posts: the others are never ranked
    found = engine.search(store, "wombat plain", limit=3)
    assert [h.slug for h in found.hits] == ["wombat-plain", "both-0", "both-1"] and ranked == [2]


ANIMALS = ("emu", "koala", "wombat", "dingo", "quokka", "numbat", "bilby", "possum")


@settings(max_examples=300, deadline=None)
@given(bodies=st.lists(st.lists(st.sampled_from(ANIMALS), min_size=1, max_size=12), min_size=3, max_size=25),
       waiting=st.integers(0, 4), limit=st.integers(1, 30),
       words=st.lists(st.sampled_from(ANIMALS), min_size=2, max_size=3, unique=True))
def test_a_query_finds_only_posts_with_every_word_and_all_of_them_when_one_words_postings_are_whole(
        bodies, waiting, limit, words):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shards, "MAX_POSTINGS_PER_TERM", limit)
        store = engine.MemoryStore()
        for n, body in enumerate(bodies):
            if n == len(bodies) - waiting:
                store.refresh()  # the last `waiting` posts are still pending
            put(store, f"post-{n}", " ".join(body) + ".", title=f"Post {n}")
        if not waiting:
            store.refresh()
        found = engine.search(store, " ".join(words) + " ")
    having = {f"post-{n}" for n, body in enumerate(bodies) if set(words) <= set(body)}
    hits = {hit.slug for hit in found.hits}
    assert hits <= having  # never a post without every word
    merged = bodies[:len(bodies) - waiting]
    whole = [w for w in words if sum(w in body for body in merged) <= limit]
    if whole and len(having) <= engine.PAGE_SIZE:
        assert hits == having  # a word's postings are whole: every post with every word is among them


@settings(max_examples=200, deadline=None)
@given(bodies=st.lists(st.lists(st.sampled_from(ANIMALS), min_size=1, max_size=12), min_size=3, max_size=25),
       edits=st.dictionaries(st.integers(0, 24), st.lists(st.sampled_from(ANIMALS), max_size=12), max_size=8),
       words=st.lists(st.sampled_from(ANIMALS), min_size=1, max_size=3, unique=True))
def test_posts_edited_added_or_deleted_since_the_merge_rank_as_the_merge_will_rank_them(bodies, edits, words):
    store = engine.MemoryStore()
    for n, body in enumerate(bodies):
        put(store, f"post-{n}", " ".join(body) + ".", title=f"Post {n}")
    store.refresh()
    for n, body in edits.items():  # an empty body deletes the post; a number past the posts adds one
        if not body:
            store.delete_post(f"post-{n}", rev=2)
        else:
            put(store, f"post-{n}", " ".join(body) + ".", title=f"Post {n}", rev=2)
    q = " ".join(words) + " "
    pending = engine.search(store, q)
    store.refresh()
    merged = engine.search(store, q)
    assert [(h.slug, h.score) for h in pending.hits] == [(h.slug, h.score) for h in merged.hits]
    assert pending.total == merged.total


def test_a_word_whose_postings_are_cut_bounds_nothing_while_another_words_are_whole(monkeypatch):
    monkeypatch.setattr(shards, "MAX_POSTINGS_PER_TERM", 3)
    store = engine.MemoryStore()
    for n in range(3):
        put(store, f"dingo-{n}", "dingo " * 6 + "sand")  # dingo's best three
    put(store, "both", "A dingo met an emu by the creek at dusk.")
    put(store, "emu-1", "An emu ran along the fence.")
    put(store, "emu-2", "The emu drank from the creek.")
    store.refresh()
    put(store, "emu-3", "An emu again.")  # pending: emu is on 5 posts, dingo on 4, so dingo is read first...
    put(store, "emu-4", "Emu tracks in the sand.")
    found = engine.search(store, "dingo emu ")
    assert [hit.slug for hit in found.hits] == ["both"]  # ...but emu's postings are whole: they bound the answer
