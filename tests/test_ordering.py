"""Events arrive late, twice and out of order: ingest must converge to what S3 holds.

A hypothesis property test drives random histories of uploads, edits, broken uploads
and deletions on a few keys, delivering their events in a random order with
duplicates, then checks the index against the bucket's final state. Two further tests
force the races the conditional writes exist for.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections import Counter

from chalicelib import indexer, model, posts, services
from chalicelib.model import PostRecord, Status, Tombstone
from chalicelib.store import ContentStore, Source
from conftest import NOW, fresh_aws, source

KEYS = ("posts/a.md", "posts/b.md", "posts/c.md")


def variant(key: str, kind: str) -> bytes:
    """The file a step uploads: valid variants differ in title, tags, date, slug, aliases."""
    name = key[len("posts/"):-len(".md")]
    return {
        "one": source(f"{name} one", tags=["x"]),
        "two": source(f"{name} two", date="2025-03-04", tags=["y", "z"], aliases=[f"{name}-old"]),
        "later": source(f"{name} later", date="2099-01-01", tags=["x"]),
        "draft": source(f"{name} draft", draft=True, tags=["y"]),
        "moved": source(f"{name} moved", slug=f"{name}-moved", tags=["z"]),
        "broken": b"---\ntitle: [unclosed\n---\n",
        "no-title": b"---\ndate: 2020-01-01\n---\nbody",
    }[kind]


step = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS),
              st.sampled_from(["one", "two", "later", "draft", "moved", "broken", "no-title"])),
    st.tuples(st.just("delete"), st.sampled_from(KEYS), st.just("")),
    st.tuples(st.just("deliver"), st.integers(0, 50), st.just("")),
    st.tuples(st.just("redeliver"), st.integers(0, 50), st.just("")),
)


def check_converged(index, content, valid_versions: dict[str, set[str]]) -> None:
    """The index describes each key's final state, and is consistent with itself."""
    items = list(index.scan())
    states = [model.source_state(i) for i in items if "shard" in i]
    records = [s for s in states if isinstance(s, PostRecord)]
    for key in KEYS:
        current = content.head(key)
        mine = [s for s in states if (s.source.key if isinstance(s, PostRecord) else s.source_key) == key]
        live = [s for s in mine if isinstance(s, PostRecord)]
        if current is None:
            assert [s for s in mine if not isinstance(s, Tombstone)] == [], f"{key} is deleted but the index has {mine}"
            continue
        data = content.read(key, posts.MAX_SOURCE_BYTES).data
        try:
            post = posts.parse_post(key, data)
        except Exception:
            # The error sits on the key's one entry: a live post, its tombstone, or a rejection.
            primary = model.primary_state(mine)
            assert primary is not None and primary.error is not None, f"{key}: broken upload left {mine}"
            assert primary.error.source_id == current.identity
            if isinstance(primary, PostRecord):  # a last good version is served: one that was valid
                assert primary.source.version_id in valid_versions[key]
            continue
        assert [s.slug for s in live] == [post.slug], f"{key}: expected only {post.slug}, found {live}"
        entry = live[0]
        assert entry.source.id == current.identity and entry.error is None
        assert entry.card.title == post.title
        assert entry.status.value == post.status(NOW)
    # Memberships, the listing, counts and old URLs follow the post items exactly.
    groups = {(i["pk"], i["sk"]) for i in items if i["pk"].startswith((model.TAG_PREFIX, model.AUTHOR_PREFIX))}
    assert groups == {(m.key["pk"], m.key["sk"]) for r in records for m in model.memberships(r)}
    listed = {c.slug for c in index.listing("9999", 100).items}
    assert listed == {r.slug for r in records if r.listed}
    counted = Counter(k for r in records for k in model.contributions(r))
    stored = Counter({(c.partition, c.name): c.count for part in (model.TAGS_PK, model.AUTHORS_PK, model.MONTHS_PK)
                      for c in index.counts(part, 100).items})
    assert stored == counted
    redirects = [model.Redirect.from_item(i) for i in items if i["pk"].startswith(model.URL_PREFIX)]
    by_slug = {r.slug: r for r in records}
    for redirect in redirects:
        target = by_slug.get(redirect.target)
        assert target is not None and redirect.path in target.old_paths, f"stray redirect {redirect}"
        assert redirect.public == target.is_public(NOW)
    # Search records: a public post's entry is queued for the index, a scheduled one's waits, others leave.
    texts = {i["slug"]: i for i in items if i["sk"] == model.TEXT_SK}
    assert {s for s, i in texts.items() if i.get("terms")} == {r.slug for r in records if r.is_public(NOW)}
    assert {s for s, i in texts.items() if i.get("waiting")} == {
        r.slug for r in records if r.status is Status.SCHEDULED and not r.is_public(NOW)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, max_size=14), final_order=st.randoms(use_true_random=False))
def test_any_order_of_events_converges_to_the_bucket(steps, final_order):
    with fresh_aws():  # each example starts from a fresh moto with the stage's resources
        index, content = services.index(), services.content()
        pending: list[str] = []
        delivered: list[str] = []
        valid_versions: dict[str, set[str]] = {k: set() for k in KEYS}
        for action, arg, kind in steps:
            if action == "put":
                ref = content.put(arg, variant(arg, kind), "text/markdown")
                if kind not in ("broken", "no-title"):
                    valid_versions[arg].add(ref.version_id)
                pending.append(arg)
            elif action == "delete":
                content.delete(arg)
                pending.append(arg)
            elif action == "deliver" and pending:
                key = pending.pop(arg % len(pending))
                indexer.reconcile(key, index, content, NOW)
                delivered.append(key)
            elif action == "redeliver" and delivered:
                indexer.reconcile(delivered[arg % len(delivered)], index, content, NOW)
        final_order.shuffle(pending)
        for key in pending + pending[:2]:  # the rest, in any order, a couple twice
            indexer.reconcile(key, index, content, NOW)
        check_converged(index, content, valid_versions)
        before = list(index.scan())
        for key in KEYS:  # one more delivery of anything changes nothing
            assert indexer.reconcile(key, index, content, NOW).action in ("unchanged", "ignored")
        assert list(index.scan()) == before


class StaleFirstRead(ContentStore):
    """A store whose first read returns an older version, as when an upload lands mid-ingest."""

    def __init__(self, inner: ContentStore, stale: Source) -> None:
        super().__init__(inner._s3, inner.bucket)
        self._stale: Source | None = stale

    def read(self, key: str, max_bytes: int) -> Source | None:
        if self._stale is not None:
            stale, self._stale = self._stale, None
            return stale
        return super().read(key, max_bytes)


def test_a_read_overtaken_by_an_upload_is_put_right_by_its_event(index, content, clock):
    content.put("posts/p.md", source("First"), "text/markdown")
    stale = content.read("posts/p.md", posts.MAX_SOURCE_BYTES)
    content.put("posts/p.md", source("Second"), "text/markdown")
    indexer.reconcile("posts/p.md", index, StaleFirstRead(content, stale), clock())
    assert index.post("p").card.title == "First"  # what this read saw...
    indexer.reconcile("posts/p.md", index, content, clock())  # ...until the upload's own event arrives
    assert index.post("p").card.title == "Second"


def test_a_write_that_loses_a_race_is_retried(index, content, clock, monkeypatch):
    content.put("posts/p.md", source("First"), "text/markdown")
    indexer.reconcile("posts/p.md", index, content, clock())
    content.put("posts/p.md", source("Second"), "text/markdown")
    real_commit = index.commit
    raced = []

    def commit_after_a_rival(writes):
        if not raced:  # another container ingests the same key between our read and our write
            raced.append(True)
            indexer.reconcile("posts/p.md", index, content, clock())
        return real_commit(writes)

    monkeypatch.setattr(index, "commit", commit_after_a_rival)
    indexer.reconcile("posts/p.md", index, content, clock())
    assert raced
    record = index.post("p")
    assert record.card.title == "Second"
    assert record.rev == 2
