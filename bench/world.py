"""An AWS of the benchmarks' own, in this process: moto, the blog's resources, and blogs of any size.

Several blogs live side by side in one moto (a table and a bucket each, and a queue for
the one that ingests), so a benchmark can alternate between 100 and 10,000 posts request
by request. `Blog.serving()` points the app's services at one of them; the routes and
handlers in app.py run unchanged.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from unittest import mock

import moto  # before any boto3 client is made
from moto.dynamodb.responses import DynamoResult

from bench.timing import meter
from blogctl import motopatch
from blogctl.publishing import MARKDOWN_TYPE
from blogctl.resources import Names, ensure_resources
from blogctl.stage import PROJECT_DIR
from chalicelib import aws, config, indexer, model, posts, rebuild, render, services, transitions
from chalicelib.search import shards
from chalicelib.site import Site, now_utc
from chalicelib.store import ContentStore, PostIndex, table_definition, to_item

# Before any boto3 client exists: fake credentials, no endpoint (moto answers in-process).
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "BLOG_BUCKET": "bench-blog-content",
    "BLOG_TABLE": "bench-blog-index",
    "BLOG_QUEUE": "bench-blog-uploads",
    "BLOG_TITLE": "The Blog",
    "BLOG_SITE_URL": "",
}
BATCH_WRITE_ITEMS = 25  # DynamoDB's limit for one BatchWriteItem
NEWEST_POST = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)  # all 10,000 are in the past
BODY = "\n\n".join(
    f"Serverless blogs keep their *posts* in a bucket and their index in a table, so the cost follows "
    f"the readers and not the writers. [Read more](/posts/hello) about how the pieces fit, and why each "
    f"request touches as little as it can. Part {part}." for part in range(1, 4))


def post_slug(number: int) -> str:
    """The slug of the n-th generated post (same length for any n, so pages weigh the same)."""
    return f"bench-post-{number:05d}"


def post_source(number: int) -> bytes:
    """A post file as an editor writes it: front matter and three short paragraphs; post 0 is the newest.

    Every generated post has the same body, so seeding renders it once (see `seed`), and
    the one tag 'python', so the tag page's partition is as large as the blog.
    """
    date = (NEWEST_POST - dt.timedelta(hours=number)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"---\ntitle: Bench post {number:05d}\ndate: {date}\ntags: [Python]\n---\n\n{BODY}\n".encode()


def environment() -> dict[str, str]:
    """The variables the in-process blog runs with."""
    return dict(ENVIRONMENT)


def _dynamodb_json(result: DynamoResult, context: Any) -> tuple[int, dict[str, Any], str | bytes]:
    """A DynamoDB response body written with json.dumps (moto's result is DynamoDB JSON already)."""
    try:
        body = json.dumps(result.result)
    except TypeError:
        return _MOTO_DYNAMODB_JSON(result, context)
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body


_MOTO_DYNAMODB_JSON = DynamoResult.execute_result


@contextmanager
def fast_dynamodb_responses() -> Iterator[None]:
    """moto 5.2 writes DynamoDB responses through a generic model walker, about 2 ms per item:
    one Scan of a 10,000-post table takes a minute. Its results are DynamoDB JSON already, so
    write them with json.dumps. Only the fake AWS gets faster; our code is timed outside AWS
    calls or against a bare walk through the same moto, so no figure gets easier.
    """
    with mock.patch.object(DynamoResult, "execute_result", _dynamodb_json):
        yield


def _set_environment(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set (or, for None, remove) environment variables; return what they were."""
    previous = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return previous


@dataclass
class Blog:
    """One blog's resources and the objects app.py's services would make for it."""

    names: Names
    index: PostIndex
    content: ContentStore
    site: Site
    slugs: list[str] = field(default_factory=list)  # newest first
    sources: dict[str, bytes] = field(default_factory=dict)  # what seeding uploaded, by key
    settled: bool = False

    @contextmanager
    def serving(self) -> Iterator["Blog"]:
        """While inside, the app's routes and handlers use this blog."""
        with mock.patch.object(services, "index", lambda: self.index), \
                mock.patch.object(services, "content", lambda: self.content), \
                mock.patch.object(services, "site", lambda: self.site):
            yield self


class World:
    """moto, started on first use and kept for the run; blogs made once and shared between benchmarks."""

    def __init__(self) -> None:
        self._running: ExitStack | None = None
        self._blogs: dict[str, Blog] = {}
        self._saved_env: dict[str, str | None] = {}
        self.meter = meter()

    def start(self) -> None:
        """Fake AWS in this process; the blog's S3 and DynamoDB clients metered."""
        if self._running is not None:
            return
        self._saved_env = _set_environment({**environment(), "AWS_ENDPOINT_URL": None})
        self._running = ExitStack()
        self._running.enter_context(moto.mock_aws())
        self._running.enter_context(fast_dynamodb_responses())
        # The local stack's patches of moto, the same answers (tests/test_motopatch.py): Query gets
        # the asked partition only (moto sorted the whole table each time: 0.3 s at 800 posts), and a
        # transaction keeps an undo log of its items instead of copying every table it touches.
        motopatch.partitioned_queries()
        motopatch.lean_transactions()
        self._running.callback(motopatch.restore_moto)
        services.reset()
        config.get_settings()  # read now, while the environment is ours
        for service in ("s3", "dynamodb"):
            self.meter.attach(aws.client(service))

    def stop(self) -> None:
        """Stop moto, forget every blog and give the environment back."""
        if self._running is None:
            return
        self._running.close()
        self._running = None
        self._blogs.clear()
        services.reset()
        _set_environment(self._saved_env)

    def seeded(self, count: int) -> Blog:
        """A blog of `count` generated posts, indexed as ingest indexes them; made once per run."""
        name = f"posts{count}"
        if name not in self._blogs:
            blog = self.empty(name)
            blog.sources = seed(blog.index, blog.content, aws.client("dynamodb"), count)
            blog.slugs = [post_slug(number) for number in range(count)]  # post 0 is the newest
            self._blogs[name] = blog
        return self._blogs[name]

    def empty(self, name: str) -> Blog:
        """An empty blog: a versioned bucket and the table with its indexes, but no upload queue
        (moto's notifications slow every put down as the queue fills, and nobody reads it here)."""
        self.start()
        names = self._names(name)
        s3, dynamodb = aws.client("s3"), aws.client("dynamodb")
        s3.create_bucket(Bucket=names.bucket)
        s3.put_bucket_versioning(Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"})
        dynamodb.create_table(**table_definition(names.table))
        return self._blog(names)

    def settled(self, count: int) -> Blog:
        """`seeded(count)` after its first rebuild (search artifact, site summary), as after a bulk import."""
        blog = self.seeded(count)
        if not blog.settled:
            with rendering_once():
                # A run merges at most search_index.MAX_MERGE_PER_RUN queued texts: settled means all of them.
                while rebuild.rebuild(blog.index, cast(ContentStore, KnownSources(blog.content, blog.sources)),
                                      now_utc()).search_merged:
                    pass
            blog.settled = True
        return blog

    def fresh(self, name: str) -> Blog:
        """An empty blog made by the setup `make run` uses: uploads reach its queue as in production."""
        self.start()
        names = self._names(name)
        ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names)
        return self._blog(names)

    @staticmethod
    def _names(name: str) -> Names:
        return Names(bucket=f"bench-{name}-content", table=f"bench-{name}-index",
                     queue=f"bench-{name}-uploads", region="us-east-1")

    @staticmethod
    def _blog(names: Names) -> Blog:
        index = PostIndex(aws.client("dynamodb"), names.table)
        content = ContentStore(aws.client("s3"), names.bucket)
        return Blog(names, index, content, Site(index, content, config.get_settings()))

    @contextmanager
    def http(self) -> Iterator[Any]:
        """Chalice's test client on the real app (app.py imported with our environment)."""
        self.start()
        from chalice.test import Client

        import app

        with Client(app.app, project_dir=str(PROJECT_DIR)) as client:
            yield client.http


class KnownSources:
    """The content store, except that post sources seeding has just written are read from memory."""

    def __init__(self, content: ContentStore, sources: dict[str, bytes]) -> None:
        self._content = content
        self._sources = sources

    def read_version(self, key: str, version_id: str | None) -> bytes:
        """The bytes of a source, from memory when seeding wrote it."""
        return self._sources[key] if key in self._sources else self._content.read_version(key, version_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._content, name)


@contextmanager
def rendering_once() -> Iterator[None]:
    """Every generated post has the same body: render it once instead of once per post."""
    with mock.patch.object(render, "render_markdown", functools.lru_cache(maxsize=8)(render.render_markdown)), \
            mock.patch.object(render, "summarize", functools.lru_cache(maxsize=8)(render.summarize)):
        yield


def seed(index: PostIndex, content: ContentStore, dynamodb: Any, count: int) -> dict[str, bytes]:
    """Upload `count` generated posts and index them as ingest would; return the sources by key."""
    sources = {f"{posts.POSTS_PREFIX}{post_slug(n)}{posts.SOURCE_SUFFIX}": post_source(n) for n in range(count)}
    with rendering_once():
        seed_sources(index, content, dynamodb, sources.items())
    return sources


def seed_sources(index: PostIndex, content: ContentStore, dynamodb: Any, sources: Iterable[tuple[str, bytes]]) -> None:
    """Upload these post sources (key, bytes) and index them as ingest would.

    The items are the writes chalicelib.transitions plans for each new post, written straight
    into the table with BatchWriteItem (counters summed first, written last): 10,000 full
    ingests would take many minutes on moto. Rows are written as they come, so a large blog
    is never held in memory twice.
    """
    now = now_utc()
    rows: list[dict[str, Any]] = []
    counters: dict[tuple[str, str], dict[str, Any]] = {}
    owners: dict[str, str] = {}  # search document ids claimed (the seeded rows skip ingest's conditions)
    for key, data in sources:
        post = posts.parse_post(key, data)
        rendered = render.render_markdown(post.body)
        record = indexer.record_of(post, rendered, content.put(key, data, MARKDOWN_TYPE), now, rev=1)
        text = indexer.search_record(record, rendered.text, shards.claim_doc_id(owners, record.slug))
        for write in transitions.publish(None, record, [], now, text).writes():
            if isinstance(write, transitions.Delete):
                continue  # nothing to delete in a table being seeded
            if isinstance(write, transitions.Put):
                rows.append(write.item)
            elif write.add:
                counter = counters.setdefault((write.key["pk"], write.key["sk"]), {**write.key, "count": 0})
                counter["count"] += write.add["count"]
                counter.update(write.set)
            else:
                rows.append({**write.key, **write.set})
        if len(rows) >= BATCH_WRITE_ITEMS:
            _batch_write(dynamodb, index.table, rows)
            rows = []
    _batch_write(dynamodb, index.table, rows + list(counters.values()))


def _batch_write(dynamodb: Any, table: str, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH_WRITE_ITEMS):
        batch = rows[start:start + BATCH_WRITE_ITEMS]
        unprocessed = {table: [{"PutRequest": {"Item": to_item(row)}} for row in batch]}
        while unprocessed:
            unprocessed = dynamodb.batch_write_item(RequestItems=unprocessed).get("UnprocessedItems")
