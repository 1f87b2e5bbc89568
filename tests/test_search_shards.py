"""The search index at rest: hashing, shard encoding, merges, splits, pending entries, batches, manifest."""
from __future__ import annotations

import gzip
import json
import zlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.errors import CorruptIndex
from chalicelib.search import shards, text
from chalicelib.search.shards import Manifest, PendingEntry, Shard

DYNAMODB_ITEM_LIMIT = 400 * 1024


def doc(slug: str, body: str, title: str = "", date: str = "2024-01-02") -> text.Document:
    return text.analyze(slug, date, title, [], body)


def merged(shard: Shard, removed=None, added=None, generation=1, count=1, average_length=10.0):
    return shards.merge_shard(shard, removed or {}, added or {}, generation=generation, count=count,
                              average_length=average_length)


def test_shard_of_is_stable_and_in_range():
    assert shards.key_hash("kangaroo") == zlib.crc32(b"kangaroo")  # the same in every process
    for count in range(1, 70):
        assert {shards.shard_of(f"k{n}", count) for n in range(2000)} == set(range(count))


@settings(max_examples=60, deadline=None)
@given(count=st.integers(1, 300), keys=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=50))
def test_growing_by_one_shard_moves_only_the_split_shards_keys(count, keys):
    source = shards.split_source(count)
    for key in keys:
        before, after = shards.shard_of(key, count), shards.shard_of(key, count + 1)
        assert after == before or (before == source and after == count)


def test_encoding_round_trips_deterministically():
    shard = Shard(number=3, count=4, generation=2, completed=1,
                  terms={"box": [2, "a b", "120 80", "19000 18000"]}, prefixes={"kan": "kangaroo:2:"})
    data = shards.encode_shard(shard)
    assert data == shards.encode_shard(shard) and data[:2] == b"\x1f\x8b"  # gzip, same bytes every time
    assert shards.decode_shard(data, 3) == shard
    for reader in (shards.decode_shard(data, 3), shards.view_shard(data, 3)):
        assert reader.postings("box") == [("a", 120, 19000), ("b", 80, 18000)] and reader.df("box") == 2
        assert reader.completions("kan") == [("kangaroo", 2, "kangaroo")]
        assert reader.postings("bo") == [] and reader.df("kangaroo") == 0 and reader.completions("bo") == []
        assert reader.columns("box", 1) == (["a"], "120", "19000")  # numbers as stored: converted when scored


@pytest.mark.parametrize("limit", [0, 1, 2, 7, 30, 31, 40, -1])
def test_a_shard_view_reads_a_terms_best_postings_as_the_decoded_shard_does(limit):
    ids = [shards.doc_id(f"post-{n}") for n in range(30)]
    impacts = [str(300 - n) for n in range(30)]
    days = [str(19000 + n) for n in range(30)]
    days[1] = "1" * 40  # an item far longer than any a merge writes
    shard = Shard(number=0, terms={"box": [30, " ".join(ids), " ".join(impacts), " ".join(days)],
                                   "emu": [2, "ab12cd zz99yy", "7 8", "-4 12345678901"]})
    view = shards.view_shard(shards.encode_shard(shard), 0)
    for term in ("box", "emu"):
        assert view.columns(term, limit) == shard.columns(term, limit)
    if limit > 0:
        assert view.columns("box", limit)[0] == ids[:limit]


def test_a_shard_view_reads_a_frequency_alone_but_refuses_a_broken_one():
    data = gzip.compress(f"search-shard\t{shards.FORMAT}\t3\t1\t0\t0\n".encode() + b"box\t2\ta b\t1 2\t3 4\nemu\tx\ta\t1\t3\n")
    view = shards.view_shard(data, 3)
    assert view.df("box") == 2 and view.df("bo") == 0
    with pytest.raises(CorruptIndex):
        view.df("emu")


@pytest.mark.parametrize("data", [
    b"not gzip at all",
    gzip.compress(b"{}", mtime=0),
    shards.encode_shard(Shard(number=4)),  # another shard
    gzip.compress(f"search-shard\t{shards.FORMAT}\t3\t1\t0".encode(), mtime=0),  # a header cut short
    gzip.compress(b"search-shard\t1\t3\t1\t0\t0\n", mtime=0),  # format 1: postings of slugs
    shards.encode_shard(Shard(number=3))[:-9],  # truncated
])
def test_a_broken_shard_is_a_clear_error(data):
    with pytest.raises(CorruptIndex):
        shards.decode_shard(data, 3)
    with pytest.raises(CorruptIndex):
        shards.view_shard(data, 3)


def test_a_broken_entry_is_a_clear_error():
    data = gzip.compress(f"search-shard\t{shards.FORMAT}\t3\t1\t0\t0\n".encode() + b"box\t2\ta b\n")
    with pytest.raises(CorruptIndex):
        shards.decode_shard(data, 3)
    with pytest.raises(CorruptIndex):
        shards.view_shard(data, 3).postings("box")


@pytest.mark.parametrize("claimed", [0, 5, 10**9])
def test_a_shard_decodes_whatever_length_its_gzip_trailer_claims(claimed):
    shard = Shard(number=3, terms={f"t{n}": [1, f"post-{n}", "100", "19000"] for n in range(3000)})
    data = shards.encode_shard(shard)
    assert len(zlib.decompress(data, wbits=31)) > 2 * shards.GUNZIP_CHUNK  # (inflated in several chunks)
    lying = data[:-4] + claimed.to_bytes(4, "little")  # the decoded length, as the trailer says it
    with pytest.raises(CorruptIndex):  # zlib checks it once everything is read
        shards.view_shard(lying, 3)
    assert shards.view_shard(data, 3).postings("t2999") == [("post-2999", 100, 19000)]
    assert shards.decode_shard(data, 3) == shard


def test_a_shard_that_decodes_to_too_much_is_refused(monkeypatch):
    monkeypatch.setattr(shards, "MAX_SHARD_BYTES", 1000)
    bomb = gzip.compress(b" " * 100_000)  # 100 KB of spaces in 100-odd bytes
    with pytest.raises(CorruptIndex, match="over 1000 bytes"):
        shards.decode_shard(bomb, 0)


def test_merge_adds_updates_and_removes_postings():
    a, b = doc("a", "kangaroo kangaroo wombat"), doc("b", "kangaroo")
    shard, reported = merged(Shard(number=0), added={"a": a, "b": b})
    assert [p.doc for p in shard.postings("kangaroo")] == ["a", "b"]  # more mentions, more impact
    assert shard.df("kangaroo") == 2 and shard.df("wombat") == 1
    assert set(reported) == {"kangaroo", "wombat"}  # new terms: their completions change
    a2 = doc("a", "emu")  # a's new version: no kangaroo, no wombat
    shard, reported = merged(shard, removed={"a": {"kangaroo", "wombat"}}, added={"a": a2}, generation=2)
    assert [p.doc for p in shard.postings("kangaroo")] == ["b"] and shard.df("kangaroo") == 1
    assert "wombat" not in shard.terms and reported["wombat"] == (0, "wombat")
    assert "kangaroo" in reported  # 2 -> 1 crosses a power of two
    shard, _ = merged(shard, removed={"b": {"kangaroo"}}, generation=3)
    assert "kangaroo" not in shard.terms and shard.postings("emu")[0].doc == "a"


def test_merging_the_same_batch_twice_changes_nothing():
    shard, _ = merged(Shard(number=0), added={"a": doc("a", "kangaroo")}, generation=5)
    again, reported = merged(shard, added={"a": doc("a", "kangaroo")}, generation=5)
    assert again is shard and reported == {}
    assert again.df("kangaroo") == 1


def test_postings_are_cut_to_the_bound_but_the_frequency_stays_true(monkeypatch):
    monkeypatch.setattr(shards, "MAX_POSTINGS_PER_TERM", 3)
    added = {f"p{n}": doc(f"p{n}", "kangaroo " * (n + 1) + "filler " * 5) for n in range(6)}
    shard, _ = merged(Shard(number=0), added=added)
    assert [p.doc for p in shard.postings("kangaroo")] == ["p5", "p4", "p3"]  # the best three
    assert shard.df("kangaroo") == 6


def test_ties_keep_the_newest_first():
    added = {"old": doc("old", "kangaroo", date="2020-01-01"), "new": doc("new", "kangaroo", date="2024-01-01")}
    shard, _ = merged(Shard(number=0), added=added)
    assert [p.doc for p in shard.postings("kangaroo")] == ["new", "old"]


def test_completions_are_reported_when_the_frequency_crosses_a_power_of_two():
    shard = Shard(number=0)
    crossings = []
    for n in range(1, 10):
        shard, reported = merged(shard, added={f"p{n}": doc(f"p{n}", "kangaroo")}, generation=n)
        crossings += [n] if "kangaroo" in reported else []
    assert crossings == [1, 2, 4, 8]


def test_completions_rank_by_frequency_and_keep_a_bound(monkeypatch):
    monkeypatch.setattr(shards, "PREFIX_KEEP", 3)
    updates = {"kan": {"kangaroo": (5, "kangaroo"), "kanji": (9, "kanji"), "kant": (1, "kant"),
                       "kansa": (7, "kansas")}}
    shard = shards.merge_completions(Shard(number=0), updates, generation=1, count=1)
    assert shard.completions("kan") == [("kanji", 9, "kanji"), ("kansa", 7, "kansas"), ("kangaroo", 5, "kangaroo")]
    shard = shards.merge_completions(shard, {"kan": {"kanji": (0, "kanji")}}, generation=2, count=1)
    assert [c.term for c in shard.completions("kan")] == ["kansa", "kangaroo"]
    assert shards.merge_completions(shard, updates, generation=2, count=1) is shard  # already merged


def test_group_changes_sends_each_term_to_its_shard():
    entry = PendingEntry.of("a", "a", 2, doc("a", "kangaroo wombat emu koala"), indexed="dingo kangaroo", indexed_length=4)
    groups = shards.group_changes([entry], 4)
    for number, change in groups.items():
        for term in change.added.get("a", text.Document("a", 0, 0, {})).terms:
            assert shards.shard_of(term, 4) == number
        for term in change.removed.get("a", ()):
            assert shards.shard_of(term, 4) == number
    assert {t for c in groups.values() for t in c.removed.get("a", ())} == {"dingo", "kangaroo"}
    assert {t for c in groups.values() for t in c.added["a"].terms if "a" in c.added} >= {"kangaroo", "koala"}


def test_a_split_keeps_every_key_and_routes_it():
    shard = Shard(number=0, count=1, generation=4,
                  terms={f"t{n}": [1, "p", "1", "1"] for n in range(200)},
                  prefixes={f"p{n}x": "t1:1:" for n in range(50)})
    kept, moved = shards.split_shard(shard, 1)
    assert (kept.number, moved.number) == (0, 1) and kept.generation == moved.generation == 4
    assert kept.terms.keys() | moved.terms.keys() == shard.terms.keys() and kept.terms and moved.terms
    for part in (kept, moved):
        assert all(shards.shard_of(t, 2) == part.number for t in part.terms)
        assert all(shards.shard_of(shards.prefix_key(p), 2) == part.number for p in part.prefixes)
    with pytest.raises(ValueError):
        shards.split_shard(Shard(number=0), 3)  # growing 3 shards splits shard 3 - 2 = 1
    assert shards.split_shard(Shard(number=1), 3)[1].number == 3


def test_a_merge_after_an_interrupted_split_drops_the_strays():
    shard = Shard(number=0, count=1, terms={f"t{n}": [1, "p", "1", "1"] for n in range(50)})
    strays = [t for t in shard.terms if shards.shard_of(t, 2) == 1]
    result, _ = merged(shard, count=2)
    assert strays and not set(strays) & set(result.terms) and result.count == 2


def test_pending_entries_are_json_and_dynamodb_safe():
    document = doc("a", "Kangaroos hop; boxes stack.", title="Stories")
    entry = PendingEntry.of("a", "a", 3, document, indexed="old term", indexed_length=9)
    item = entry.to_item()
    assert json.loads(json.dumps(item)) == item
    assert all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in item.values())
    assert all(abs(v) < 10**38 for v in item.values() if isinstance(v, int))
    decimals = {k: Decimal(v) if isinstance(v, int) else v for k, v in item.items()}  # as boto3 reads them
    assert PendingEntry.from_item(decimals) == entry
    assert entry.document() == document
    assert entry.settled() == (" ".join(document.terms), document.length)
    gone = PendingEntry.of("a", "a", 4, None, indexed="old term")
    assert gone.removed and gone.document() is None and gone.settled() == ("", 0)
    with pytest.raises(CorruptIndex):
        PendingEntry.from_item({"slug": "a"})


def dynamodb_size(item: dict) -> int:
    """An item's size by DynamoDB's rules: names and UTF-8 strings by length, numbers ~1 byte per 2 digits + 1."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, bool):
            size += 1
        elif isinstance(value, int):
            size += (len(str(abs(value))) + 1) // 2 + 1
    return size


def test_ingest_writes_everything_but_what_merges_own():
    fields = shards.pending_fields("a", "a", 2, doc("a", "kangaroo"))
    assert "indexed" not in fields and "indexed_length" not in fields
    record = {"indexed": "emu", "indexed_length": 3, **fields}  # an update of the stored record
    assert PendingEntry.from_item(record) == PendingEntry.of("a", "a", 2, doc("a", "kangaroo"), "emu", 3)


def test_the_largest_pending_entry_fits_a_dynamodb_item_with_room_to_spare():
    # The worst a post can produce: distinct terms of the longest length, each with a form, until
    # MAX_DOC_TERMS_BYTES (2-byte letters that are still stemmed ('s' plural) would not be: forms are ASCII).
    longest = text.MAX_TERM_BYTES
    letters = ["".join("abcdefghijklmnopqrstuvwxyz"[n // 26**i % 26] for i in range(3)) for n in range(26**3)]
    words = [name + "x" * (longest - 4) + "s" for name in letters[:2_000]]
    document = text.analyze("a" * 100, "2024-01-02", "", [], " ".join(words * 3))
    assert len(document.forms) == len(document.terms) < len(words)  # the budget, not the words, ended it
    entry = PendingEntry.of("a" * 100, "a" * 100, 10**9, document, indexed=" ".join(document.terms), indexed_length=10**9)
    assert text.MAX_DOC_TERMS_BYTES - 200 < len(entry.terms) + len(entry.forms) <= text.MAX_DOC_TERMS_BYTES
    item = {**entry.to_item(), "pk": "SEARCH#" + "a" * 100, "sk": "SEARCH", "pending": "PENDING"}
    assert dynamodb_size(item) < DYNAMODB_ITEM_LIMIT * 0.6


def test_batches_and_progress_round_trip_and_refuse_garbage():
    entries = [PendingEntry.of("a", "a", 1, doc("a", "kangaroo")), PendingEntry.of("b", "b", 1, None, indexed="emu")]
    batch = shards.start_batch(Manifest(shards=2, docs=4, length=40, generation=7), entries)
    assert (batch.generation, batch.shards, batch.average_length) == (8, 2, 10)
    assert shards.decode_batch(shards.encode_batch(batch)) == batch
    progress = shards.Progress("completions", 3, {"emu": (0, "emu")}, -20)
    assert shards.decode_progress(shards.encode_progress(progress)) == progress
    assert shards.decode_progress(None) == shards.Progress()
    with pytest.raises(CorruptIndex):
        shards.decode_progress(gzip.compress(b'{"format": 1, "phase": "later", "done": 0}'))
    with pytest.raises(CorruptIndex):
        shards.decode_batch(gzip.compress(b'[1, 2]'))


def test_an_overlay_answers_from_the_pending_entries_reading_each_term_once():
    entries = [PendingEntry.of("new", "new", 1, doc("new", "kangaroo kangaroo emu")),
               PendingEntry.of("edited", "edited", 2, doc("edited", "emu"), indexed="kangaroo emu", indexed_length=2),
               PendingEntry.of("gone", "gone", 3, None, indexed="kangaroo")]
    overlay = shards.Overlay(entries, average_length=2.0)
    assert overlay.df_change("kangaroo") == 1 - 2 and overlay.df_change("emu") == 2 - 1
    assert [p.doc for p in overlay.postings("kangaroo")] == ["new"] and overlay.postings("koala") == ()
    first = overlay.postings("emu")
    assert overlay.postings("emu") is first and {p.doc for p in first} == {"new", "edited"}  # kept, not read again
    assert overlay.hidden == {"new", "edited", "gone"} and overlay.docs_change() == 2 - 2


PREFIX_ENTRIES = [
    PendingEntry.of("new", "n1", 1, doc("new", "kangaroo kangaroos kanga emu kangaroo")),
    PendingEntry.of("edited", "e1", 2, doc("edited", "kanga emu"), indexed="kangaroo kanji emu", indexed_length=3),
    PendingEntry.of("gone", "g1", 3, None, indexed="kanji kangaroo"),
    PendingEntry.of("other", "o1", 1, doc("other", "wombat")),
]
PREFIX_TERMS = ["kangaroo", "kanga", "kanji", "kan", "kang", "emu", "wombat", "koala"]


@pytest.mark.parametrize("bound", [100, 3])
def test_a_prefix_pass_answers_for_its_completions_as_term_lookups_do(monkeypatch, bound):
    monkeypatch.setattr(shards, "MAX_PREFIX_SCAN", bound)  # 3: more mentions than that, each term read alone
    alone = shards.Overlay(PREFIX_ENTRIES, average_length=3.0)
    expected = {t: (alone.postings(t), alone.df_change(t)) for t in PREFIX_TERMS}
    overlay = shards.Overlay(PREFIX_ENTRIES, average_length=3.0)
    # Entries in slug order, each one's heaviest first (the same whether the pass or the fallback answers)
    assert overlay.completions("kan", 10) == ["kanga", "kangaroo"] and overlay.completions("kan", 1) == ["kanga"]
    assert {t: (overlay.postings(t), overlay.df_change(t)) for t in PREFIX_TERMS} == expected
    assert expected["kanji"] == ((), -2) and [p.doc for p in expected["kangaroo"][0]] == ["n1"]


def test_a_prefix_pass_reads_the_entries_once_for_all_its_completions(monkeypatch):
    overlay = shards.Overlay(PREFIX_ENTRIES, average_length=3.0)
    overlay.completions("kan", 10)
    monkeypatch.setattr(shards.Overlay, "_terms", property(lambda self: pytest.fail("entries read again")),
                        raising=False)
    overlay.__dict__.pop("_terms")
    assert [p.doc for p in overlay.postings("kanga")] == ["e1", "n1"] and overlay.postings("kangaroos") == ()
    assert overlay.df_change("kanji") == -2 and overlay.postings("kangarooz") == ()


def test_the_manifest_after_a_batch_counts_documents_and_length():
    before = Manifest(shards=2, docs=10, length=100, generation=1, bytes=5000)
    entries = [PendingEntry.of("new", "new", 1, doc("new", "one two three")),
               PendingEntry.of("gone", "gone", 2, None, indexed="x y", indexed_length=20),
               PendingEntry.of("edited", "edited", 3, doc("edited", "four"), indexed="five six", indexed_length=2)]
    after = shards.start_batch(before, entries).manifest_after(before, 300)
    assert (after.docs, after.length, after.generation, after.bytes) == (10, 100 + 3 - 20 + 1 - 2, 2, 5300)


@pytest.mark.parametrize("data", [{"format": 2}, {"format": 1, "shards": 0, "docs": 0, "length": 0,
                                                  "generation": 0, "bytes": 0}, {"format": 1, "shards": "x"}])
def test_a_bad_manifest_is_a_clear_error(data):
    with pytest.raises(CorruptIndex):
        Manifest.from_dict(data)


def test_no_manifest_is_an_empty_index():
    manifest = Manifest.from_dict(None)
    assert (manifest.shards, manifest.docs, manifest.average_length) == (1, 0, 1.0)
    assert Manifest.from_dict(manifest.to_dict()) == manifest


def test_a_document_id_is_short_stable_and_another_for_each_attempt():
    first = shards.doc_id("a-long-slug-as-most-posts-have-one")
    assert first == shards.doc_id("a-long-slug-as-most-posts-have-one") and len(first) == shards.DOC_ID_CHARS
    assert set(first) <= set(shards.DOC_ID_DIGITS) and " " not in first
    assert len({shards.doc_id("a", n) for n in range(50)}) == 50


def test_claiming_a_document_id_skips_those_other_slugs_hold():
    owners = {shards.doc_id("b"): "someone-else"}
    assert shards.claim_doc_id(owners, "b") == shards.doc_id("b", 1) == shards.claim_doc_id(owners, "b")
    assert owners[shards.doc_id("b")] == "someone-else" and owners[shards.doc_id("b", 1)] == "b"
