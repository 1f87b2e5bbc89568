"""moto fit for the local stack: transactions without table copies, one DynamoDB request at a time, no history of
the rebuild's own objects.

moto 5.2 backs up every table a transaction touches with `copy.deepcopy` before each of its
actions, to roll back if one fails. At a few thousand items that copy is most of the cost of
an ingest, and the process's memory grows with the table (the local stack grew by ~1.8 GB
per 100 posts). `lean_transactions()` keeps moto's transaction code as it is, but lets it
"copy" tables by reference, and keeps an undo log of just the items the transaction
touches instead: a transaction that fails (a condition, a duplicate key, a validation
error) is rolled back item by item, so it still changes nothing.

moto's server answers requests in threads, but its DynamoDB backend is not thread-safe: a Query
walking a table while another request adds an item fails ("dictionary changed size during
iteration"), and a transaction could interleave with another. `one_request_at_a_time()`
serializes DynamoDB requests, as the real service's per-item consistency would have them
never fail; S3 and SQS are left alone.

The rebuild rewrites its search shards (`_site/`, chalicelib.store.SITE_PREFIX) as posts come
in, and the bucket is versioned: moto kept every version of every shard, which grew the local
stack by more than the posts themselves did (at 500 posts, 32 MB of shard versions against
6 MB of posts). Nothing reads an old version of them. `derived_without_history()` keeps only
the current one, as a lifecycle rule expiring noncurrent versions under `_site/` would
(moto stores the rule blogctl/resources.py sets but applies none); editors' files keep every version.
moto's S3 also keeps a tag record per object version it ever stored, an empty one for an
untagged object, dropped with nothing but the object: at 3,000 posts 62,000 records, most of
the 7.3 MB the state saver pickles on every save. The same patch keeps a record only for an
object that has tags, and none for a version it drops (an absent record reads as no tags).

moto answers a Query by walking every item of the table (at 1,000 posts, thousands per Query,
and the rebuild makes hundreds of Queries, each holding DynamoDB's requests back).
`partitioned_queries()` hands moto's Query only the items of the partition asked for: a
table's partition from the table itself, an index's from a map of the index's key values to
items, kept up to date by each write (the items a write names are taken out before it and put
back after; a write it cannot follow drops the maps); moto's own Query code then filters, sorts
and pages them as before, so the answers are the same. Every index's map is made by one walk of
the table, at 10,000 posts more than a second: `warm_index_maps()` makes them before moto serves,
so that a restarted stack's first upload does not wait for it.

Within a partition, moto still sorts every item with its own comparisons and sizes the items
it walks before the page it returns: a page of 1 from the blog's listing (a post's newer and
older neighbours) cost 0.37 s at 3,000 posts and more than a second at 10,000. So the Query
is handed only its window (`_window`): the partition's items in the key range, sorted by a
native key, from the exclusive start key on, up to `Limit` + 1 items past it, with every item
tied with either edge; moto's code then sorts, skips, pages and filters that window exactly as
it would the whole partition (tests/test_motopatch.py compares both on random tables).

moto's server finds the service of each request by host: it lists moto's package folder (a
stat of each of some 200 entries) and tries hundreds of URL patterns, under a lock every
request takes. `service_lookup_cached()` remembers the answer for each host (it depends on
the host alone): moto's server then answers about 35% more HeadObjects a second (500 against
360 from one client, measured once; from eight, 390 to 490 against 345).

Only the local stack (blogctl/localstack.py) installs these (`install()`), in the process that
runs moto's server; tests install them to prove their semantics. Not deployed.
"""
from __future__ import annotations

import copy
import functools
import json
import threading
import types
from typing import Any

_lock = threading.Lock()


class _TablesByReference(types.ModuleType):
    """The `copy` module as moto's DynamoDB backend sees it: tables are not deep-copied."""

    def __init__(self) -> None:
        super().__init__("copy")
        from moto.dynamodb.models.table import Table

        self._table_type = Table

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        """The value itself for a Table (the undo log rolls it back), a real deep copy otherwise."""
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _touched(backend: Any, actions: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, copy of the item or None) for every item the actions name."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    found = []
    for action in actions:
        try:
            (kind, operation), = action.items()
            table = backend.tables[operation["TableName"]]
            key = operation["Item"] if kind == "Put" else operation["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, ValueError):
            continue  # moto refuses this action before writing it: nothing to undo
        item = table.get_item(hash_key, range_key)
        found.append((table, hash_key, range_key, copy.deepcopy(item) if item is not None else None))
    return found


def _undo(touched: list[tuple[Any, Any, Any, Any]]) -> None:
    """Put every touched item back as it was, newest change first."""
    for table, hash_key, range_key, item in reversed(touched):
        if item is None:
            table.delete_item(hash_key, range_key)
        elif range_key is not None:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item


def lean_transactions() -> None:
    """Make moto's TransactWriteItems roll back by an undo log instead of table copies (idempotent)."""
    from moto.dynamodb import models

    with _lock:
        backend = models.DynamoDBBackend
        if getattr(backend.transact_write_items, "lean", False):
            return
        original = backend.transact_write_items
        models.copy = _TablesByReference()  # only the backend module's name: nothing else changes

        @functools.wraps(original)
        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            touched = _touched(self, transact_items)
            try:
                original(self, transact_items)
            except Exception:
                _undo(touched)
                raise

        transact_write_items.lean = True  # type: ignore[attr-defined]
        transact_write_items.original = original  # type: ignore[attr-defined]
        setattr(backend, "transact_write_items", transact_write_items)  # moto's own method, patched


_dynamodb_lock = threading.Lock()


def one_request_at_a_time() -> None:
    """Serialize moto's DynamoDB requests: its backend is not safe across the server's threads (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    with _lock:
        if getattr(DynamoHandler.call_action, "serialized", False):
            return
        original = DynamoHandler.call_action

        @functools.wraps(original)
        def call_action(self: Any) -> Any:
            with _dynamodb_lock:
                return original(self)

        call_action.serialized = True  # type: ignore[attr-defined]
        call_action.original = original  # type: ignore[attr-defined]
        setattr(DynamoHandler, "call_action", call_action)


def derived_without_history() -> None:
    """Keep only the current version of an object under SITE_PREFIX when it is written again, and no empty
    tag records (idempotent)."""
    from moto.s3.models import S3Backend

    from chalicelib.store import SITE_PREFIX

    with _lock:
        if getattr(S3Backend.put_object, "pruned", False):
            return
        original, original_tagging = S3Backend.put_object, S3Backend.put_object_tagging

        @functools.wraps(original)
        def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
            written = original(self, bucket_name, key_name, *args, **kwargs)
            tags = self.tagger.tags
            if key_name.startswith(SITE_PREFIX):
                keys = self.get_bucket(bucket_name).keys
                versions = keys.getlist(key_name, [])
                if len(versions) > 1:
                    for old in versions[:-1]:
                        old.disposed = True  # moto warns of a key dropped undisposed; a request may still read it
                        tags.pop(getattr(old, "arn", None), None)  # a delete marker has no tags
                    keys.setlist(key_name, versions[-1:])
            return written

        @functools.wraps(original_tagging)
        def put_object_tagging(self: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
            tagged = original_tagging(self, key, *args, **kwargs)  # moto's PutObject calls it, with no tags too
            if not self.tagger.tags.get(key.arn, True):
                del self.tagger.tags[key.arn]
            return tagged

        put_object.pruned = True  # type: ignore[attr-defined]
        put_object.original = original  # type: ignore[attr-defined]
        put_object_tagging.original = original_tagging  # type: ignore[attr-defined]
        setattr(S3Backend, "put_object_tagging", put_object_tagging)
        setattr(S3Backend, "put_object", put_object)


# DynamoDB operations that change no item.
READ_OPERATIONS = ("Get", "Query", "Scan", "BatchGet", "TransactGet", "Describe", "List")
# id(table) -> (table, {index key attribute: {value: {item's key: item}}}): each index's partitions, made by
# one walk of the table when first asked, then kept up to date by every write.
_partitions: dict[int, tuple[Any, dict[str, dict[Any, dict[Any, Any]]]]] = {}
_asking = threading.local()  # the partition the Query running in this thread asks for, and its arguments


def _index_partition(table: Any, attribute: str, value: Any, walk: Any) -> list[Any]:
    """The items whose `attribute` is `value`, from its map (made with every index's, see `_index_maps`)."""
    maps = _maps_of(table)
    if attribute not in maps:  # (the indexes' attributes are looked up on a miss only: every Query comes here)
        maps = _index_maps(table, walk, {attribute} | _index_attributes(table))
    return list(maps[attribute].get(value, {}).values())


def _maps_of(table: Any) -> dict[str, dict[Any, dict[Any, Any]]]:
    """The table's index maps made so far (none for a table not seen yet, or a new table at the same id)."""
    entry = _partitions.get(id(table))
    if entry is None or entry[0] is not table:
        entry = _partitions[id(table)] = (table, {})
    return entry[1]


def _index_maps(table: Any, walk: Any, attributes: set[str]) -> dict[str, dict[Any, dict[Any, Any]]]:
    """The table's maps of these attributes' values to items, the missing ones made by one walk of the table
    (at 10,000 posts a second or more: the first Query on any index pays for all of them once)."""
    maps = _maps_of(table)
    fresh: dict[str, dict[Any, dict[Any, Any]]] = {name: {} for name in attributes if name not in maps}
    if fresh:
        for item in walk(table):
            attrs = getattr(item, "attrs", {})
            for name, by_value in fresh.items():
                found = attrs.get(name)
                if found is not None:
                    by_value.setdefault(found, {})[(item.hash_key, item.range_key)] = item
        maps.update(fresh)
    return maps


def warm_index_maps() -> int:
    """Make every table's index maps now (call before moto serves): a restarted stack's first upload would
    otherwise wait for the walks. Returns how many tables."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    walk = getattr(Table.all_items, "original", Table.all_items)
    tables = [table for regions in dynamodb_backends.values() for backend in regions.values()
              for table in backend.tables.values()]
    for table in tables:
        _index_maps(table, walk, _index_attributes(table))
    return len(tables)


def _index_attributes(table: Any) -> set[str]:
    """The partition key attributes of a table's indexes."""
    return {key["AttributeName"] for index in table.all_indexes() for key in index.schema if key["KeyType"] == "HASH"}


def _range_attribute(table: Any, index_name: str | None) -> str | None:
    """The attribute moto orders a Query's results by first (None: it orders by several, no window)."""
    if not index_name:
        return table.range_key_attr
    index = next((i for i in table.all_indexes() if i.name == index_name), None)
    ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"] if index else []
    return ranges[0] if len(ranges) == 1 else None


def _window(table: Any, items: list[Any], asked: dict[str, Any]) -> list[Any]:
    """The items of a partition moto's Query walks for this page (all of them when unsure).

    moto sorts the partition, skips to the exclusive start key, and walks on, taking the items in
    the key range, until a page is full, one more item is walked (in the range or past it: then
    the page has a LastEvaluatedKey) or the partition ends. The window is that walk: the start
    key's ties on, `Limit` + 1 items of the range past them (and the ties of the last), and, when
    the range ends first, one item past it.
    """
    from moto.dynamodb.models.dynamo_type import DynamoType

    conditions = asked.get("range_key_conditions") or []
    attribute = _range_attribute(table, asked.get("index_name"))
    if attribute is None or asked.get("filter_kwargs") or len(conditions) > 1:
        return items
    comparison, bounds = asked.get("range_comparison"), asked.get("range_objs") or []
    forward = asked.get("scan_index_forward") is not False
    start = asked.get("exclusive_start_key")
    try:
        walk = sorted(((item.attrs[attribute].cast_value, item) for item in items if attribute in item.attrs),
                      key=lambda pair: pair[0], reverse=not forward)
        matched = [n for n, (_, item) in enumerate(walk)
                   if not comparison or item.attrs[attribute].compare(comparison, bounds)]
        if not matched:
            return []
        first, last = matched[0], matched[-1]
        if last - first + 1 != len(matched):  # not one run of the order: let moto walk all of it
            return items
        tied = first  # past the start key's ties
        if start:
            if attribute not in start:
                return items
            edge = DynamoType(start[attribute]).cast_value
            # the start key's ties stay: moto's own order (ties broken by the table's keys) finds it among them
            while first <= last and (walk[first][0] < edge if forward else walk[first][0] > edge):
                first += 1
            tied = first
            while tied <= last and walk[tied][0] == edge:
                tied += 1
    except TypeError:  # values of several types under one key: moto's own code says what it makes of them
        return items
    limit = asked.get("limit")
    end = last + 1 if not limit else min(last + 1, tied + limit + 1)
    while first < end <= last and walk[end][0] == walk[end - 1][0]:
        end += 1  # the last item's ties: moto's order decides which of them the page takes
    if end == last + 1 and end < len(walk):
        end += 1  # the range ended: moto walks one item past it (a full page then gets a LastEvaluatedKey)
    return [item for _, item in walk[first:end]]


def _written(handler: Any, operation: str) -> list[tuple[Any, Any, Any]] | None:
    """(table, partition key, sort key) of every item a DynamoDB write names; None if it cannot tell."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    from blogctl.localstate import item_writes

    try:
        body = handler.body.decode() if isinstance(handler.body, bytes) else handler.body
        writes = item_writes(operation, json.loads(body))
        if writes is None:
            return None
        found = []
        for name, key in writes:
            table = handler.dynamodb_backend.tables[name]
            found.append((table, DynamoType(key[table.hash_key_attr]),
                          DynamoType(key[table.range_key_attr]) if table.range_key_attr else None))
        return found
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _relist(written: list[tuple[Any, Any, Any]], listed: bool) -> None:
    """Take the written items out of their tables' index maps (before the write) or put them back (after)."""
    for table, hash_key, range_key in written:
        entry = _partitions.get(id(table))
        if entry is None or entry[0] is not table:
            continue
        try:
            item = table.get_item(hash_key, range_key)
        except Exception:  # moto refuses the key: the write changes nothing
            item = None
        if item is None:
            continue
        for attribute, by_value in entry[1].items():
            value = item.attrs.get(attribute)
            if value is None:
                continue
            if listed:
                by_value.setdefault(value, {})[(item.hash_key, item.range_key)] = item
            else:
                by_value.get(value, {}).pop((item.hash_key, item.range_key), None)


def partitioned_queries() -> None:
    """Give moto's Query the asked partition's items instead of the whole table's (idempotent)."""
    import inspect

    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    with _lock:
        if getattr(Table.query, "partitioned", False):
            return
        query, all_items, call_action = Table.query, Table.all_items, DynamoHandler.call_action
        signature = inspect.signature(query)

        @functools.wraps(query)
        def partitioned_query(self: Any, *args: Any, **kwargs: Any) -> Any:
            asked = signature.bind(self, *args, **kwargs).arguments
            conditions = asked.get("hash_key_conditions") or []
            if asked.get("index_name"):
                _asking.partition = (self, conditions[0], asked) if conditions else None
            else:
                _asking.partition = (self, (None, asked.get("hash_key")), asked)
            try:
                return query(self, *args, **kwargs)
            finally:
                _asking.partition = None

        @functools.wraps(all_items)
        def partition_items(self: Any) -> list[Any]:
            asking = getattr(_asking, "partition", None)
            if asking is None or asking[0] is not self:
                return all_items(self)
            _asking.partition = None  # once per Query: a second walk is moto's own
            (attribute, value), asked = asking[1], asking[2]
            if attribute is not None:
                return _window(self, _index_partition(self, attribute, value, all_items), asked)
            found = self.items.get(value) if value is not None else None
            if found is None:
                return [] if value is not None else all_items(self)
            return _window(self, list(found.values()), asked) if self.range_key_attr else [found]

        @functools.wraps(call_action)
        def forgetting_call_action(handler: Any) -> Any:
            target = handler.headers.get("X-Amz-Target", "") if handler.headers else ""
            operation = target.rsplit(".", 1)[-1]
            if operation.startswith(READ_OPERATIONS):
                return call_action(handler)
            written = _written(handler, operation)
            if written is not None:
                _relist(written, listed=False)  # as they are before: an update may move an item to another partition
            try:
                return call_action(handler)
            finally:
                if written is None:
                    _partitions.clear()  # a write we cannot follow (a table made or deleted): walk again
                else:
                    _relist(written, listed=True)  # as they are now (a failed write: as they were)

        patched: list[tuple[Any, str, Any]] = [(partitioned_query, "query", query),
                                              (partition_items, "all_items", all_items)]
        for function, name, original in patched:
            function.partitioned = True
            function.original = original
            setattr(Table, name, function)
        forgetting_call_action.original = call_action  # type: ignore[attr-defined]
        forgetting_call_action.serialized = getattr(call_action, "serialized", False)  # type: ignore[attr-defined]
        setattr(DynamoHandler, "call_action", forgetting_call_action)


def service_lookup_cached() -> None:
    """Remember moto's server's backend for each host instead of looking it up on every request (idempotent)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    with _lock:
        original = DomainDispatcherApplication.get_backend_for_host
        if getattr(original, "cached", False):
            return
        found: dict[str | None, Any] = {}

        @functools.wraps(original)
        def get_backend_for_host(self: Any, host: str | None) -> Any:
            if host not in found:  # called under the dispatcher's own lock
                found[host] = original(self, host)
            return found[host]

        get_backend_for_host.cached = True  # type: ignore[attr-defined]
        get_backend_for_host.original = original  # type: ignore[attr-defined]
        setattr(DomainDispatcherApplication, "get_backend_for_host", get_backend_for_host)


def install() -> None:
    """Everything the local stack's moto needs (blogctl/localstack.py calls it before starting moto)."""
    lean_transactions()
    partitioned_queries()
    one_request_at_a_time()  # outermost: the maps are read and dropped one request at a time
    derived_without_history()
    service_lookup_cached()


def _unwrap(owner: Any, name: str) -> None:
    """Put back what `owner.name` was before our patches (each wrapper keeps what it wrapped as `.original`)."""
    while (original := getattr(getattr(owner, name), "original", None)) is not None:
        setattr(owner, name, original)


def restore_moto() -> None:
    """Undo `install()` (tests restore moto as they found it)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.s3.models import S3Backend

    with _lock:
        _unwrap(models.DynamoDBBackend, "transact_write_items")
        models.copy = copy
        for owner, name in ((DynamoHandler, "call_action"),  # the serializing wrapper, then the map-dropping one
                            (DomainDispatcherApplication, "get_backend_for_host"),
                            (S3Backend, "put_object"), (S3Backend, "put_object_tagging"),
                            (Table, "query"), (Table, "all_items")):
            _unwrap(owner, name)
        _partitions.clear()
