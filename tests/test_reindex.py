"""`blogctl reindex`: a search index made before document ids (format 1) started over, against moto."""
from __future__ import annotations

import pytest

from blogctl import cli, reindex
from blogctl.resources import ensure_resources, ensure_search_queue_index
from chalicelib import aws, model, rebuild, search_index, services
from chalicelib.errors import CorruptIndex
from chalicelib.search import shards
from chalicelib.store import SEARCH_QUEUE_FIELDS, table_definition
from conftest import NOW, publish_now, source

OLD_QUEUE_FIELDS = [name for name in SEARCH_QUEUE_FIELDS if name != "doc"]


def found(index, content, clock, words: str) -> list[str]:
    return sorted(hit.slug for hit in search_index.search(index, content, clock(), words).hits)


def search_queue_projection(table: str) -> dict:
    described = aws.client("dynamodb").describe_table(TableName=table)["Table"]
    return next(i for i in described["GlobalSecondaryIndexes"] if i["IndexName"] == model.SEARCH_INDEX)["Projection"]


def old_search_queue_index(table: str) -> None:
    """The `search_queue` index as tables made before document ids have it: no `doc` in its projection."""
    dynamodb = aws.client("dynamodb")
    dynamodb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": model.SEARCH_INDEX}}])
    wanted = next(i for i in table_definition(table)["GlobalSecondaryIndexes"] if i["IndexName"] == model.SEARCH_INDEX)
    old = {**wanted, "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": OLD_QUEUE_FIELDS}}
    dynamodb.update_table(TableName=table, AttributeDefinitions=table_definition(table)["AttributeDefinitions"],
                          GlobalSecondaryIndexUpdates=[{"Create": old}])


def made_before_document_ids(index, table: str) -> None:
    """The table as the code before document ids left it: a format-1 manifest, search records without
    `doc` (in their entries and in the entries waiting on them), no `DOC#` items, the old queue index."""
    for item in list(index.scan()):
        if item["pk"].startswith(model.DOC_PREFIX):
            aws.client("dynamodb").delete_item(TableName=table, Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})
        elif item["sk"] == model.TEXT_SK:
            item.pop("doc", None)
            if item.get("waiting"):
                item["waiting"].pop("doc", None)
            index.put(item)
    manifest = index.get(search_index.MANIFEST_KEY)
    if manifest is not None:
        index.put({**manifest, "manifest": {**manifest["manifest"], "format": 1}})
    old_search_queue_index(table)


@pytest.fixture
def old_blog(publish, index, content, clock, names):
    """Three posts merged into a format-1 index, and a fourth still queued from before document ids."""
    publish("posts/alpha.md", source("Alpha", body="kangaroo alpha"))
    publish("posts/beta.md", source("Beta", body="kangaroo beta"))
    publish("posts/gamma.md", source("Gamma", body="wombat gamma"))
    search_index.merge_queue(index, content, clock())
    publish("posts/delta.md", source("Delta", body="kangaroo delta"))
    made_before_document_ids(index, names.table)
    with pytest.raises(CorruptIndex):
        search_index.search(index, content, clock(), "kangaroo")
    return names


def start_over(index, content, names) -> reindex.Report:
    report = reindex.Report(index_changes=ensure_search_queue_index(aws.client("dynamodb"), names.table,
                                                                    sleep=lambda _: None))
    return reindex.reindex(index, content, sleep=lambda _: None, report=report)


def merge(index, content, clock) -> int:
    return search_index.merge_queue(index, content, clock(), until=float("inf"))


def test_reindex_makes_a_format_1_index_searchable_again(old_blog, index, content, clock):
    report = start_over(index, content, old_blog)
    assert report.ok and report.index_changes  # the queue index was rebuilt
    assert (report.records, report.queued, report.ids, report.ids_new) == (4, 4, 4, 4)
    assert report.objects_deleted >= 1  # the old shards
    assert found(index, content, clock, "kangaroo") == ["alpha", "beta", "delta"]  # queued: found before any merge
    assert merge(index, content, clock) == 4
    assert found(index, content, clock, "kangaroo") == ["alpha", "beta", "delta"]
    assert found(index, content, clock, "wombat") == ["gamma"]
    assert index.get(search_index.MANIFEST_KEY)["manifest"]["docs"] == 4


def test_after_a_reindex_readers_find_posts_through_the_app(old_blog, index, content, clock, http):
    assert http.get("/search?q=kangaroo").status_code == 500  # the format-1 index
    start_over(index, content, old_blog)
    rebuild.rebuild(index, content, clock())
    page = http.get("/search?q=kangaroo")
    assert page.status_code == 200
    assert all(title in page.text for title in ("Alpha", "Beta", "Delta")) and "Gamma" not in page.text


def test_a_kept_local_archive_from_before_document_ids_is_started_over_once(old_blog, index, content, clock):
    lines = reindex.start_over_if_old(aws.client("dynamodb"), old_blog.table, index, content)  # what `make run` does
    assert any("4 queued for the merge" in line for line in lines)
    merge(index, content, clock)
    assert found(index, content, clock, "kangaroo") == ["alpha", "beta", "delta"]
    assert reindex.start_over_if_old(aws.client("dynamodb"), old_blog.table, index, content) == []  # up to date


def test_reindex_rebuilds_a_search_queue_index_without_doc_and_then_leaves_it(resources):
    old_search_queue_index(resources.table)
    assert "doc" not in search_queue_projection(resources.table)["NonKeyAttributes"]
    done = ensure_search_queue_index(aws.client("dynamodb"), resources.table, sleep=lambda _: None)
    assert [line.split(" ")[0] for line in done] == ["deleted", "created"]
    assert search_queue_projection(resources.table) == {"ProjectionType": "INCLUDE",
                                                        "NonKeyAttributes": list(SEARCH_QUEUE_FIELDS)}
    assert ensure_search_queue_index(aws.client("dynamodb"), resources.table, sleep=lambda _: None) == []


def test_setup_says_an_outdated_search_queue_index_needs_a_reindex_and_leaves_it(resources):
    old_search_queue_index(resources.table)
    done = ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), resources)
    assert [line for line in done if "blogctl reindex" in line] == [
        f"index search_queue of {resources.table} is out of date (its projection lacks doc): "
        "`blogctl reindex` rebuilds it and starts the search index over"]
    assert "doc" not in search_queue_projection(resources.table)["NonKeyAttributes"]


class Described:
    """A DynamoDB client whose table goes through the states AWS shows while an index is rebuilt."""

    def __init__(self, table: str, states: list[str | None]) -> None:
        self.table, self.states = table, states
        self.updates: list[list[str]] = []
        self.wanted = next(i for i in table_definition(table)["GlobalSecondaryIndexes"]
                           if i["IndexName"] == model.SEARCH_INDEX)

    def describe_table(self, TableName):  # noqa: N803 (boto3's name)
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        indexes = []
        if state is not None:
            fields = OLD_QUEUE_FIELDS if state.startswith("old") else list(SEARCH_QUEUE_FIELDS)
            indexes.append({**self.wanted, "IndexStatus": state.split(":")[-1],
                            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": fields}})
        return {"Table": {"TableName": TableName, "TableStatus": "ACTIVE", "GlobalSecondaryIndexes": indexes}}

    def update_table(self, **params):
        self.updates.append([next(iter(u)) for u in params["GlobalSecondaryIndexUpdates"]])


def test_the_index_rebuild_waits_for_the_deletion_and_the_creation(names):
    client = Described(names.table, ["old:ACTIVE", "old:ACTIVE", "old:ACTIVE", "old:DELETING", "old:DELETING", None,
                                     None, "new:CREATING", "new:CREATING", "new:ACTIVE"])
    waits: list[float] = []
    ensure_search_queue_index(client, names.table, sleep=waits.append, poll_seconds=1.0)
    assert client.updates == [["Delete"], ["Create"]]
    assert len(waits) == 4  # two polls while it was deleted, two while it was built
    resumed = Described(names.table, ["new:CREATING", "new:CREATING", "new:ACTIVE"])  # a run that stopped there
    ensure_search_queue_index(resumed, names.table, sleep=lambda _: None)
    assert resumed.updates == []


def test_a_slug_whose_first_id_another_slug_holds_gets_its_second(old_blog, index, content, clock):
    index.put({**model.doc_key(shards.doc_id("beta", 0)), "slug": "some-other-post"})
    report = start_over(index, content, old_blog)
    assert report.later_attempts == 1
    assert index.get(model.text_key("beta"))["doc"] == shards.doc_id("beta", 1)
    assert index.get(model.doc_key(shards.doc_id("beta", 1)))["slug"] == "beta"
    merge(index, content, clock)
    assert found(index, content, clock, "beta") == ["beta"]


def test_a_second_reindex_changes_nothing_harmful(old_blog, index, content, clock):
    start_over(index, content, old_blog)
    merge(index, content, clock)
    docs = {slug: index.get(model.text_key(slug))["doc"] for slug in ("alpha", "beta", "gamma", "delta")}
    again = start_over(index, content, old_blog)
    assert again.ok and again.index_changes == [] and again.ids_new == 0 and again.queued == 4
    assert found(index, content, clock, "kangaroo") == ["alpha", "beta", "delta"]  # queued again, meanwhile
    assert merge(index, content, clock) == 4
    assert {slug: index.get(model.text_key(slug))["doc"] for slug in docs} == docs
    assert found(index, content, clock, "kangaroo") == ["alpha", "beta", "delta"]
    assert index.get(search_index.MANIFEST_KEY)["manifest"]["docs"] == 4  # each post once


def test_a_scheduled_posts_waiting_entry_gets_its_id_and_is_found_once_it_goes_live(publish, index, content, clock,
                                                                                    names):
    publish("posts/later.md", source("Later", date="2026-07-01", body="platypus"))
    made_before_document_ids(index, names.table)
    report = start_over(index, content, names)
    assert (report.queued, report.waiting) == (0, 1)
    record = index.get(model.text_key("later"))
    assert record["waiting"]["doc"] == record["doc"] == shards.doc_id("later")
    assert "search_queue" not in record
    clock.advance(days=40)
    rebuild.rebuild(index, content, clock())
    assert found(index, content, clock, "platypus") == ["later"]


def test_a_leftover_removal_is_deleted_not_queued(publish, remove, index, content, clock, names):
    publish("posts/gone.md", source("Gone", body="echidna"))
    merge(index, content, clock)
    remove("posts/gone.md")  # its removal is queued
    made_before_document_ids(index, names.table)
    report = start_over(index, content, names)
    assert (report.dropped, report.queued, report.ids) == (1, 0, 0)
    assert index.get(model.text_key("gone")) is None
    assert index.get(model.doc_key(shards.doc_id("gone"))) is None  # no id claimed for it


def test_an_ingest_during_the_reindex_wins_and_its_record_is_started_over(old_blog, index, content, clock,
                                                                         monkeypatch):
    commit = type(index).commit
    edited = []

    def commit_after_an_edit(self, writes):
        if not edited and writes[0].key == model.text_key("alpha"):
            edited.append(publish_now("posts/alpha.md", source("Alpha", body="kangaroo quokka"), clock()))
        return commit(self, writes)

    monkeypatch.setattr(type(index), "commit", commit_after_an_edit)
    report = start_over(index, content, old_blog)
    assert report.ok and report.retried == 1 and report.queued == 4
    merge(index, content, clock)
    assert found(index, content, clock, "quokka") == ["alpha"]


def test_a_merge_during_the_reindex_is_reported(old_blog, index, content, clock, monkeypatch):
    scan = type(index).scan

    def scan_while_a_merge_writes(self):
        index.put({**search_index.MANIFEST_KEY, "manifest": {"format": shards.FORMAT, "shards": 1, "docs": 9,
                                                             "length": 9, "generation": 3, "bytes": 9}})
        return scan(self)

    monkeypatch.setattr(type(index), "scan", scan_while_a_merge_writes)
    report = start_over(index, content, old_blog)
    assert report.overlapped and not report.ok
    assert "run `blogctl reindex` again" in "\n".join(reindex.report_lines(report))


def test_no_merge_runs_while_a_reindex_does(old_blog, index, content, clock, monkeypatch):
    start_over(index, content, old_blog)
    merge(index, content, clock)  # a healthy index, started over again below
    scan = type(index).scan

    def scan_while_the_rebuild_runs(self):
        with pytest.raises(CorruptIndex, match="format 0"):
            search_index.merge_queue(index, content, clock())
        return scan(self)

    monkeypatch.setattr(type(index), "scan", scan_while_the_rebuild_runs)
    assert start_over(index, content, old_blog).ok
    assert merge(index, content, clock) == 4


# -- the command --

def test_the_command_starts_the_index_over_and_says_what_the_rebuild_does_next(stage_aws, capsys):
    index, content = services.index(), services.content()
    publish_now("posts/alpha.md", source("Alpha", body="kangaroo"), NOW)
    search_index.merge_queue(index, content, NOW)
    made_before_document_ids(index, stage_aws.table)
    assert cli.main(["reindex", "--stage", "dev"]) == 0
    out = capsys.readouterr().out
    assert f"created index search_queue of {stage_aws.table} again" in out
    assert "1 search record(s): 1 queued for the merge" in out
    assert "document ids: 1 given (1 newly claimed), 0 past the slug's first" in out
    assert "`blogctl rebuild`" in out and "first 100 queued ones" in out
    assert cli.main(["rebuild", "--stage", "dev"]) == 0
    assert [hit.slug for hit in search_index.search(index, content, NOW, "kangaroo").hits] == ["alpha"]
