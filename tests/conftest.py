"""Fixtures: a moto-backed AWS, the stage's resources, the stores, a clock, the app.

Each builds on the one before it, as in Flask's tutorial: `aws_mock` → `resources` →
`index`/`content` → `publish` → `client`. How AWS stays fresh, fast and unshared between
tests (clients kept for the session, moto reset per test, shared read-only setups) is
tests/fakeaws.py's business.
"""
from __future__ import annotations

from fakeaws import TEST_ENV  # noqa: F401  (first: sets the environment before any boto3 client exists)

import datetime as dt  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from blogctl.recorder import CallRecorder  # noqa: E402
from blogctl.resources import Names  # noqa: E402
from chalicelib import aws, indexer, services  # noqa: E402
from chalicelib.store import ContentStore, PostIndex  # noqa: E402
from fakeaws import (  # noqa: E402
    NAMES, fresh_aws, isolation, make_session_clients, shared_setup, shared_setups_of, sharing,
)
from iam import OperationLog, acting_as, denied, recording  # noqa: E402

__all__ = ["NOW", "TEST_ENV", "Clock", "fresh_aws", "publish_now", "shared_setup", "source"]

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


def cpu_seconds(work: Callable[[], object]) -> float:
    """The CPU time one call of `work` takes (growth checks compare two of them, never a time to a limit)."""
    started = time.process_time()
    work()
    return time.process_time() - started


def publish_now(key: str, data: bytes, now: dt.datetime = NOW) -> indexer.Outcome:
    """Upload a source and ingest its key at once (as if its event had arrived), as the ingest function."""
    content = services.content()
    content.put(key, data, "text/markdown")
    with acting_as("ingest_uploads"):
        return indexer.reconcile(key, services.index(), content, now)


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


@pytest.fixture(scope="session", autouse=True)
def session_clients(operations: OperationLog) -> dict[str, Any]:
    """The blog's boto3 clients, made once (after the policy recorder hooks client creation)."""
    return make_session_clients()


@pytest.fixture(autouse=True)
def isolated(session_clients: dict[str, Any]) -> Iterator[None]:
    """Every test starts with the session's environment, empty service caches and the session's clients."""
    with isolation():
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that share a setup one after another (each group where its first test fell in
    the random order), so that it is built once per group; the order is otherwise left alone."""
    def group(item: pytest.Item) -> Any:
        shared = shared_setups_of(getattr(item, "fixturenames", ()))
        return shared[0].name if shared else item.nodeid

    first: dict[Any, int] = {}
    for position, item in enumerate(items):
        first.setdefault(group(item), position)
    items.sort(key=lambda item: first[group(item)])  # stable: order inside a group is kept


@pytest.fixture
def aws_mock() -> Iterator[None]:
    """A fresh, empty moto AWS for one test."""
    with fresh_aws(names=None):
        yield


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

    stage.folder = folder
    return stage


@pytest.fixture
def names() -> Names:
    """The test stage's resource names."""
    return NAMES


@pytest.fixture
def resources(request: pytest.FixtureRequest, names: Names) -> Iterator[Names]:
    """A fresh moto with the bucket, table, queues and notification, made by the same setup `make run` uses;
    or, for a test that asks for a shared setup (`shared_setup`), that setup."""
    shared = shared_setups_of(request.fixturenames)
    assert len(shared) <= 1, f"a test can share one setup, not {[s.name for s in shared]}"
    with sharing(shared[0], names) if shared else fresh_aws(names):
        yield names


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
    def upload(key: str, data: bytes) -> indexer.Outcome:
        return publish_now(key, data, clock())
    return upload


@pytest.fixture
def remove(index: PostIndex, content: ContentStore, clock: Clock):
    """Delete a source and ingest its key at once."""
    def delete(key: str) -> indexer.Outcome:
        content.delete(key)
        with acting_as("ingest_uploads"):
            return indexer.reconcile(key, index, content, clock())
    return delete


@pytest.fixture
def calls(resources: Names) -> Iterator[CallRecorder]:
    """Records every S3 and DynamoDB call the blog's clients make from now on (blogctl/recorder.py)."""
    with CallRecorder().recording(aws.client("s3"), aws.client("dynamodb")) as recorder:
        yield recorder


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


@pytest.fixture
def stage_aws():
    """moto (its own, not the shared one) with the dev stage's resources, for commands run as an operator
    would; the environment restored afterwards."""
    import os

    import moto

    from blogctl.resources import ensure_resources
    from blogctl.stage import load_stage

    saved = dict(os.environ)
    with moto.mock_aws():
        stage = load_stage("dev")
        os.environ.update(stage.env)
        services.reset()
        ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"),
                         Names(stage.bucket, stage.table, stage.queue, "us-east-1"))
        yield stage
    os.environ.clear()
    os.environ.update(saved)
    services.reset()

