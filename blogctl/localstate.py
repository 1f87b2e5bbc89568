"""The local stack's data on disk: `make run` keeps the bucket, the index, the queues and the preview secret.

moto holds everything in memory, so a restart used to lose every post not in content/ and
every version of every post. Here the stack's moto server keeps its S3 (every version, delete
markers, the bucket's settings), DynamoDB, SQS and SSM state in a folder git ignores (`make
run`: .local/state), and reads it back on the next start, before the setup runs (which then
finds everything in place and changes nothing). VersionIds survive: the index's "last good
version" still names the right one.

- `gated_server` is moto's threaded server with a gate around each request, so a snapshot
  is taken while no request is half done (consistent). Queue receives pass beside the gate:
  they wait up to a second for messages and change only what is in flight; a snapshot they
  disturb is taken again.
- The state is saved in parts, and a save writes only the parts a request changed: each
  bucket's keys and each table's items are split into SHARDS parts by key (`note()` reads
  which from each request: the object's key, the items' partition keys), and everything
  else (buckets' and tables' settings, the queues, the parameters: small) is one part. So
  a save holds requests back for what changed since the last one, not for the whole
  archive (a whole-state save pickled 138 MB at 1,000 posts while every request waited).
- A part is written to its new file as soon as it is pickled (inside the gate), so a save that
  rewrites the whole archive (a merge touches most of the search shards) holds one part in memory,
  not the archive's pickles.
- MANIFEST names the file of every part; a save writes new files, then replaces the
  manifest atomically, then deletes the files it replaced: a stack killed mid-save keeps
  the previous state whole.
- The parts hold moto's own objects: a state written by another moto version is refused
  with a message (`make reset` starts from scratch), never half read. A state of the
  earlier single-file format (STATE_FILE) is read, and the next save writes it in parts.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import re
import shutil
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

STATE_FILE = "moto-state.pickle"  # format 1: the whole state in one file (read once, then saved in parts)
MANIFEST = "manifest.json"
PARTS = "parts"
FORMAT = 2  # what the manifest describes; a state of another format (or moto version) is refused
OLD_FORMAT = 1
# Parts per bucket and per table. A save pickles each part a request changed whole, with every
# request held back: at 4,096, a 10,000-post archive's parts held about 100 KB each, and the
# saves beside a rebuild's merge pickled 13 to 46 MB (up to 0.75 s) each. At 32,768 a part holds
# one or two keys. A state saved with another count is read, and its next save rewrites it whole.
SHARDS = 32_768
SLOW_SECONDS = 0.5  # a request this slow, or requests held back this long, is logged (what delayed an upload)
SAVE_EVERY_SECONDS = 1.0
SNAPSHOT_ATTEMPTS = 3
# Requests that change nothing worth keeping: reads, and the pump's receives (a message in
# flight comes back after its visibility timeout anyway).
READ_OPERATIONS = ("Get", "Query", "Scan", "BatchGet", "TransactGet", "Describe", "List", "Head", "ReceiveMessage")
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_CREDENTIAL_SERVICE = re.compile(r"Credential=[^/,&]+/[^/,&]+/[^/,&]+/([^/,&]+)/")  # SigV4's scope names the service
PATH_STYLE_HOSTS = ("127.0.0.1", "localhost")  # moto reads the bucket from the path for these
ALL = None  # every shard of a bucket or table


class Gate:
    """Requests pass side by side; a snapshot waits for them to finish and holds new ones back.

    `on_slow` hears of every closing that held requests back SLOW_SECONDS or more, and (from
    `gated_server`) of every request that took that long: the local stack logs them."""

    def __init__(self, on_slow: Callable[[str], None] | None = None) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._closed = False
        self.on_slow = on_slow

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
    def exclusive(self, purpose: str | Callable[[], str] = "a snapshot") -> Iterator[None]:
        """No request in progress while inside (`purpose` names it in the slow log; a callable, once done)."""
        started = time.monotonic()
        with self._condition:
            self._closed = True
            self._condition.wait_for(lambda: self._active == 0)
        emptied = time.monotonic()
        try:
            yield
        finally:
            with self._condition:
                self._closed = False
                self._condition.notify_all()
            held = time.monotonic() - started
            self.report(held, lambda: f"requests held back {held:.2f} s for "
                                      f"{purpose() if callable(purpose) else purpose} "
                                      f"({emptied - started:.2f} s of it waiting for those in flight)")

    def report(self, seconds: float, describe: Callable[[], str]) -> None:
        """Tell `on_slow` what took `seconds` if that is SLOW_SECONDS or more (described only then: every
        request reports)."""
        if self.on_slow is not None and seconds >= SLOW_SECONDS:
            self.on_slow(describe())


def long_poll(environ: dict[str, Any]) -> bool:
    """A queue receive: it may wait a second for messages, so it does not hold snapshots (and readers) back."""
    return environ.get("HTTP_X_AMZ_TARGET", "").endswith(".ReceiveMessage")


def operation(environ: dict[str, Any]) -> str:
    """A request as the slow log names it: 'DynamoDB Query', 'S3 PUT /bucket/key'."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")  # DynamoDB, SQS (JSON), SSM: "Service_version.Operation"
    if target:
        service, _, name = target.partition(".")
        return f"{service.split('_')[0]} {name}"
    path = environ.get("PATH_INFO", "").encode("latin-1", "replace").decode("utf-8", "replace")  # WSGI's latin-1
    return f"S3 {environ.get('REQUEST_METHOD', 'GET')} {path}"


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
    """One moto service the stack keeps: its backends, what of each backend is saved, and its big containers."""

    name: str
    backends: Any  # moto's BackendDict: account -> region -> backend
    save: Callable[[Any], Any] = lambda backend: backend  # by default the whole backend
    restore: Callable[[Any, Any], None] | None = None  # (saved, fresh backend); None: the saved one replaces it
    # name -> a dict (a bucket's keys, a table's items) saved in SHARDS parts apart from the backend
    containers: Callable[[Any], dict[str, Any]] | None = None
    shard_of: Callable[[Any], int] | None = None  # the shard of one of a container's keys


def _parameters(backend: Any) -> dict[str, Any]:
    # SSM's backend holds lambdas (not picklable); its parameters, with their versions, are what we keep.
    return {name: list(versions) for name, versions in backend._parameters.items()}


def _restore_parameters(saved: dict[str, Any], backend: Any) -> None:
    for name, versions in saved.items():
        backend._parameters[name] = versions


def key_shard(text: str) -> int:
    """The part a bucket's key (or a table's partition key, as "S:value") is saved in."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % SHARDS


def _partition_shard(hash_key: Any) -> int:
    return key_shard(f"{hash_key.type}:{hash_key.value}")  # a DynamoType; note() reads "S" keys the same way


def _buckets(backend: Any) -> dict[str, Any]:
    return {name: bucket.keys for name, bucket in list(backend.buckets.items())}


def _tables(backend: Any) -> dict[str, Any]:
    return {name: table.items for name, table in list(backend.tables.items())}


def services() -> list[Service]:
    """The services the blog uses locally, and how each is kept."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import ssm_backends

    return [Service("s3", s3_backends, containers=_buckets, shard_of=key_shard),
            Service("dynamodb", dynamodb_backends, containers=_tables, shard_of=_partition_shard),
            Service("sqs", sqs_backends), Service("ssm", ssm_backends, _parameters, _restore_parameters)]


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


def _empty_like(container: dict[Any, Any]) -> dict[Any, Any]:
    return defaultdict(container.default_factory) if isinstance(container, defaultdict) else type(container)()


class _RestPickler(_Pickler):
    """The backends without their containers' contents: each container is saved as an empty one, by name."""

    def __init__(self, file: io.BytesIO, containers: dict[int, tuple[str, str, str, str, Any]]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._containers = containers  # id(container) -> (service, account, region, name, live container)

    def persistent_id(self, obj: Any) -> Any:
        found = self._containers.get(id(obj))
        if found is None or found[4] is not obj:
            return None
        service, account, region, name, container = found
        return service, account, region, name, _empty_like(container)


class _RestUnpickler(pickle.Unpickler):
    """The backends again, their containers empty and found by name (the parts fill them)."""

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.containers: dict[tuple[str, str, str, str], Any] = {}

    def persistent_load(self, pid: Any) -> Any:
        service, account, region, name, empty = pid
        self.containers[(service, account, region, name)] = empty
        return empty


def _dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def _part(service: str, account: str, region: str, name: str, shard: int) -> str:
    return f"{service}/{account}/{region}/{name}/{shard}"


Marks = dict[tuple[str, str | None], set[int] | None]  # (service, container or None: all) -> shards or ALL


class StateError(Exception):
    """The saved state cannot be read back; the message says what to do."""


class LocalState:
    """moto's data for the stack's services, saved to and loaded from `folder` in parts."""

    def __init__(self, folder: Path, gate: Gate, kept: Iterable[Service] | None = None) -> None:
        self.folder = folder
        self.path = folder  # where the state is (the stack's messages name it)
        self.gate = gate
        self._services = list(kept) if kept is not None else services()
        self._sharded = {service.name: service for service in self._services if service.containers is not None}
        self._dirty = threading.Event()
        self._save_lock = threading.Lock()
        self._marks_lock = threading.Lock()
        self._marks: Marks = {}
        self._files: dict[str, str] = {}  # part -> file name under PARTS, as the manifest on disk says
        self._rest: str | None = None  # the file of the rest, None until a manifest is written or read
        self._generation = 0
        self.pickled: tuple[int, float] = (0, 0.0)  # the last snapshot's parts and megabytes (the slow log's)

    @property
    def exists(self) -> bool:
        """Is there a saved state to start from?"""
        return (self.folder / MANIFEST).exists() or (self.folder / STATE_FILE).exists()

    def forget(self) -> None:
        """Delete the saved state: the next start is from scratch."""
        (self.folder / MANIFEST).unlink(missing_ok=True)
        (self.folder / STATE_FILE).unlink(missing_ok=True)
        shutil.rmtree(self.folder / PARTS, ignore_errors=True)
        self._files, self._rest, self._generation = {}, None, 0

    def changed(self) -> None:
        """Anything in moto's data may have changed: the next save writes all of it."""
        self._mark_everything()

    def note(self, environ: dict[str, Any]) -> None:
        """A request that can change moto's data is about to run: mark the parts it can change."""
        service = (_CREDENTIAL_SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
                   or _CREDENTIAL_SERVICE.search(unquote(environ.get("QUERY_STRING", ""))))  # or a presigned URL
        name = service.group(1) if service else None
        if name == "s3":
            marks = _s3_marks(environ)
        elif name == "dynamodb":
            marks = self._dynamodb_marks(environ)
        elif name is None:  # not an AWS client's request (moto's own API): anything
            self._mark_everything()
            return
        else:  # the queues and the parameters are in the rest, saved whenever anything changed
            marks = []
        with self._marks_lock:
            for container, shards in marks:
                _merge(self._marks, (name, container), shards)
            self._dirty.set()

    def _mark_everything(self) -> None:
        with self._marks_lock:
            for name in self._sharded:
                _merge(self._marks, (name, None), ALL)
            self._dirty.set()

    def _take_marks(self) -> Marks:
        with self._marks_lock:
            marks, self._marks = self._marks, {}
            self._dirty.clear()
            if self._rest is None:  # nothing on disk yet: all of it
                marks = {(name, None): ALL for name in self._sharded}
            return marks

    def _put_back(self, marks: Marks) -> None:
        with self._marks_lock:
            for key, shards in marks.items():
                _merge(self._marks, key, shards)
            self._dirty.set()

    def _hash_key_attribute(self, table: str) -> str | None:
        """The partition key's name of the table so named (None: no such table)."""
        service = self._sharded.get("dynamodb")
        if service is None:
            return None
        for regions in list(service.backends.values()):
            for backend in list(regions.values()):
                found = backend.tables.get(table)
                if found is not None:
                    return str(found.hash_key_attr)
        return None

    def _dynamodb_marks(self, environ: dict[str, Any]) -> list[tuple[str | None, set[int] | None]]:
        """The tables' shards a DynamoDB request can change: its items' partition keys (all of a table, or of
        every table, when it cannot tell)."""
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
        try:
            request = json.loads(_body(environ) or b"{}")
            writes = item_writes(operation, request)
            if writes is None:
                return [(request["TableName"], ALL)] if "TableName" in request else [(None, ALL)]
            marks: list[tuple[str | None, set[int] | None]] = []
            for table, key in writes:
                attribute = self._hash_key_attribute(table)
                if attribute is None:  # not a table by that name (an ARN?): every table
                    return [(None, ALL)]
                value = key[attribute]
                if list(value) == ["S"] and isinstance(value["S"], str):
                    marks.append((table, {key_shard("S:" + value["S"])}))
                else:
                    marks.append((table, ALL))
            return marks
        except (ValueError, KeyError, TypeError, AttributeError, RuntimeError):
            return [(None, ALL)]  # moto will refuse it, or we cannot tell what it writes: every table

    def _snapshot(self, marks: Marks, generation: int) -> tuple[bytes, dict[str, str], Marks]:
        """The rest pickled, and the marked parts pickled and each written to a new file as it is (inside the
        gate: consistent; one part at a time, so a save that rewrites the whole archive holds one part's
        pickle in memory, not the archive's): (rest, part -> file, marks)."""
        live: dict[int, tuple[str, str, str, str, Any]] = {}
        saved: dict[str, Any] = {}
        for service in self._services:
            saved[service.name] = {}
            for account, regions in service.backends.items():
                saved[service.name][account] = {}
                for region, backend in regions.items():
                    saved[service.name][account][region] = service.save(backend)
                    if service.containers is not None:
                        for name, container in service.containers(backend).items():
                            live[id(container)] = (service.name, account, region, name, container)
        folder = self.folder / PARTS
        folder.mkdir(parents=True, exist_ok=True)
        written: dict[str, str] = {}
        pickled = 0
        for service_name, account, region, name, container in live.values():
            wanted = [shards for (marked, only), shards in marks.items()
                      if marked == service_name and only in (None, name)]
            if not wanted:
                continue
            shards: set[int] | None = set()
            for marked_shards in wanted:
                shards = ALL if shards is ALL or marked_shards is ALL else shards | marked_shards
            shard_of = self._sharded[service_name].shard_of
            assert shard_of is not None
            groups: dict[int, dict[Any, Any]] = defaultdict(dict)
            for key, value in dict.items(container):
                shard = shard_of(key)
                if shards is ALL or shard in shards:
                    groups[shard][key] = value
            for shard, contents in groups.items():
                file = f"{generation}-{len(written)}.pickle"
                data = _dumps(contents)
                (folder / file).write_bytes(data)
                pickled += len(data)
                written[_part(service_name, account, region, name, shard)] = file
        buffer = io.BytesIO()
        _RestPickler(buffer, live).dump(saved)
        self.pickled = (len(written), (pickled + buffer.tell()) / 1e6)
        return buffer.getvalue(), written, marks

    def save(self, force: bool = False) -> bool:
        """Write what changed since the last save (everything if `force`); True if written."""
        with self._save_lock:
            if force:
                self._mark_everything()
            if not self._dirty.is_set():
                return False
            generation = self._generation + 1  # new files' names: the manifest on disk names none of them
            for attempt in range(SNAPSHOT_ATTEMPTS):
                with self.gate.exclusive(lambda: "saving the state ({} parts, {:.1f} MB)".format(*self.pickled)):
                    marks = self._take_marks()
                    try:
                        rest, parts, marks = self._snapshot(marks, generation)
                        break
                    except RuntimeError:  # a queue receive (not gated) changed a queue meanwhile: again
                        self._put_back(marks)
                    except BaseException:  # not on disk: the next save writes these parts again
                        self._put_back(marks)
                        raise
            else:
                return False  # the next save tries again
            try:
                self._write(rest, parts, marks, generation)
            except BaseException:  # not in the manifest: the next save writes these parts again
                self._put_back(marks)
                raise
            return True

    def _write(self, rest: bytes, parts: dict[str, str], marks: Marks, generation: int) -> None:
        """With the parts' new files written: the rest's, then the manifest replaced, then the old files deleted."""
        import moto

        files = {part: name for part, name in self._files.items() if not _cleared(part, marks)}
        files.update(parts)
        folder = self.folder / PARTS
        rest_file = f"{generation}-rest.pickle"
        (folder / rest_file).write_bytes(rest)
        manifest = {"format": FORMAT, "moto": moto.__version__, "generation": generation, "rest": rest_file,
                    "parts": files}
        temporary = self.folder / (MANIFEST + ".tmp")
        temporary.write_text(json.dumps(manifest))
        os.replace(temporary, self.folder / MANIFEST)  # atomic: a crash leaves the old state whole, or the new one
        kept = set(files.values())
        for old in [*self._files.values(), *([self._rest] if self._rest else [])]:
            if old not in kept:
                (folder / old).unlink(missing_ok=True)
        (self.folder / STATE_FILE).unlink(missing_ok=True)  # the single-file format, read at the start
        self._files, self._rest, self._generation = files, rest_file, generation

    def load(self) -> int:
        """Put the saved state into moto's backends (before any request); return how many backends."""
        import moto

        if not (self.folder / MANIFEST).exists() and (self.folder / STATE_FILE).exists():
            count = self._load_single_file()
            self._mark_everything()  # the next save writes it in parts
            return count
        manifest = self.folder / MANIFEST
        try:
            document = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise StateError(f"cannot read the local stack's saved data in {manifest} ({err}): "
                             "`make reset` starts from scratch") from None
        if document.get("format") != FORMAT or document.get("moto") != moto.__version__:
            raise StateError(f"{self.folder} was written by moto {document.get('moto')}, this is moto "
                             f"{moto.__version__}: `make reset` starts from scratch (its data cannot be read)")
        folder = self.folder / PARTS
        try:
            with (folder / document["rest"]).open("rb") as file:
                reader = _RestUnpickler(file)
                saved = reader.load()  # our own files, written by save() above
            for part, name in document["parts"].items():
                service, account, region, container, shard = part.split("/")
                contents = pickle.loads((folder / name).read_bytes())
                dict.update(reader.containers[(service, account, region, container)], contents)
                shard_of = self._sharded[service].shard_of
                assert shard_of is not None
                if any(shard_of(key) != int(shard) for key in contents):  # saved by another shard function
                    self._put_back({(service, container): ALL})
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, KeyError,
                ValueError) as err:
            raise StateError(f"cannot read the local stack's saved data in {self.folder} ({err!r}): "
                             "`make reset` starts from scratch") from None
        count = self._install(saved)
        self._files, self._rest, self._generation = dict(document["parts"]), document["rest"], document["generation"]
        kept = {*self._files.values(), self._rest}
        for leftover in folder.iterdir():  # a save interrupted before its manifest: its files
            if leftover.name not in kept:
                leftover.unlink(missing_ok=True)
        return count

    def _load_single_file(self) -> int:
        """The single-file format (1) the stack saved before it saved in parts."""
        import moto

        path = self.folder / STATE_FILE
        try:
            with path.open("rb") as file:
                document = pickle.load(file)  # our own file, written by an earlier save()
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError) as err:
            raise StateError(f"cannot read the local stack's saved data in {path} ({err}): "
                             "`make reset` starts from scratch") from None
        if document.get("format") != OLD_FORMAT or document.get("moto") != moto.__version__:
            raise StateError(f"{path} was written by moto {document.get('moto')}, this is moto "
                             f"{moto.__version__}: `make reset` starts from scratch (its data cannot be read)")
        return self._install(document["services"])

    def _install(self, saved: dict[str, Any]) -> int:
        count = 0
        for service in self._services:
            for account, regions in saved.get(service.name, {}).items():
                for region, backend in regions.items():
                    if service.restore is None:
                        service.backends[account][region] = backend
                    else:
                        service.restore(backend, service.backends[account][region])
                    count += 1
        return count


def _merge(marks: Marks, key: tuple[str, str | None], shards: set[int] | None) -> None:
    if key in marks and marks[key] is ALL:
        return
    if shards is ALL:
        marks[key] = ALL
    else:
        marks[key] = (marks.get(key) or set()) | shards


def _cleared(part: str, marks: Marks) -> bool:
    """Is this part one of those a save rewrote (or found gone)?"""
    service, _, _, container, shard = part.split("/")
    for (marked, only), shards in marks.items():
        if marked == service and only in (None, container) and (shards is ALL or int(shard) in shards):
            return True
    return False


def _body(environ: dict[str, Any]) -> bytes:
    """The request's body, read and put back for moto to read."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def item_writes(operation: str, request: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """(table, the item or its key) for each item a DynamoDB write names; None for other operations."""
    if operation == "PutItem":
        return [(request["TableName"], request["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(request["TableName"], request["Key"])]
    if operation == "BatchWriteItem":
        return [(table, write["PutRequest"]["Item"] if "PutRequest" in write else write["DeleteRequest"]["Key"])
                for table, writes in request["RequestItems"].items() for write in writes]
    if operation == "TransactWriteItems":
        found = []
        for action in request["TransactItems"]:
            (kind, write), = action.items()
            if kind != "ConditionCheck":
                found.append((write["TableName"], write["Item"] if kind == "Put" else write["Key"]))
        return found
    return None


def _s3_marks(environ: dict[str, Any]) -> list[tuple[str | None, set[int] | None]]:
    """The buckets' shards an S3 request can change: its object's key's (all of a bucket, or of every bucket,
    when it cannot tell). The key is read from the path as moto reads it."""
    raw = environ.get("RAW_URI", "")
    if not raw or not environ.get("HTTP_HOST", "").startswith(PATH_STYLE_HOSTS):
        return [(None, ALL)]  # a bucket named in the host, or a server that does not say the raw path
    path = urlparse(raw).path if urlparse(raw).scheme else raw.split("?", 1)[0]
    pieces = unquote(path).split("/")
    bucket, key = (pieces[1] if len(pieces) > 1 else ""), "/".join(pieces[2:])
    if not bucket:
        return [(None, ALL)]
    if key:
        return [(bucket, {key_shard(key)})]  # every object request changes that key's versions at most
    if environ.get("REQUEST_METHOD") == "PUT" and parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        return []  # a bucket's settings (versioning, notifications): in the rest
    return [(bucket, ALL)]  # created, deleted, or a multi-object delete


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
                started = time.monotonic()
                with gate.request():
                    passed = time.monotonic()
                    if state is not None and changes_state(environ):
                        state.note(environ)
                    body = list(moto_app(environ, start_response))  # the body made inside the gate
                seconds = time.monotonic() - started
                gate.report(seconds, lambda: f"{operation(environ)} took {seconds:.2f} s "
                                             f"({passed - started:.2f} s of it at the gate)")
                return body

            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return GatedMotoServer(ip_address=ip_address, port=port, verbose=False)
