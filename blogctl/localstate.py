"""The local stack's data on disk: `make run` keeps the bucket, the index, the queues and the preview secret.

moto holds everything in memory, so a restart used to lose every post not in content/ and
every version of every post. Here the stack's moto server keeps its S3 (every version, delete
markers, the bucket's settings), DynamoDB, SQS and SSM state in one file under a folder git
ignores (`make run`: .local/state), and reads it back on the next start, before the setup
runs (which then finds everything in place and changes nothing). VersionIds survive: the
index's "last good version" still names the right one.

- `gated_server` is moto's threaded server with a gate around each request, so a snapshot
  is taken while no request is half done (consistent). Queue receives pass beside the gate:
  they wait up to a second for messages and change only what is in flight; a snapshot they
  disturb is taken again.
- `LocalState.save()` pickles the backends when a request changed something since the last
  save; the stack saves every SAVE_EVERY_SECONDS and when it stops. The file is replaced
  atomically: a stack killed mid-save keeps the previous snapshot.
- The snapshot holds moto's own objects: a file written by another moto version is refused
  with a message (`make reset` starts from scratch), never half read.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_FILE = "moto-state.pickle"
FORMAT = 1  # what the file holds; a file of another format (or moto version) is refused
SAVE_EVERY_SECONDS = 1.0
SNAPSHOT_ATTEMPTS = 3
# Requests that change nothing worth keeping: reads, and the pump's receives (a message in
# flight comes back after its visibility timeout anyway).
READ_OPERATIONS = ("Get", "Query", "Scan", "BatchGet", "Describe", "List", "Head", "ReceiveMessage")
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


class Gate:
    """Requests pass side by side; a snapshot waits for them to finish and holds new ones back."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._closed = False

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """One request's passage."""
        with self._condition:
            self._condition.wait_for(lambda: not self._closed)
            self._active += 1
        try:
            yield
        finally:
            with self._condition:
                self._active -= 1
                self._condition.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """No request in progress while inside."""
        with self._condition:
            self._closed = True
            self._condition.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            with self._condition:
                self._closed = False
                self._condition.notify_all()


def long_poll(environ: dict[str, Any]) -> bool:
    """A queue receive: it may wait a second for messages, so it does not hold snapshots (and readers) back."""
    return environ.get("HTTP_X_AMZ_TARGET", "").endswith(".ReceiveMessage")


def changes_state(environ: dict[str, Any]) -> bool:
    """Could this request change moto's data? (Reads and queue receives cannot, as far as we keep.)"""
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    target = environ.get("HTTP_X_AMZ_TARGET", "")  # DynamoDB, SQS (JSON), SSM: "Service.Operation"
    operation = target.rsplit(".", 1)[-1] if target else ""
    return not operation.startswith(READ_OPERATIONS)


@dataclass(frozen=True)
class Service:
    """One moto service the stack keeps: its backends, and what of each backend is saved."""

    name: str
    backends: Any  # moto's BackendDict: account -> region -> backend
    save: Callable[[Any], Any] = lambda backend: backend  # by default the whole backend
    restore: Callable[[Any, Any], None] | None = None  # (saved, fresh backend); None: the saved one replaces it


def _parameters(backend: Any) -> dict[str, Any]:
    # SSM's backend holds lambdas (not picklable); its parameters, with their versions, are what we keep.
    return {name: list(versions) for name, versions in backend._parameters.items()}


def _restore_parameters(saved: dict[str, Any], backend: Any) -> None:
    for name, versions in saved.items():
        backend._parameters[name] = versions


def services() -> list[Service]:
    """The services the blog uses locally, and how each is kept."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import ssm_backends

    return [Service("s3", s3_backends), Service("dynamodb", dynamodb_backends), Service("sqs", sqs_backends),
            Service("ssm", ssm_backends, _parameters, _restore_parameters)]


def _versioned(store_type: type, lists: dict[str, list[Any]]) -> Any:
    """An S3 bucket's key store again, with every version of every key."""
    store = store_type()
    for key, versions in lists.items():
        store.setlist(key, versions)
    return store


class _Pickler(pickle.Pickler):
    """moto's objects, with their locks and conditions made anew on loading (they guard nothing at rest).

    An S3 bucket's key store is a dict whose items() yields only each key's latest version:
    pickled as a plain dict it would lose every older version and every delete marker's
    predecessor. It is saved as its full lists instead.
    """

    def reducer_override(self, obj: Any) -> Any:
        from moto.s3.utils import _VersionedKeyStore

        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if isinstance(obj, type(threading.RLock())) else threading.Lock), ()
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, _VersionedKeyStore):
            return _versioned, (type(obj), {key: list(versions) for key, versions in dict.items(obj)})
        return NotImplemented


class StateError(Exception):
    """The saved state cannot be read back; the message says what to do."""


class LocalState:
    """moto's data for the stack's services, saved to and loaded from `folder`."""

    def __init__(self, folder: Path, gate: Gate, kept: Iterable[Service] | None = None) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.gate = gate
        self._services = list(kept) if kept is not None else services()
        self._dirty = threading.Event()
        self._save_lock = threading.Lock()

    @property
    def exists(self) -> bool:
        """Is there a saved state to start from?"""
        return self.path.exists()

    def forget(self) -> None:
        """Delete the saved state: the next start is from scratch."""
        self.path.unlink(missing_ok=True)

    def changed(self) -> None:
        """A request may have changed moto's data: the next save writes."""
        self._dirty.set()

    def _snapshot(self) -> dict[str, Any]:
        saved: dict[str, Any] = {}
        for service in self._services:
            saved[service.name] = {account: {region: service.save(backend) for region, backend in regions.items()}
                                   for account, regions in service.backends.items()}
        return saved

    def save(self, force: bool = False) -> bool:
        """Write the state if it changed since the last save (or `force`); True if written."""
        import moto

        with self._save_lock:
            if not (force or self._dirty.is_set()):
                return False
            for attempt in range(SNAPSHOT_ATTEMPTS):
                buffer = io.BytesIO()
                with self.gate.exclusive():
                    self._dirty.clear()
                    try:
                        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
                            {"format": FORMAT, "moto": moto.__version__, "services": self._snapshot()})
                        break
                    except RuntimeError:  # a queue receive (not gated) changed a queue meanwhile: again
                        self._dirty.set()
            else:
                return False  # the next save tries again
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_bytes(buffer.getvalue())
            os.replace(temporary, self.path)  # atomic: a crash leaves the old snapshot or the new one
            return True

    def load(self) -> int:
        """Put the saved state into moto's backends (before any request); return how many backends."""
        import moto

        try:
            with self.path.open("rb") as file:
                document = pickle.load(file)  # our own file, written by save() above
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as err:
            raise StateError(f"cannot read the local stack's saved data in {self.path} ({err}): "
                             "`make reset` starts from scratch") from None
        if document.get("format") != FORMAT or document.get("moto") != moto.__version__:
            raise StateError(f"{self.path} was written by moto {document.get('moto')}, this is moto "
                             f"{moto.__version__}: `make reset` starts from scratch (its data cannot be read)")
        count = 0
        for service in self._services:
            for account, regions in document["services"].get(service.name, {}).items():
                for region, saved in regions.items():
                    if service.restore is None:
                        service.backends[account][region] = saved
                    else:
                        service.restore(saved, service.backends[account][region])
                    count += 1
        return count


def gated_server(ip_address: str, port: int, state: LocalState | None, gate: Gate) -> Any:
    """moto's threaded server on ip:port, each request passing `gate` (and marking `state` changed)."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    class GatedMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            moto_app = DomainDispatcherApplication(create_backend_app)

            def app(environ: dict[str, Any], start_response: Any) -> Any:
                if long_poll(environ):
                    return list(moto_app(environ, start_response))
                with gate.request():
                    if state is not None and changes_state(environ):
                        state.changed()
                    return list(moto_app(environ, start_response))  # the body made inside the gate

            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return GatedMotoServer(ip_address=ip_address, port=port, verbose=False)
