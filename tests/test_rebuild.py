"""The scheduled rebuild against moto: repairs, time, the search queue, and an idle run's cost."""
from __future__ import annotations

import gzip

import time

from chalicelib import model, rebuild
from chalicelib.model import PostRecord, Status, Tombstone
from conftest import source


def run(index, content, clock):
    return rebuild.rebuild(index, content, clock())


def counts(index, partition: str) -> dict[str, int]:
    return {c.name: c.count for c in index.counts(partition, 100).items}


def test_missed_upload_is_indexed(index, content, clock):
    content.put("posts/missed.md", source("Missed"), "text/markdown")  # its event never arrived
    report = run(index, content, clock)
    assert report.repaired == [{"key": "posts/missed.md", "action": "published"}]
    assert index.post("missed").status is Status.PUBLISHED


def test_missed_deletion_is_applied(publish, index, content, clock):
    publish("posts/gone.md", source("Gone"))
    content.delete("posts/gone.md")  # moto sends no event for delete markers
    run(index, content, clock)
    assert isinstance(index.post("gone"), Tombstone)
    assert index.listing("9999", 10).items == []


def test_missed_edit_of_a_rejected_file_is_indexed(publish, index, content, clock):
    publish("posts/bad.md", b"---\ntitle: x\n---\n")
    content.put("posts/bad.md", source("Fixed"), "text/markdown")
    run(index, content, clock)
    assert index.post("bad").card.title == "Fixed"


def test_a_repair_names_what_a_cdn_must_drop(index, content, clock):
    content.put("posts/missed.md", source("Missed"), "text/markdown")
    assert run(index, content, clock).stale == ["/*"]
    assert run(index, content, clock).stale == []


def test_an_unchanged_bucket_costs_a_listing_and_no_scan(publish, index, content, clock, calls):
    publish("posts/a.md", source("A", tags=["x"], aliases=["old-a"]))
    publish("posts/b.md", source("B", draft=True))
    publish("posts/c.md", b"broken")
    run(index, content, clock)
    calls.clear()
    report = run(index, content, clock)
    assert calls.writes() == []
    assert report.writes == 0 and report.repaired == [] and report.shards_checked == 0
    assert ("dynamodb", "Scan") not in calls.keys()
    assert sorted(set(calls.keys())) == [("dynamodb", "GetItem"), ("dynamodb", "Query"), ("s3", "ListObjectsV2")]


def test_only_shards_that_moved_are_compared(publish, index, content, clock):
    for n in range(6):
        publish(f"posts/p{n}.md", source(f"P{n}"))
    assert run(index, content, clock).shards_checked == model.SHARD_COUNT  # the first run compares every shard
    publish("posts/p0.md", source("P0 edited"))
    assert run(index, content, clock).shards_checked == 1
    assert run(index, content, clock).shards_checked == 0


def test_scheduled_post_goes_live_when_its_time_comes(publish, index, content, clock):
    publish("posts/later.md", source("Later", date="2026-06-02", tags=["Soon"]))
    run(index, content, clock)
    assert index.post("later").status is Status.SCHEDULED
    assert counts(index, model.TAGS_PK) == {}
    clock.advance(days=2)
    report = run(index, content, clock)
    assert report.went_live == ["later"]
    assert report.stale == ["/*"]  # a CDN in front drops every page the new post may appear on
    assert index.post("later").status is Status.PUBLISHED
    assert counts(index, model.TAGS_PK) == {"soon": 1}
    assert index.due(model.SCHEDULED_PK, "9999", 10) == []


def test_a_post_held_back_by_publish_date_is_listed_only_when_it_goes_live(publish, index, content, clock):
    publish("posts/held.md", source("Held", date="2026-05-01", publishDate="2026-06-03", tags=["t"]))
    record = index.post("held")
    assert record.status is Status.SCHEDULED and not record.listed
    assert index.listing("9999", 10).items == []
    clock.advance(days=3)
    run(index, content, clock)
    assert [c.slug for c in index.listing("9999", 10).items] == ["held"]


def test_an_expired_post_is_taken_down(publish, index, content, clock):
    publish("posts/brief.md", source("Brief", tags=["t"], expiryDate="2026-06-02"))
    assert counts(index, model.TAGS_PK) == {"t": 1}
    clock.advance(days=2)
    report = run(index, content, clock)
    assert report.expired == ["brief"]
    assert index.post("brief").status is Status.EXPIRED
    assert index.listing("9999", 10).items == []
    assert counts(index, model.TAGS_PK) == {}


def test_a_run_merges_search_batches_back_to_back_within_its_time(publish, index, content, clock, monkeypatch):
    import functools

    from chalicelib import search_index
    from chalicelib.search import engine

    monkeypatch.setattr(engine, "merge", functools.partial(engine.merge, batch_docs=2))  # a bulk import's queue
    for name in "abcde":
        publish(f"posts/{name}.md", source(name.upper(), body=f"kangaroo {name}word"))
    assert search_index.merge_queue(index, content, clock(), until=0.0) == 2  # out of time: one batch
    assert len(index.search_queue(10)) == 3
    assert run(index, content, clock).search_merged == 3  # in time: batch after batch, until empty
    assert index.search_queue(10) == []
    assert search_index.search(index, content, clock(), "kangaroo").total == 5


def test_search_queue_is_merged_into_the_stored_index(publish, remove, index, content, clock):
    from chalicelib import search_index

    publish("posts/a.md", source("Alpha", body="kangaroo words"))
    publish("posts/b.md", source("Beta", body="wombat"))
    assert len(index.search_queue(10)) == 2
    report = run(index, content, clock)
    assert report.search_merged == 2
    assert index.search_queue(10) == []
    assert [h.slug for h in search_index.search(index, content, clock(), "kangaroo").hits] == ["a"]
    assert index.get(search_index.MANIFEST_KEY)["manifest"]["docs"] == 2
    remove("posts/b.md")
    assert search_index.search(index, content, clock(), "wombat").hits == ()  # at once, before any merge
    run(index, content, clock)
    assert search_index.search(index, content, clock(), "wombat").hits == ()
    assert index.get(model.text_key("b")) is None
    assert index.get(search_index.MANIFEST_KEY)["manifest"]["docs"] == 1


def test_a_post_claims_a_document_id_that_search_turns_back_into_its_slug(publish, index, content, clock):
    from chalicelib import search_index
    from chalicelib.search import shards

    publish("posts/a.md", source("Alpha", body="kangaroo words"))
    doc = shards.doc_id("a")
    assert index.get(model.doc_key(doc))["slug"] == "a" and index.get(model.text_key("a"))["doc"] == doc
    run(index, content, clock)
    shard_keys = [ref.key for ref in content.list(search_index.SHARD_PREFIX)]
    stored = b"".join(gzip.decompress(content.read_many(shard_keys)[key]) for key in shard_keys)
    assert f"\t{doc}\t".encode() in stored and b"\ta\t" not in stored  # postings name the id, not the slug
    assert [h.slug for h in search_index.search(index, content, clock(), "kangaroo").hits] == ["a"]


def test_a_slug_whose_document_id_another_slug_holds_takes_its_next_one(publish, index, content, clock):
    from chalicelib import search_index
    from chalicelib.search import shards

    index.put({**model.doc_key(shards.doc_id("b")), "slug": "someone-else"})  # the 1 in a billion, made to happen
    publish("posts/b.md", source("Beta", body="wombat"))
    second = shards.doc_id("b", 1)
    assert index.get(model.text_key("b"))["doc"] == second and index.get(model.doc_key(second))["slug"] == "b"
    assert index.get(model.doc_key(shards.doc_id("b")))["slug"] == "someone-else"  # untouched
    assert [h.slug for h in search_index.search(index, content, clock(), "wombat").hits] == ["b"]  # pending
    run(index, content, clock)
    publish("posts/b.md", source("Beta", body="wombat platypus"))  # an edit finds its own id again
    assert index.get(model.text_key("b"))["doc"] == second
    run(index, content, clock)
    assert [h.slug for h in search_index.search(index, content, clock(), "platypus").hits] == ["b"]


def test_a_renamed_post_leaves_the_index_under_its_old_id(publish, index, content, clock):
    from chalicelib import search_index
    from chalicelib.search import shards

    publish("posts/a.md", source("Alpha", body="kangaroo"))
    run(index, content, clock)
    publish("posts/a.md", source("Alpha", body="kangaroo", slug="alpha"))
    run(index, content, clock)
    assert [h.slug for h in search_index.search(index, content, clock(), "kangaroo").hits] == ["alpha"]
    found = search_index.search(index, content, clock(), "kangaroo")
    assert found.total == 1 and index.get(search_index.MANIFEST_KEY)["manifest"]["docs"] == 1
    assert index.get(model.doc_key(shards.doc_id("a")))["slug"] == "a"  # kept: an id never changes hands


def test_a_scheduled_post_is_searchable_only_once_it_goes_live(publish, index, content, clock):
    from chalicelib import search_index

    publish("posts/later.md", source("Later", date="2026-06-02", body="platypus"))
    run(index, content, clock)
    assert search_index.search(index, content, clock(), "platypus").hits == ()
    clock.advance(days=2)
    run(index, content, clock)  # it goes live, and its waiting entry is merged
    assert [h.slug for h in search_index.search(index, content, clock(), "platypus").hits] == ["later"]


def test_report_is_bounded_and_kept_on_the_site_item(index, content, clock):
    for n in range(rebuild.MAX_REPORTED + 5):
        content.put(f"posts/m{n}.md", source(f"M{n}"), "text/markdown")
    report = run(index, content, clock)
    assert report.repaired_count == rebuild.MAX_REPORTED + 5
    assert len(report.repaired) == rebuild.MAX_REPORTED
    assert index.get_site()["report"]["repaired_count"] == rebuild.MAX_REPORTED + 5


class SlowContent:
    """The content store, with every listing of the bucket taking `delay` seconds longer."""

    def __init__(self, content, delay: float) -> None:
        self._content, self._delay = content, delay

    def list(self, prefix: str):
        time.sleep(self._delay)
        return self._content.list(prefix)

    def __getattr__(self, name: str):
        return getattr(self._content, name)


def test_rebuild_reports_what_it_saw_and_how_long_it_took(publish, index, content, clock):
    publish("posts/a.md", source("A"))
    started = time.monotonic()
    report = rebuild.rebuild(index, SlowContent(content, 0.2), clock())
    took_ms = (time.monotonic() - started) * 1000
    assert report.sources == 1
    assert 200 <= report.duration_ms <= took_ms  # in milliseconds, and the whole run's
    assert report.started_at == model.utc_text(clock())


def test_time_never_undoes_an_edit_made_meanwhile(publish, index, content, clock):
    publish("posts/later.md", source("Later", date="2026-06-02", tags=["x"]))
    clock.advance(days=2)
    stale = index.post("later")
    publish("posts/later.md", source("Later", date="2026-06-02", tags=["x"], draft=True))  # ingest, meanwhile
    from chalicelib import transitions
    from chalicelib.store import ConflictError

    try:
        index.commit(transitions.time_passed(stale, clock()).writes())
    except ConflictError:
        pass
    assert index.post("later").status is Status.DRAFT
    assert index.group(model.tag_group("x"), "9999", 10).items == []
    assert isinstance(index.post("later"), PostRecord)


def test_a_run_out_of_time_stops_and_the_next_carries_on(index, content, clock):
    for n in range(40):
        content.put(f"posts/m{n}.md", source(f"M{n}"), "text/markdown")  # none ingested
    first = rebuild.rebuild(index, content, clock(), budget_seconds=0)
    assert first.shards_checked == 1 and first.shards_left == model.SHARD_COUNT - 1
    runs = 1
    while rebuild.rebuild(index, content, clock(), budget_seconds=0).shards_left:
        runs += 1
    assert runs == model.SHARD_COUNT - 1
    assert len(index.listing("9999", 100).items) == 40
    assert run(index, content, clock).shards_checked == 0  # everything agreed, and nothing was lost


def test_digests_are_saved_as_the_run_goes(index, content, clock, calls):
    run(index, content, clock)
    puts = [c for c in calls.keys() if c == ("dynamodb", "PutItem")]
    assert len(puts) >= model.SHARD_COUNT // rebuild.SAVE_EVERY_SHARDS
