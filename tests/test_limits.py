"""Every item the index stores has a bound that no upload, tag vocabulary or error can push
past DynamoDB's 400 KB, whatever the number of posts; a post's transaction stays under 4 MB.

Sizes are counted by DynamoDB's own rules (model.item_size), not moto's, which undercounts.
The worst cases are built at every named limit, with four-byte characters wherever text goes.
"""
from __future__ import annotations

import datetime as dt

import pytest

from chalicelib import model, posts, rebuild, transitions
from chalicelib.search import shards
from chalicelib.search import text as search_text
from chalicelib.model import (
    MAX_ITEM_BYTES, MAX_TRANSACTION_BYTES, Named, PostCard, PostRecord, Redirect, Rejection, SearchText,
    SourceRejection, SourceVersion, Status, Tombstone,
)

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
WIDE = "\U0001d552"  # a letter that takes four bytes in UTF-8 (and can be part of a slug)
S3_KEY_BYTES = 1024   # S3's limit on a key


def wide(chars: int) -> str:
    return WIDE * chars


def worst_key(n: int = 0) -> str:
    return posts.POSTS_PREFIX + f"{n:04d}" + WIDE * ((S3_KEY_BYTES - 20) // 4) + ".md"


def worst_card(slug: str = wide(posts.MAX_SLUG_CHARS), tag_prefix: str = "t") -> PostCard:
    tags = tuple(Named(f"{tag_prefix}{n:02d}" + wide(posts.MAX_SLUG_CHARS - 3), wide(posts.MAX_TAG_CHARS))
                 for n in range(posts.MAX_TAGS))
    per_author = posts.MAX_AUTHOR_CHARS // posts.MAX_AUTHORS
    authors = tuple(Named(f"a{n:02d}" + wide(posts.MAX_SLUG_CHARS - 3), wide(per_author))
                    for n in range(posts.MAX_AUTHORS))
    return PostCard(
        slug=slug, title=wide(posts.MAX_TITLE_CHARS), date="2026-06-01T00:00:00Z",
        source=SourceVersion(key=worst_key(), etag="e" * 34, mtime="2026-06-01T00:00:00.000000Z",
                             version_id="v" * 32),
        date_offset="+14:00", updated="2026-06-01T00:00:00Z", summary=wide(posts.MAX_SUMMARY_CHARS),
        tags=tags, authors=authors, reading_minutes=10**6, image=wide(posts.MAX_IMAGE_CHARS),
        expires="2099-01-01T00:00:00Z",
    )


def worst_error() -> Rejection:
    problems = [wide(10_000)] * 1_000  # far more, and far longer, than any upload yields
    return transitions.rejection(problems, "v" * 32, "e" * 34, NOW)


def worst_record(tag_prefix: str = "t", slug: str = wide(posts.MAX_SLUG_CHARS)) -> PostRecord:
    aliases = tuple(f"/{n:02d}" + WIDE * ((posts.MAX_PATH_BYTES - 4) // 4) for n in range(posts.MAX_ALIASES))
    moved = tuple(model.post_path(f"m{n}" + wide(posts.MAX_SLUG_CHARS - 2)) for n in range(transitions.MAX_MOVED_FROM))
    extra = {"list": [0] * (posts.MAX_EXTRA_BYTES // 2)}  # the JSON that grows most in DynamoDB's counting
    return PostRecord(
        card=worst_card(slug, tag_prefix), status=Status.PUBLISHED, visible_from="2026-06-01T00:00:00Z",
        words=10**7, aliases=aliases, moved_from=moved, extra=extra,
        warnings=transitions.bounded_warnings([wide(10_000)] * 1_000), error=worst_error(), rev=10**9,
        indexed_at="2026-06-01T00:00:00Z", counted=True,
        claimants=tuple(worst_key(n) for n in range(transitions.MAX_CLAIMANTS)),
    )


def worst_document(prefix: str = "w", plural: bool = False) -> dict:
    # Distinct words until the analyzer's budget, each as long as it keeps them: the largest entry. Plurals
    # bring a form per term (fewer terms, more bytes each); words with digits are not stemmed: no forms.
    longest = search_text.MAX_TERM_BYTES - 6
    if plural:
        names = ("".join("bcdfghjklm"[int(d)] for d in f"{n:05d}") for n in range(20_000))
        words = " ".join(f"{prefix}{name}" + "a" * (longest - 1) + "s" for name in names)
    else:
        words = " ".join(f"{prefix}{n:05d}" + "x" * longest for n in range(20_000))
    document = search_text.analyze("s", "2026-06-01T00:00:00Z", wide(posts.MAX_TITLE_CHARS),
                                   [wide(posts.MAX_TAG_CHARS)] * posts.MAX_TAGS, words)
    return shards.pending_fields("s", shards.doc_id("s"), 10**9, document)


def worst_text() -> SearchText:
    """A scheduled post's record: the entry it waits with, the text, and what the shards still hold."""
    return SearchText(wide(posts.MAX_SLUG_CHARS), worst_document("w"), wide(model.MAX_SEARCH_TEXT_CHARS * 2),
                      worst_document("v"))


def test_the_size_rules_are_dynamodbs():
    assert model.item_size({"a": "xyz"}) == 4
    assert model.item_size({"a": True, "b": None}) == 4
    assert model.item_size({"n": 12345}) == 1 + 4  # three bytes of digits, one more
    assert model.item_size({"m": {"k": "v"}}) == 1 + 3 + 1 + 1 + 1
    assert model.item_size({"l": ["", ""]}) == 1 + 3 + 2
    assert model.item_size({"é": "日本"}) == 2 + 6


def test_a_post_item_stays_under_400_kb_at_every_limit():
    item = worst_record().to_item()
    assert model.item_size(item) < MAX_ITEM_BYTES * 0.9, model.item_size(item)


def test_a_membership_and_a_tombstone_stay_small():
    member = model.memberships(worst_record())[0].to_item()
    assert model.item_size(member) < MAX_ITEM_BYTES / 4
    tomb = Tombstone(wide(posts.MAX_SLUG_CHARS), worst_key(), "2026-06-01T00:00:00Z", 10**9, worst_error(),
                     tuple(worst_key(n) for n in range(transitions.MAX_CLAIMANTS))).to_item()
    assert model.item_size(tomb) < MAX_ITEM_BYTES / 4


def test_a_rejected_source_and_an_old_url_stay_small():
    rejected = SourceRejection(worst_key(), worst_error(), claims=wide(posts.MAX_SLUG_CHARS), rev=10**9).to_item()
    assert model.item_size(rejected) < MAX_ITEM_BYTES / 4
    redirect = Redirect("/" + WIDE * ((posts.MAX_PATH_BYTES - 1) // 4), wide(posts.MAX_SLUG_CHARS), True).to_item()
    assert model.item_size(redirect) < 4 * 1024


@pytest.mark.parametrize("plural", [False, True], ids=["most terms", "a form per term"])
def test_a_search_record_stays_under_400_kb(plural):
    text = SearchText(wide(posts.MAX_SLUG_CHARS), worst_document("w", plural), wide(model.MAX_SEARCH_TEXT_CHARS * 2),
                      worst_document("v", plural))
    stored = len(text.entry["terms"]) + len(text.entry["forms"])
    assert search_text.MAX_DOC_TERMS_BYTES - 200 < stored <= search_text.MAX_DOC_TERMS_BYTES  # the worst is worst
    indexed = shards.PendingEntry.from_item(worst_document("u")).settled()[0]  # what the merge notes it holds
    item = {**model.text_key(text.slug), **text.queued(), "indexed": indexed, "indexed_length": 10**9}
    assert model.item_size(item) < MAX_ITEM_BYTES * 0.9, model.item_size(item)


def test_the_site_and_rebuild_items_are_bounded_whatever_happened():
    report = rebuild.Report(started_at="2026-06-01T00:00:00Z")
    for n in range(100_000):  # a bulk repair of a hundred thousand keys, every one failing
        report.note_repair(worst_key(n % 10), "failed", wide(10_000))
        report.failures += 1
    report.went_live = [wide(posts.MAX_SLUG_CHARS)] * rebuild.MAX_REPORTED
    report.expired = [wide(posts.MAX_SLUG_CHARS)] * rebuild.MAX_REPORTED
    report.note_stale(f"/posts/{n}" + "x" * 3000 for n in range(10_000))
    site = {**model.SITE_KEY, "report": report.as_dict(), "search": {"key": "_site/x", "hash": "h" * 32,
                                                                     "documents": 10**6}}
    assert model.item_size(site) < MAX_ITEM_BYTES / 2  # room for the settings the site item also holds
    state = {**model.REBUILD_KEY, "digests": {shard: "d" * 24 for shard in model.all_shards()}}
    assert model.item_size(state) < 16 * 1024


def test_a_posts_transaction_stays_under_4_mb():
    old, new = worst_record("o"), worst_record("n", slug=wide(posts.MAX_SLUG_CHARS - 1) + "z")
    writes = transitions.publish(old, new, [SourceRejection(worst_key(1), worst_error())], NOW, worst_text()).writes()
    sizes = []
    for write in writes:
        if isinstance(write, transitions.Put):
            sizes.append(model.item_size(write.item))
        elif isinstance(write, transitions.Update):
            sizes.append(model.item_size({**write.key, **write.set, **write.add}))
        else:
            sizes.append(model.item_size(write.key))
    assert len(writes) <= 2 * 100  # at most two transactions (store.PostIndex.commit splits at 100)
    assert sum(sizes[:100]) < MAX_TRANSACTION_BYTES and sum(sizes[100:]) < MAX_TRANSACTION_BYTES
    assert max(sizes) < MAX_ITEM_BYTES
