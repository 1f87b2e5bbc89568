"""Fixtures: a moto-backed AWS, the stage's resources, the stores, a clock, the app.

Each builds on the one before it, as in Flask's tutorial: `aws` → `resources` →
`index`/`content` → `publish` → `client`.
"""
from __future__ import annotations

import os

# Before anything creates a boto3 client: fake credentials, test names, no endpoint.
TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "BLOG_BUCKET": "test-blog-content",
    "BLOG_TABLE": "test-blog-index",
    "BLOG_QUEUE": "test-blog-uploads",
    "BLOG_TITLE": "The Blog",
    "BLOG_SITE_URL": "",
}
os.environ.update(TEST_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)

import datetime as dt  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import moto  # noqa: E402  (imported before any boto3 client exists)
import pytest  # noqa: E402

from blogctl.resources import Names, ensure_resources  # noqa: E402
from chalicelib import aws, ingest, services  # noqa: E402
from chalicelib.store import ContentStore, PostIndex  # noqa: E402
from iam import OperationLog, acting_as, denied, recording  # noqa: E402

NOW = dt.datetime(2026, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def source(title: str = "A post", date: str = "2024-01-02", body: str = "Some *text*.", **meta: Any) -> bytes:
    """The bytes of a post file with YAML front matter."""
    lines = ["---", f"title: {json.dumps(title)}", f"date: {date}"]
    lines += [f"{key}: {json.dumps(value)}" for key, value in meta.items()]
    return ("\n".join(lines) + "\n---\n\n" + body + "\n").encode()


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class CallLog:
    """AWS operations made through the blog's clients, counted by botocore's event hooks."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def hook(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(
            "before-call.*.*", lambda model, **_: self.calls.append((service, model.name)),
            unique_id=f"call-log-{id(self)}-{service}")

    def clear(self) -> None:
        self.calls.clear()

    def count(self) -> Counter[tuple[str, str]]:
        return Counter(self.calls)

    def writes(self) -> list[tuple[str, str]]:
        write_ops = ("Put", "Update", "Delete", "TransactWrite", "BatchWrite", "Copy")
        return [c for c in self.calls if c[1].startswith(write_ops)]


@pytest.fixture(scope="session", autouse=True)
def operations() -> Iterator[OperationLog]:
    """Every AWS call the deployed code makes in this session (see tests/iam.py)."""
    with recording(OperationLog()) as log:
        yield log


@pytest.fixture(autouse=True)
def within_policy(operations: OperationLog) -> Iterator[None]:
    """Whatever a test makes the deployed code do, its stage's IAM policy allows (blogctl/policy.py)."""
    start = len(operations.calls)
    yield
    problems = denied(operations.calls[start:])
    assert not problems, "the stage's policy would deny:\n" + "\n".join(problems)


@pytest.fixture
def aws_mock() -> Iterator[None]:
    """A fresh, empty moto AWS for one test."""
    with moto.mock_aws():
        services.reset()
        yield
    services.reset()


@pytest.fixture
def project(tmp_path):
    """A copy of .chalice/ to change: `project(stage, env, **settings)` edits and loads a stage."""
    from blogctl.stage import CONFIG_FILE, load_stage

    folder = tmp_path / ".chalice"
    folder.mkdir()
    for path in CONFIG_FILE.parent.glob("*.json"):
        shutil.copy(path, folder)
    config = json.loads(CONFIG_FILE.read_text())

    def stage(name: str = "dev", env: dict[str, str] | None = None, **settings: Any):
        config["stages"][name]["environment_variables"].update(env or {})
        config["stages"][name].update(settings)
        (folder / "config.json").write_text(json.dumps(config))
        return load_stage(name, folder / "config.json")

    stage.folder = folder  # type: ignore[attr-defined]
    return stage


@pytest.fixture
def names() -> Names:
    """The test stage's resource names."""
    return Names(bucket=TEST_ENV["BLOG_BUCKET"], table=TEST_ENV["BLOG_TABLE"],
                 queue=TEST_ENV["BLOG_QUEUE"], region="us-east-1")


@pytest.fixture
def resources(aws_mock: None, names: Names) -> Names:
    """The bucket, table, queues and notification, made by the same setup `make run` uses."""
    ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names)
    return names


@pytest.fixture
def index(resources: Names) -> PostIndex:
    """The index table."""
    return services.index()


@pytest.fixture
def content(resources: Names) -> ContentStore:
    """The content bucket."""
    return services.content()


@pytest.fixture
def clock() -> Clock:
    """A clock at NOW, movable."""
    return Clock()


@pytest.fixture
def publish(index: PostIndex, content: ContentStore, clock: Clock):
    """Upload a source and ingest its key at once (as if its event had arrived)."""
    def upload(key: str, data: bytes) -> ingest.Outcome:
        content.put(key, data, "text/markdown")
        with acting_as("ingest_uploads"):
            return ingest.reconcile(key, index, content, clock())
    return upload


@pytest.fixture
def remove(index: PostIndex, content: ContentStore, clock: Clock):
    """Delete a source and ingest its key at once."""
    def delete(key: str) -> ingest.Outcome:
        content.delete(key)
        with acting_as("ingest_uploads"):
            return ingest.reconcile(key, index, content, clock())
    return delete


@pytest.fixture
def calls(resources: Names) -> CallLog:
    """Counts every S3 and DynamoDB call the blog's clients make from now on."""
    log = CallLog()
    for service in ("s3", "dynamodb"):
        log.hook(aws.client(service))
    return log


@pytest.fixture
def client(resources: Names):
    """The Chalice test client on the real app, against moto."""
    from chalice.test import Client

    import app
    from blogctl import greedy

    greedy.install()  # API Gateway's `{proxy+}` matching, as on AWS
    with Client(app.app) as test_client:
        yield test_client


class Reply:
    """A response from the test client, headers case-insensitive (lower-cased) as in HTTP."""

    def __init__(self, response: Any) -> None:
        self.status_code = response.status_code
        self.headers = {k.lower(): v for k, v in response.headers.items()}
        self.body = response.body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Browser:
    """GET requests through the Chalice test client."""

    def __init__(self, test_client: Any) -> None:
        self._client = test_client

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return Reply(self._client.http.get(path, headers=headers or {}))

    def head(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return Reply(self._client.http.request("HEAD", path, headers=headers or {}))


@pytest.fixture
def http(client) -> Browser:
    """GET requests to the app, as a reader's browser makes them."""
    return Browser(client)


@pytest.fixture
def queue_url(resources: Names) -> str:
    """The upload queue's URL."""
    return aws.client("sqs").get_queue_url(QueueName=resources.queue)["QueueUrl"]
