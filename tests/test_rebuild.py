"""The scheduled rebuild against moto: repairs, publication of scheduled posts, idempotence."""
from __future__ import annotations

import datetime as dt
import time

from chalicelib import rebuild
from chalicelib.store import SEARCH_ARTIFACT_KEY
from conftest import source


def run(index, content, clock):
    return rebuild.rebuild(index, content, clock())


def test_missed_upload_is_indexed(index, content, clock):
    content.put("posts/missed.md", source("Missed"), "text/markdown")  # its event never arrived
    report = run(index, content, clock)
    assert report.repaired == [{"key": "posts/missed.md", "action": "published"}]
    assert index.get_post("missed")["status"] == "published"


def test_missed_deletion_is_applied(publish, index, content, clock):
    publish("posts/gone.md", source("Gone"))
    content.delete("posts/gone.md")  # moto sends no event for delete markers
    run(index, content, clock)
    assert index.get_post("gone")["status"] == "deleted"
    assert index.listing("9999", 10).items == []


def test_scheduled_post_goes_live_when_its_time_comes(publish, index, content, clock):
    publish("posts/later.md", source("Later", date="2026-06-02", tags=["Soon"]))
    run(index, content, clock)
    assert index.get_post("later")["status"] == "scheduled"
    assert index.get_site()["tags"] == {}
    clock.advance(days=2)
    report = run(index, content, clock)
    assert report.went_live == ["later"]
    assert index.get_post("later")["status"] == "published"
    assert index.get_site()["tags"] == {"soon": {"name": "Soon", "count": 1}}


def test_tag_counts_and_archive_count_public_posts_only(publish, index, content, clock):
    publish("posts/a.md", source("A", date="2024-01-05", tags=["x", "y"]))
    publish("posts/b.md", source("B", date="2024-02-05", tags=["x"]))
    publish("posts/c.md", source("C", date="2024-02-06", tags=["x"], draft=True))
    run(index, content, clock)
    site = index.get_site()
    assert site["tags"] == {"x": {"name": "x", "count": 2}, "y": {"name": "y", "count": 1}}
    assert site["months"] == {"2024-01": 1, "2024-02": 1}
    assert site["public_posts"] == 2


def test_navigation_links_neighbours_and_related_posts(publish, index, content, clock):
    publish("posts/one.md", source("One", date="2024-01-01", tags=["a"]))
    publish("posts/two.md", source("Two", date="2024-01-02", tags=["b"]))
    publish("posts/three.md", source("Three", date="2024-01-03", tags=["a"]))
    run(index, content, clock)
    nav = index.get_post("two")["nav"]
    assert nav["newer"] == {"slug": "three", "title": "Three"}
    assert nav["older"] == {"slug": "one", "title": "One"}
    assert index.get_post("one")["nav"]["related"] == [{"slug": "three", "title": "Three"}]


def test_rebuild_of_an_unchanged_bucket_writes_nothing(publish, index, content, clock, calls):
    publish("posts/a.md", source("A", tags=["x"], aliases=["old-a"]))
    publish("posts/b.md", source("B", draft=True))
    publish("posts/c.md", b"broken")
    run(index, content, clock)
    calls.clear()
    report = run(index, content, clock)
    assert calls.writes() == []
    assert report.writes == 0
    assert report.repaired == []


def test_drifted_memberships_are_repaired(publish, index, content, clock):
    publish("posts/a.md", source("A", tags=["x"]))
    tx = index.transaction()
    tx.delete({"pk": "TAG#x", "sk": index.get_post("a")["listing_sk"]})
    tx.put({"pk": "TAG#stale", "sk": "2020-01-01T00:00:00Z#zzz", "slug": "zzz"})
    index.commit(tx)
    run(index, content, clock)
    assert [i["slug"] for i in index.tag_listing("x", "9999", 10).items] == ["a"]
    assert index.tag_listing("stale", "9999", 10).items == []


def test_report_lists_errors_for_editors(publish, index, content, clock):
    publish("posts/bad.md", b"---\ntitle: x\n---\n")
    report = run(index, content, clock)
    assert report.errors[0]["key"] == "posts/bad.md"
    assert "date" in report.errors[0]["message"]
    assert index.get_site()["report"]["errors"] == report.errors


def test_search_artifact_is_built_and_reused(publish, index, content, clock, calls):
    publish("posts/a.md", source("Alpha", body="kangaroo words"))
    run(index, content, clock)
    artifact = content.read_artifact(SEARCH_ARTIFACT_KEY)
    assert [d["slug"] for d in artifact["docs"]] == ["a"]
    assert "kangaroo" in artifact["docs"][0]["terms"]
    publish("posts/b.md", source("Beta", body="wombat"))
    calls.clear()
    run(index, content, clock)
    body_reads = [c for c in calls.keys() if c == ("s3", "GetObject")]
    assert len(body_reads) == 2  # the previous artifact and b's body; a's terms are reused


class SlowContent:
    """The content store, with every listing of the bucket taking `delay` seconds longer."""

    def __init__(self, content, delay: float) -> None:
        self._content, self._delay = content, delay

    def list(self, prefix: str):
        time.sleep(self._delay)
        return self._content.list(prefix)

    def __getattr__(self, name: str):
        return getattr(self._content, name)


def test_rebuild_reports_duration_and_counts(publish, index, content, clock):
    publish("posts/a.md", source("A"))
    started = time.monotonic()
    report = run(index, SlowContent(content, delay=0.2), clock)
    took_ms = (time.monotonic() - started) * 1000
    assert report.sources == 1
    assert report.posts == {"published": 1}
    assert 200 <= report.duration_ms <= took_ms  # in milliseconds, and the whole run's
    assert dt.datetime.fromisoformat(report.started_at.replace("Z", "+00:00")) == clock()


def test_a_stale_snapshot_never_puts_back_a_drafts_membership(publish, index, content, clock):
    publish("posts/a.md", source("A", tags=["x"]))
    tx = index.transaction()  # drift: the membership went missing
    tx.delete({"pk": "TAG#x", "sk": index.get_post("a")["listing_sk"]})
    index.commit(tx)
    snapshot = rebuild.Snapshot.of(index.scan())
    publish("posts/a.md", source("A", tags=["x"], draft=True))  # ingest, between read and write
    assert rebuild._apply_memberships(index, snapshot) == 0
    assert rebuild._apply_post_updates(index, snapshot, {"a": {"status": "published"}}, rebuild.Report("")) == 0
    assert index.tag_listing("x", "9999", 10).items == []
    assert index.get_post("a")["status"] == "draft"
