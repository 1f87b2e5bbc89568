"""Ingest against moto: each key's index entry converges to what the bucket holds."""
from __future__ import annotations

import json

import pytest

from chalicelib import ingest
from chalicelib.store import alias_key
from conftest import source


def s3_message(*keys: str) -> str:
    """An S3 event notification as S3 (and moto) puts it on the queue: keys URL-encoded."""
    from urllib.parse import quote_plus

    return json.dumps({"Records": [
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": "b"}, "object": {"key": quote_plus(k, safe="/")}}} for k in keys]})


def test_message_keys_are_url_decoded():
    assert ingest.keys_from_message(s3_message("posts/my post+1.md")) == ["posts/my post+1.md"]


def test_test_event_and_garbage_are_ignored():
    assert ingest.keys_from_message(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    assert ingest.keys_from_message("not json") == []
    assert ingest.keys_from_message("[1, 2]") == []


def test_upload_publishes_a_post(publish, index):
    outcome = publish("posts/hello.md", source("Hello", tags=["One", "Two"]))
    assert outcome.action == "published"
    item = index.get_post("hello")
    assert item["title"] == "Hello"
    assert item["listing_sk"] == "2024-01-02T00:00:00Z#hello"
    assert [t["slug"] for t in item["tags"]] == ["one", "two"]
    assert [i["slug"] for i in index.tag_listing("one", "9999", 10).items] == ["hello"]


def test_ingest_of_a_non_post_key_does_nothing(index, content, clock):
    content.put("assets/hello/cat.png", b"png", "image/png")
    assert ingest.reconcile("assets/hello/cat.png", index, content, clock()).action == "ignored"


def test_duplicate_event_changes_nothing(publish, index, content, clock):
    publish("posts/hello.md", source("Hello"))
    before = index.get_post("hello")
    assert ingest.reconcile("posts/hello.md", index, content, clock()).action == "unchanged"
    assert index.get_post("hello") == before


def test_draft_is_indexed_but_not_listed(publish, index):
    assert publish("posts/secret.md", source("Secret", draft=True, tags=["x"])).action == "draft"
    item = index.get_post("secret")
    assert "listing" not in item
    assert index.listing("9999", 10).items == []
    assert index.tag_listing("x", "9999", 10).items == []


def test_future_post_is_scheduled(publish, index):
    assert publish("posts/later.md", source("Later", date="2099-01-01")).action == "scheduled"
    assert index.get_post("later")["status"] == "scheduled"


def test_edit_moves_tag_memberships(publish, index):
    publish("posts/p.md", source("P", tags=["old"]))
    publish("posts/p.md", source("P", tags=["new"]))
    assert index.tag_listing("old", "9999", 10).items == []
    assert [i["slug"] for i in index.tag_listing("new", "9999", 10).items] == ["p"]


def test_broken_upload_keeps_the_last_good_version(publish, index):
    publish("posts/p.md", source("Good title", body="Good body"))
    good = index.get_post("p")
    outcome = publish("posts/p.md", b"---\ntitle: [unclosed\n---\n")
    assert outcome.action == "error"
    item = index.get_post("p")
    assert item["version_id"] == good["version_id"]
    assert item["title"] == "Good title"
    assert "not valid YAML" in item["error"]["message"]
    assert item["listing_sk"] == good["listing_sk"]


def test_fixing_the_upload_clears_the_error(publish, index):
    publish("posts/p.md", source("Good"))
    publish("posts/p.md", b"no front matter")
    publish("posts/p.md", source("Fixed"))
    item = index.get_post("p")
    assert item["title"] == "Fixed"
    assert "error" not in item


def test_broken_first_upload_is_recorded_without_publishing(publish, index):
    assert publish("posts/new.md", b"---\ndate: 2020-01-01\n---\n").action == "error"
    item = index.get_post("new")
    assert item["status"] == "error"
    assert "title" in item["error"]["message"]
    assert index.listing("9999", 10).items == []


def test_slug_clash_with_another_source_is_an_error(publish, index):
    publish("posts/first.md", source("First"))
    outcome = publish("posts/second.md", source("Second", slug="first"))
    assert outcome.action == "error"
    assert "already used by posts/first.md" in outcome.message
    assert index.get_post("first")["title"] == "First"


def test_deleting_a_published_post_leaves_a_tombstone(publish, remove, index):
    publish("posts/p.md", source("P", tags=["t"]))
    assert remove("posts/p.md").action == "deleted"
    assert index.get_post("p")["status"] == "deleted"
    assert index.listing("9999", 10).items == []
    assert index.tag_listing("t", "9999", 10).items == []


def test_deleting_a_draft_leaves_no_trace(publish, remove, index):
    publish("posts/d.md", source("D", draft=True))
    remove("posts/d.md")
    assert index.get_post("d") is None


def test_reupload_after_delete_publishes_again(publish, remove, index):
    publish("posts/p.md", source("P"))
    remove("posts/p.md")
    publish("posts/p.md", source("P again"))
    assert index.get_post("p")["status"] == "published"


def test_aliases_point_old_slugs_at_the_post(publish, index):
    publish("posts/new-name.md", source("N", aliases=["old-name", "/posts/older/"]))
    assert index.get_alias("old-name") == "new-name"
    assert index.get_alias("older") == "new-name"
    publish("posts/new-name.md", source("N", aliases=["old-name"]))
    assert index.get_alias("older") is None


def test_alias_owned_by_another_post_is_not_stolen(publish, index):
    publish("posts/a.md", source("A", aliases=["shared"]))
    outcome = publish("posts/b.md", source("B", aliases=["shared"]))
    assert index.get_alias("shared") == "a"
    assert "already taken" in outcome.message


def test_changing_the_slug_redirects_the_old_one(publish, index):
    publish("posts/p.md", source("P"))
    publish("posts/p.md", source("P", slug="better-name"))
    assert index.get_post("p") is None
    assert index.get_alias("p") == "better-name"
    assert index.get_post("better-name")["source_key"] == "posts/p.md"


def test_handle_messages_dedupes_keys_and_reports_failures(index, content, clock, monkeypatch):
    content.put("posts/a.md", source("A"), "text/markdown")
    outcomes = ingest.handle_messages([s3_message("posts/a.md"), s3_message("posts/a.md")], index, content, clock())
    assert [o.action for o in outcomes] == ["published"]

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest, "reconcile", explode)
    with pytest.raises(ingest.IngestFailed):
        ingest.handle_messages([s3_message("posts/a.md")], index, content, clock())


def test_alias_keys_are_separate_items(publish, index):
    publish("posts/x.md", source("X", aliases=["y"]))
    assert index.get(alias_key("y"))["target"] == "x"


def test_only_the_post_item_is_found_by_its_source(publish, index):
    publish("posts/tagged.md", source("Tagged", tags=["a", "b", "c"]))
    assert [i["pk"] for i in index.posts_for_source("posts/tagged.md")] == ["POST#tagged"]
