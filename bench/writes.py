"""Writes per upload: what one upload of each kind costs the index, counted from the calls ingest makes.

Everything readers see of a post (the post, its tag and author memberships, the counts, old
URLs, schedule markers, queued search text) is written in the post's own transaction, so an
upload's writes are the actions of its TransactWriteItems call (or the one Put, Update or
Delete of a change that needs no transaction). The post here is a typical one: two tags and
one author, in a blog with another post of the same tag. Each kind runs on a fresh post, in
order: new, edit of the body, edit of the title, draft, published again, rename (a `slug:`
in the front matter), delete. The number grows with the post's tags and authors only, never
with the blog: MAX_TRANSACTION_ITEMS is DynamoDB's bound for one transaction.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.figures import Figure, judged
from bench.world import World
from blogctl.publishing import MARKDOWN_TYPE
from blogctl.recorder import CallRecorder
from chalicelib import aws, indexer
from chalicelib.site import now_utc
from chalicelib.store import MAX_TRANSACTION_ITEMS

KEY = "posts/weighed.md"
TAGS = "[Python, AWS]"


def post(title: str = "Weighed", body: str = "Some text.", **extra: str) -> bytes:
    """A post of two tags and one author."""
    meta = "".join(f"{name}: {value}\n" for name, value in extra.items())
    return (f"---\ntitle: {title}\ndate: 2024-02-03\ntags: {TAGS}\nauthor: Ada\n{meta}---\n\n{body}\n").encode()


# What each kind of upload puts in the bucket (None: the key is deleted), in the order they run.
KINDS: list[tuple[str, bytes | None]] = [
    ("new post", post()),
    ("edit (body)", post(body="Other text.")),
    ("edit (title)", post(title="Weighed again", body="Other text.")),
    ("draft", post(title="Weighed again", body="Other text.", draft="true")),
    ("published again", post(title="Weighed again", body="Other text.")),
    ("rename", post(title="Weighed again", body="Other text.", slug="weighed-renamed")),
    ("delete", None),
]


@dataclass(frozen=True)
class Weighed:
    """What one upload cost the index."""

    action: str  # what ingest did: published, draft, deleted, ...
    items: int  # items written
    calls: dict[str, int]  # DynamoDB calls by operation

    @property
    def write_calls(self) -> int:
        """Calls that wrote (one transaction, or one plain write)."""
        return sum(n for op, n in self.calls.items() if op.startswith(("Put", "Update", "Delete", "Transact",
                                                                        "BatchWrite")))


def weigh(recorder: CallRecorder, action: str) -> Weighed:
    """What the recorder saw ingest do for one upload."""
    items, calls = 0, Counter[str]()
    for call in recorder.calls:
        calls[call.operation] += 1
        params = call.params or {}
        if call.operation == "TransactWriteItems":
            items += len(params["TransactItems"])
        elif call.operation == "BatchWriteItem":
            items += sum(len(requests) for requests in params["RequestItems"].values())
        elif call.is_write:
            items += 1
    return Weighed(action, items, dict(calls))


def run(world: World) -> list[Figure]:
    """One figure: the items each kind of upload writes, and that each is one call, reading no table."""
    blog = world.fresh("writes")
    measured: dict[str, Weighed] = {}
    with blog.serving():
        blog.content.put("posts/neighbour.md", post(title="Neighbour"), MARKDOWN_TYPE)
        indexer.reconcile("posts/neighbour.md", blog.index, blog.content, now_utc())
        for kind, data in KINDS:
            if data is None:
                blog.content.delete(KEY)
            else:
                blog.content.put(KEY, data, MARKDOWN_TYPE)
            recorder = CallRecorder(keep_params=True)
            with recorder.recording(aws.client("dynamodb")):
                outcome = indexer.reconcile(KEY, blog.index, blog.content, now_utc())
            measured[kind] = weigh(recorder, outcome.action)
    shown = ", ".join(f"{kind} {m.items}" for kind, m in measured.items())
    met = all(m.write_calls == 1 and m.items <= MAX_TRANSACTION_ITEMS and "Scan" not in m.calls
              for m in measured.values())
    return [judged("writes.per_upload", "Ingest: items written per upload (post of 2 tags, 1 author)",
                   f"{shown}; one write call each, no Scan", f"one call of ≤ {MAX_TRANSACTION_ITEMS} items, no Scan",
                   met, kinds={kind: {"action": m.action, "items": m.items, "calls": m.calls}
                               for kind, m in measured.items()})]
