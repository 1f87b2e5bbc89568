"""Ingest against moto: each key's index entry converges to what the bucket holds."""
from __future__ import annotations

import json

import pytest

from chalicelib import indexer, ingest, model, transitions
from chalicelib.model import PostRecord, SourceRejection, Status, Tombstone
from conftest import source


def s3_message(*keys: str) -> str:
    """An S3 event notification as S3 (and moto) puts it on the queue: keys URL-encoded."""
    from urllib.parse import quote_plus

    return json.dumps({"Records": [
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": "b"}, "object": {"key": quote_plus(k, safe="/")}}} for k in keys]})


def tag_slugs(index, tag: str) -> list[str]:
    return [m.card.slug for m in index.group(model.tag_group(tag), "9999", 10).items]


def counts(index, partition: str) -> dict[str, int]:
    return {c.name: c.count for c in index.counts(partition, 100).items}


def test_message_keys_are_url_decoded():
    assert ingest.keys_from_message(s3_message("posts/my post+1.md")) == ["posts/my post+1.md"]


def test_test_event_is_ignored_and_garbage_is_unreadable():
    assert ingest.parse_message("1", json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == \
        ingest.Message("1", ())
    assert not ingest.parse_message("2", "not json").readable
    assert not ingest.parse_message("3", "[1, 2]").readable
    assert not ingest.parse_message("4", json.dumps({"Records": "nope"})).readable


def test_upload_publishes_a_post(publish, index):
    outcome = publish("posts/hello.md", source("Hello", tags=["One", "Two"]))
    assert outcome.action == "published"
    record = index.post("hello")
    assert isinstance(record, PostRecord)
    assert record.card.title == "Hello"
    assert record.card.listing_sk == "2024-01-02T00:00:00Z#hello"
    assert [t.slug for t in record.card.tags] == ["one", "two"]
    assert tag_slugs(index, "one") == ["hello"]


def test_an_upload_costs_three_calls(index, content, clock, calls):
    content.put("posts/hello.md", source("Hello", tags=["a", "b"]), "text/markdown")
    calls.clear()
    indexer.reconcile("posts/hello.md", index, content, clock())
    # The container's first upload also reads the site's config, once per SITE_CONFIG_TTL_SECONDS.
    assert sorted(calls.keys()) == [("dynamodb", "GetItem"), ("dynamodb", "Query"), ("dynamodb", "TransactWriteItems"),
                                   ("s3", "GetObject")]
    content.put("posts/hello.md", source("Hello again", tags=["b", "c"]), "text/markdown")
    calls.clear()
    indexer.reconcile("posts/hello.md", index, content, clock())
    assert sorted(calls.keys()) == [("dynamodb", "Query"), ("dynamodb", "TransactWriteItems"), ("s3", "GetObject")]


def test_counts_and_archive_follow_each_upload_at_once(publish, remove, index):
    publish("posts/a.md", source("A", date="2024-01-05", tags=["X", "y"]))
    publish("posts/b.md", source("B", date="2024-02-05", tags=["X"]))
    publish("posts/c.md", source("C", date="2024-02-06", tags=["X"], draft=True))
    assert counts(index, model.TAGS_PK) == {"x": 2, "y": 1}
    assert {c.name: c.label for c in index.counts(model.TAGS_PK, 10).items}["x"] == "X"
    assert counts(index, model.MONTHS_PK) == {"2024-01": 1, "2024-02": 1}
    publish("posts/a.md", source("A", date="2024-02-07", tags=["y"]))
    assert counts(index, model.TAGS_PK) == {"x": 1, "y": 1}
    assert counts(index, model.MONTHS_PK) == {"2024-02": 2}
    remove("posts/b.md")
    assert counts(index, model.TAGS_PK) == {"y": 1}


def test_ingest_of_a_non_post_key_does_nothing(index, content, clock):
    content.put("assets/hello/paper.pdf", b"pdf", "application/pdf")  # images are sized: tests/test_image_sizes.py
    assert indexer.reconcile("assets/hello/paper.pdf", index, content, clock()).action == "ignored"
    content.put("notes/hello.txt", b"text", "text/plain")
    assert indexer.reconcile("notes/hello.txt", index, content, clock()).action == "ignored"


def test_duplicate_event_changes_nothing(publish, index, content, clock, calls):
    publish("posts/hello.md", source("Hello"))
    before = index.post("hello")
    calls.clear()
    assert indexer.reconcile("posts/hello.md", index, content, clock()).action == "unchanged"
    assert calls.writes() == []
    assert index.post("hello") == before


def test_draft_is_indexed_but_not_listed(publish, index):
    assert publish("posts/secret.md", source("Secret", draft=True, tags=["x"])).action == "draft"
    record = index.post("secret")
    assert record.status is Status.DRAFT and not record.listed
    assert index.listing("9999", 10).items == []
    assert tag_slugs(index, "x") == []
    assert counts(index, model.TAGS_PK) == {}


def test_future_post_is_scheduled_and_counted_only_when_live(publish, index):
    assert publish("posts/later.md", source("Later", date="2099-01-01", tags=["t"])).action == "scheduled"
    assert index.post("later").status is Status.SCHEDULED
    assert counts(index, model.TAGS_PK) == {}
    assert [m.slug for m in index.due(model.SCHEDULED_PK, "2100", 10)] == ["later"]


def test_edit_moves_tag_memberships(publish, index):
    publish("posts/p.md", source("P", tags=["old"]))
    publish("posts/p.md", source("P", tags=["new"]))
    assert tag_slugs(index, "old") == []
    assert tag_slugs(index, "new") == ["p"]


def test_broken_upload_keeps_the_last_good_version(publish, index):
    publish("posts/p.md", source("Good title", body="Good body"))
    good = index.post("p")
    outcome = publish("posts/p.md", b"---\ntitle: [unclosed\n---\n")
    assert outcome.action == "error"
    record = index.post("p")
    assert record.source == good.source
    assert record.card.title == "Good title"
    assert "not valid YAML" in record.error.message
    assert record.card.listing_sk == good.card.listing_sk


def test_fixing_the_upload_clears_the_error(publish, index):
    publish("posts/p.md", source("Good"))
    publish("posts/p.md", b"no front matter")
    publish("posts/p.md", source("Fixed"))
    record = index.post("p")
    assert record.card.title == "Fixed"
    assert record.error is None


def test_broken_first_upload_is_recorded_without_publishing(publish, index):
    assert publish("posts/new.md", b"---\ndate: 2020-01-01\n---\n").action == "error"
    [state] = index.source_states("posts/new.md")
    assert isinstance(state, SourceRejection)
    assert "title" in state.error.message
    assert index.post("new") is None
    assert index.listing("9999", 10).items == []


def test_an_error_message_is_bounded_whatever_the_upload(publish, index):
    huge = "2013-" + "9" * 60_000
    publish("posts/p.md", source("P"))
    assert publish("posts/p.md", f"---\ntitle: T\ndate: {huge}\n---\n".encode()).action == "error"
    assert len(index.post("p").error.message) <= 2000


def test_slug_clash_with_another_source_is_an_error_on_its_own_row(publish, index):
    publish("posts/first.md", source("First"))
    outcome = publish("posts/second.md", source("Second", slug="first"))
    assert outcome.action == "error"
    assert "already used by posts/first.md" in outcome.message
    [state] = index.source_states("posts/second.md")
    assert isinstance(state, SourceRejection) and state.claims == "first"
    assert index.post("first").card.title == "First"
    assert index.post("first").claimants == ("posts/second.md",)


def test_the_waiting_file_publishes_when_the_slug_is_freed(index, content, clock):
    content.put("posts/first.md", source("First"), "text/markdown")
    content.put("posts/second.md", source("Second", slug="first"), "text/markdown")
    ingest.handle_messages([ingest.parse_message("m", s3_message("posts/first.md", "posts/second.md"))],
                           index, content, clock())
    content.delete("posts/first.md")
    outcomes, failed = ingest.handle_messages([ingest.parse_message("m", s3_message("posts/first.md"))],
                                              index, content, clock())
    assert failed == []
    assert [(o.key, o.action) for o in outcomes] == [("posts/first.md", "deleted"), ("posts/second.md", "published")]
    assert index.post("first").card.title == "Second"


def test_same_name_posts_of_other_years_both_publish(publish, index):
    publish("posts/2013/2013-04-20-hello.md", source("Hello 2013", date="2013-04-20"))
    outcome = publish("posts/2014/2014-04-20-hello.md", source("Hello 2014", date="2014-04-20"))
    assert outcome.action == "published" and outcome.slug == "hello-2014"
    assert index.post("hello").card.title == "Hello 2013"
    assert index.post("hello-2014").card.title == "Hello 2014"


def test_deleting_a_published_post_leaves_a_tombstone(publish, remove, index):
    publish("posts/p.md", source("P", tags=["t"]))
    assert remove("posts/p.md").action == "deleted"
    assert isinstance(index.post("p"), Tombstone)
    assert index.listing("9999", 10).items == []
    assert tag_slugs(index, "t") == []


def test_deleting_a_draft_leaves_no_trace(publish, remove, index):
    publish("posts/d.md", source("D", draft=True))
    remove("posts/d.md")
    assert index.post("d") is None


def test_reupload_after_delete_publishes_again(publish, remove, index):
    publish("posts/p.md", source("P"))
    remove("posts/p.md")
    publish("posts/p.md", source("P again"))
    assert index.post("p").status is Status.PUBLISHED


def test_aliases_point_old_paths_at_the_post(publish, index):
    publish("posts/new-name.md", source("N", aliases=["old-name", "/posts/older/", "/2013/04/20/deep.html"]))
    assert index.redirect("/posts/old-name").target == "new-name"
    assert index.redirect("/posts/older").target == "new-name"
    assert index.redirect("/2013/04/20/deep").target == "new-name"
    publish("posts/new-name.md", source("N", aliases=["old-name"]))
    assert index.redirect("/posts/older") is None


def test_redirects_of_a_draft_are_not_public(publish, index):
    publish("posts/p.md", source("P", aliases=["q3-update"]))
    assert index.redirect("/posts/q3-update").public
    publish("posts/p.md", source("P", aliases=["q3-update"], draft=True))
    assert not index.redirect("/posts/q3-update").public


def test_alias_owned_by_another_post_is_not_stolen(publish, index):
    publish("posts/a.md", source("A", aliases=["shared"]))
    outcome = publish("posts/b.md", source("B", aliases=["shared"]))
    assert index.redirect("/posts/shared").target == "a"
    assert "already taken" in outcome.message


def test_changing_the_slug_redirects_the_old_one_and_keeps_its_aliases(publish, index):
    publish("posts/p.md", source("P", aliases=["older"]))
    outcome = publish("posts/p.md", source("P", slug="better-name", aliases=["older"]))
    assert outcome.message == ""
    assert index.post("p") is None
    assert index.redirect("/posts/p").target == "better-name"
    assert index.redirect("/posts/older").target == "better-name"
    assert index.post("better-name").source.key == "posts/p.md"


def test_renaming_back_and_forth_never_loops(publish, index):
    publish("posts/p.md", source("P"))
    publish("posts/p.md", source("P", slug="b"))
    publish("posts/p.md", source("P", slug="p"))
    assert index.redirect("/posts/p") is None
    assert index.redirect("/posts/b").target == "p"
    publish("posts/p.md", source("P", slug="p", draft=True))
    assert not index.redirect("/posts/b").public


def test_a_failed_key_fails_only_its_own_message(index, content, clock, monkeypatch):
    content.put("posts/a.md", source("A"), "text/markdown")
    content.put("posts/b.md", source("B"), "text/markdown")
    real = indexer.reconcile

    def explode_on_b(key, *args):
        if key == "posts/b.md":
            raise RuntimeError("boom")
        return real(key, *args)

    monkeypatch.setattr(indexer, "reconcile", explode_on_b)
    messages = [ingest.parse_message("ma", s3_message("posts/a.md")), ingest.parse_message("mb", s3_message("posts/b.md")),
                ingest.parse_message("mz", "not json")]
    outcomes, failed = ingest.handle_messages(messages, index, content, clock())
    assert [o.key for o in outcomes] == ["posts/a.md"]
    assert failed == ["mb", "mz"]


def test_only_the_post_item_is_found_by_its_source(publish, index):
    publish("posts/tagged.md", source("Tagged", tags=["a", "b", "c"], author="Ann"))
    assert [type(s) for s in index.source_states("posts/tagged.md")] == [PostRecord]


def test_empty_keys_in_unknown_front_matter_are_left_out_not_fatal(publish, index):
    """DynamoDB refuses an empty map key: a post must publish without it (found by tests/test_fuzz.py)."""
    outcome = publish("posts/p.md", b'---\ntitle: P\ndate: 2024-01-02\n"": top\nweird: {"": 1, "k": {"": 2}}\n---\nx')
    assert outcome.action == "published", outcome.message
    assert index.post("p").extra == {"weird": {"k": {}}}


def test_an_item_dynamodb_refuses_becomes_an_error_on_the_status_row(publish, index, monkeypatch):
    """Whatever slips past validation, the upload ends as an error an editor sees, not a retried crash."""
    from chalicelib import store

    publish("posts/p.md", source("Good"))
    real = store.PostIndex._transact

    def refuse(self, writes):
        if any(isinstance(w, transitions.Put) and w.item.get("title") == "Poison" for w in writes):
            raise store.Refused("Item size has exceeded the maximum allowed size")
        return real(self, writes)

    monkeypatch.setattr(store.PostIndex, "_transact", refuse)
    outcome = publish("posts/p.md", source("Poison", tags=["t"]))
    assert outcome.action == "error"
    record = index.post("p")
    assert record.card.title == "Good" and "refused" in record.error.message


@pytest.mark.parametrize("key", ["posts/notes.txt", "posts/_index.md", "posts/old-post.html"])
def test_a_file_that_is_not_a_post_gets_a_skipped_row_not_silence(index, content, clock, key):
    from blogctl.cli import status_rows

    content.put(key, b"some text", "text/plain")
    outcome = indexer.reconcile(key, index, content, clock())
    assert outcome.action == "skipped"
    [row] = status_rows(list(index.scan()), clock())
    assert (row["status"], row["source"], row["error"]) == ("skipped", key, "")
    assert "not published" in row["warnings"]
    content.delete(key)
    assert indexer.reconcile(key, index, content, clock()).action == "deleted"
    assert status_rows(list(index.scan()), clock()) == []


def test_a_bundles_images_are_not_posts_and_make_no_row(index, content, clock):
    content.put("posts/trip/cover.jpg", b"\xff\xd8\xff", "image/jpeg")
    assert indexer.reconcile("posts/trip/cover.jpg", index, content, clock()).action == "ignored"
    assert index.source_states("posts/trip/cover.jpg") == []
