"""Fixtures: a moto-backed AWS, the stage's resources, the stores, a clock, the app.

Each builds on the one before it, as in Flask's tutorial: `aws_mock` → `resources` →
`index`/`content` → `publish` → `client`.

Speed without sharing state: moto runs in this process and the blog's boto3 clients are
made once per session (making one costs more than a test's whole AWS setup). What a test
sees is still fresh: every test that uses AWS starts from moto with all its data reset
and the stage's resources made again by the real setup (`fresh_aws`, about 20 ms), and
`isolated` gives every test the session's environment and empty service caches.
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

import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import moto  # noqa: E402  (imported before any boto3 client exists)
import pytest  # noqa: E402
from moto.core.base_backend import BackendDict  # noqa: E402

from blogctl.recorder import CallRecorder  # noqa: E402
from blogctl.resources import Names, ensure_resources  # noqa: E402
from chalicelib import aws, config, ingest, services  # noqa: E402
from chalicelib.store import ContentStore, PostIndex  # noqa: E402
from iam import OperationLog, denied, recording  # noqa: E402

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


NAMES = Names(bucket=TEST_ENV["BLOG_BUCKET"], table=TEST_ENV["BLOG_TABLE"], queue=TEST_ENV["BLOG_QUEUE"],
              region="us-east-1")
SERVICES = ("s3", "dynamodb", "sqs")
MOTO = moto.mock_aws()  # one mock for the session, started around each test that uses AWS


def forget_services() -> None:
    """Empty the blog's service caches (settings, stores, the site's page cache) but keep its clients."""
    config.reset()
    for cached in (services.index, services.content, services.site):
        cached.cache_clear()
    # Read the settings now: inside a test-client request Chalice swaps in config.json's stage variables.
    config.get_settings()


def set_up(names: Names) -> None:
    """The stage's resources, made by the setup `make run` and `make deploy` use."""
    ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names)


@contextlib.contextmanager
def fresh_aws(names: Names | None = NAMES) -> Iterator[None]:
    """moto with every account's data reset, and the stage's resources set up by `make run`'s setup
    (none when `names` is None), for the duration. Usable where a fixture is not (Hypothesis)."""
    MOTO.start(reset=False)
    try:
        BackendDict.reset()  # even inside another mock: fresh means fresh
        forget_services()
        if names is not None:
            set_up(names)
        yield
    finally:
        MOTO.stop(remove_data=False)  # the next fresh_aws resets; a later mock_aws() resets on start


class MotoResets:
    """How many times moto's data has been reset in this process (by fresh_aws or any mock_aws())."""

    count = 0
    _reset = BackendDict.reset.__func__  # type: ignore[attr-defined]

    @classmethod
    def counted(cls, backends: type[BackendDict]) -> None:
        cls.count += 1
        cls._reset(backends)


BackendDict.reset = classmethod(MotoResets.counted)  # type: ignore[assignment,method-assign]
# Reading the queue changes it too (messages in flight), so it counts as a change.
STATE_CHANGING_READS = ("ReceiveMessage", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch")


class SharedSetup:
    """An expensive setup that read-only tests share, built once and handed to each test that asks.

    It is built again whenever moto was reset since (another test ran), and the test using it
    must not change it: every call through the blog's clients is recorded, and a test that
    writes (or reads the queue) fails, since it must have a fresh setup of its own.
    """

    registry: dict[str, SharedSetup] = {}

    def __init__(self, name: str, build: Any) -> None:
        self.name, self.build = name, build
        self.built_after: int | None = None  # MotoResets.count when it was built
        self.recorder = CallRecorder()

    def enter(self, names: Names) -> None:
        """Make moto hold this setup: kept if nothing reset moto since it was built, built anew if not."""
        if self.built_after != MotoResets.count or not _clients_are_the_sessions():
            BackendDict.reset()
            forget_services()
            set_up(names)
            self.build()
            self.built_after = MotoResets.count
        forget_services()
        self.recorder.clear()
        for service in SERVICES:
            self.recorder.attach(aws.client(service))

    def leave(self) -> None:
        """Fail the test that changed the setup (the next test that shares it gets it built anew)."""
        for service in SERVICES:
            self.recorder.detach(aws.client(service))
        changes = [call.key for call in self.recorder.calls if call.is_write or call.operation in STATE_CHANGING_READS]
        if changes or self.built_after != MotoResets.count or not _clients_are_the_sessions():
            self.built_after = None
            if changes:
                pytest.fail(f"this test changed the shared setup {self.name!r} ({changes[:3]}): "
                            "give it a setup of its own")


def shared_setup(build: Any) -> Any:
    """Decorator: a fixture named like `build` whose AWS state is built once by `build()` and shared by
    the read-only tests that ask for it (see SharedSetup). `build` runs with moto and the stage's
    resources ready, and uses `publish_now` and the app's handlers."""
    SharedSetup.registry[build.__name__] = SharedSetup(build.__name__, build)

    @pytest.fixture(name=build.__name__)
    def fixture(resources: Names) -> None:
        return None

    fixture.__doc__ = build.__doc__
    return fixture


def publish_now(key: str, data: bytes, now: dt.datetime = NOW) -> ingest.Outcome:
    """Upload a source and ingest its key at once (as if its event had arrived)."""
    content = services.content()
    content.put(key, data, "text/markdown")
    return ingest.reconcile(key, services.index(), content, now)


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
    services.reset()
    _session_clients.update({service: aws.client(service) for service in SERVICES})
    return _session_clients


@contextlib.contextmanager
def isolation() -> Iterator[None]:
    """Whatever happens inside, afterwards: the environment as before, empty service caches, the session's clients."""
    environment = dict(os.environ)
    forget_services()
    try:
        yield
    finally:
        if dict(os.environ) != environment:
            os.environ.clear()
            os.environ.update(environment)
        # Services reset inside may have made clients under other settings: make them again under ours.
        if not _clients_are_the_sessions():
            services.reset()
            _session_clients.update({service: aws.client(service) for service in SERVICES})
        forget_services()


@pytest.fixture(autouse=True)
def isolated(session_clients: dict[str, Any]) -> Iterator[None]:
    """Every test starts with the session's environment, empty service caches and the session's clients."""
    with isolation():
        yield


_session_clients: dict[str, Any] = {}


def _clients_are_the_sessions() -> bool:
    return all(aws.client(service) is _session_clients.get(service) for service in SERVICES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that share a setup one after another (each group where its first test fell in
    the random order), so that it is built once per group; the order is otherwise left alone."""
    def group(item: pytest.Item) -> Any:
        shared = [name for name in getattr(item, "fixturenames", ()) if name in SharedSetup.registry]
        return shared[0] if shared else item.nodeid

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
def names() -> Names:
    """The test stage's resource names."""
    return NAMES


@pytest.fixture
def resources(request: pytest.FixtureRequest, names: Names) -> Iterator[Names]:
    """A fresh moto with the bucket, table, queues and notification, made by the same setup `make run` uses;
    or, for a test that asks for a shared setup (`shared_setup`), that setup."""
    shared = [SharedSetup.registry[name] for name in request.fixturenames if name in SharedSetup.registry]
    if not shared:
        with fresh_aws(names):
            yield names
        return
    assert len(shared) == 1, f"a test can share one setup, not {[s.name for s in shared]}"
    MOTO.start(reset=False)
    try:
        shared[0].enter(names)
        yield names
        shared[0].leave()
    finally:
        MOTO.stop(remove_data=False)


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
        return publish_now(key, data, clock())
    return upload


@pytest.fixture
def remove(index: PostIndex, content: ContentStore, clock: Clock):
    """Delete a source and ingest its key at once."""
    def delete(key: str) -> ingest.Outcome:
        content.delete(key)
        return ingest.reconcile(key, index, content, clock())
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


@pytest.fixture
def http(client) -> Browser:
    """GET requests to the app, as a reader's browser makes them."""
    return Browser(client)


@pytest.fixture
def queue_url(resources: Names) -> str:
    """The upload queue's URL."""
    return aws.client("sqs").get_queue_url(QueueName=resources.queue)["QueueUrl"]
