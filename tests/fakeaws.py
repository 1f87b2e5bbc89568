"""The tests' AWS: moto in this process, fresh for every test, fast, and nothing shared by accident.

- The environment (TEST_ENV) is set on import, before any boto3 client exists.
- The blog's boto3 clients are made once per session (making one costs more than a test's
  whole AWS setup) and kept: clients hold no AWS state, moto's backends do.
- `fresh_aws()`: moto with every backend reset and the stage's resources made by the real
  setup (`make run`'s and `make deploy`'s), about 20 ms; complete by construction.
- `isolation()`: afterwards the environment is as before, the service caches are empty and
  the clients are the session's (made again if something replaced them).
- `SharedSetup` / `shared_setup`: an expensive setup built once and shared by tests that
  only read it, rebuilt whenever moto was reset since, and guarded: a test that writes to
  it fails.
"""
from __future__ import annotations

import os

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
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import moto  # noqa: E402  (imported before any boto3 client exists)
import pytest  # noqa: E402
from moto.core.base_backend import BackendDict  # noqa: E402

from blogctl.recorder import CallRecorder  # noqa: E402
from blogctl.resources import Names, ensure_resources  # noqa: E402
from chalicelib import aws, config, services  # noqa: E402

NAMES = Names(bucket=TEST_ENV["BLOG_BUCKET"], table=TEST_ENV["BLOG_TABLE"], queue=TEST_ENV["BLOG_QUEUE"],
              region="us-east-1")
SERVICES = ("s3", "dynamodb", "sqs", "ssm")
MOTO = moto.mock_aws()  # one mock for the session, started around each test that uses AWS
# Reading the queue changes it too (messages in flight), so a shared setup counts it as a change.
STATE_CHANGING_READS = ("ReceiveMessage", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch")

_session_clients: dict[str, Any] = {}


def forget_services() -> None:
    """Empty the blog's service caches (settings, stores, the site's page cache) but keep its clients."""
    config.reset()
    for cached in (services.index, services.content, services.preview_secret, services.site):
        cached.cache_clear()
    # Read the settings now: inside a test-client request Chalice swaps in config.json's stage variables.
    config.get_settings()


def make_session_clients() -> dict[str, Any]:
    """Make the blog's clients anew under the current settings and keep them as the session's."""
    services.reset()
    _session_clients.update({service: aws.client(service) for service in SERVICES})
    return _session_clients


def clients_are_the_sessions() -> bool:
    """Are the blog's cached clients the ones made for the session?"""
    return all(aws.client(service) is _session_clients.get(service) for service in SERVICES)


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
        if not clients_are_the_sessions():  # made under other settings, maybe: make them under ours
            make_session_clients()
        forget_services()


class MotoResets:
    """How many times moto's data has been reset in this process (by fresh_aws or any mock_aws())."""

    count = 0
    _reset = BackendDict.reset.__func__  # type: ignore[attr-defined]

    @classmethod
    def counted(cls, backends: type[BackendDict]) -> None:
        cls.count += 1
        cls._reset(backends)


# Every reset goes through BackendDict.reset (MockAWS.start and stop call it): count them.
BackendDict.reset = classmethod(MotoResets.counted)  # type: ignore[assignment,method-assign]


class SharedSetup:
    """An expensive setup that read-only tests share, built once and handed to each test that asks.

    It is built again whenever moto was reset since (another test ran), and the test using it
    must not change it: every call through the blog's clients is recorded, and a test that
    writes (or reads the queue) fails, since it must have a fresh setup of its own.
    """

    registry: dict[str, SharedSetup] = {}

    def __init__(self, name: str, build: Callable[[], None]) -> None:
        self.name, self.build = name, build
        self.built_after: int | None = None  # MotoResets.count when it was built
        self.recorder = CallRecorder()

    def enter(self, names: Names) -> None:
        """Make moto hold this setup: kept if nothing reset moto since it was built, built anew if not."""
        if self.built_after != MotoResets.count or not clients_are_the_sessions():
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
        if changes or self.built_after != MotoResets.count or not clients_are_the_sessions():
            self.built_after = None
            if changes:
                pytest.fail(f"this test changed the shared setup {self.name!r} ({changes[:3]}): "
                            "give it a setup of its own")


def shared_setup(build: Callable[[], None]) -> Any:
    """Decorator: a fixture named like `build` whose AWS state `build()` makes once, shared by the
    read-only tests that ask for it (see SharedSetup). `build` runs with moto and the stage's
    resources ready (conftest's `resources` fixture hands the setup over)."""
    SharedSetup.registry[build.__name__] = SharedSetup(build.__name__, build)

    @pytest.fixture(name=build.__name__)
    def fixture(resources: Names) -> None:
        return None

    fixture.__doc__ = build.__doc__
    return fixture


def shared_setups_of(fixturenames: Iterator[str] | list[str] | tuple[str, ...]) -> list[SharedSetup]:
    """The shared setups among a test's fixtures."""
    return [SharedSetup.registry[name] for name in fixturenames if name in SharedSetup.registry]


@contextlib.contextmanager
def sharing(setup: SharedSetup, names: Names) -> Iterator[None]:
    """moto holding `setup` for one test, checked after it."""
    MOTO.start(reset=False)
    try:
        setup.enter(names)
        yield
        setup.leave()
    finally:
        MOTO.stop(remove_data=False)
