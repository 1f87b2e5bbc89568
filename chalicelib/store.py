"""The only module that talks to S3 and DynamoDB about content and the index (and to SSM).

`ContentStore` wraps the content bucket (post sources, assets, built artifacts under
`_site/`). `PostIndex` wraps the index table, whose items are the typed values of
`chalicelib.model` (the table layout is documented there). `SecretParameter` is one
SecureString in SSM Parameter Store (the preview links' secret). Each takes its client and
resource name as arguments, so tests and tools can point them anywhere.
"""
from __future__ import annotations

import builtins
import contextvars
import datetime as dt
import decimal
import json
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib import model
from chalicelib.model import (
    LISTING_INDEX, LISTING_PARTITION, SEARCH_INDEX, SEARCH_QUEUE_PARTITION, SITE_KEY, SOURCE_INDEX, Count, Key,
    Marker, PostCard, Redirect, SourceState,
)

if TYPE_CHECKING:  # only writes need them (imported in _action): a cold post view never loads the transitions
    from chalicelib.transitions import Condition, Write

SITE_PREFIX = "_site/"  # what the rebuild builds (the search index), never an editor's file

SEARCH_QUEUE_FIELDS = ("doc", "rev", "day", "length", "terms", "forms", "indexed", "indexed_length")
PARALLEL_READS = 8  # S3 objects read at once (a search reads a handful of shards)

# An imported site's config (model.SiteConfig) is read at most once per container in this
# long: ingest and the site need it on every upload and unknown path, and it changes only
# when `blogctl import` runs (which waits this long after changing it).
SITE_CONFIG_TTL_SECONDS = 60

# DynamoDB's own limits.
MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_GET_KEYS = 100


def table_definition(name: str) -> dict[str, Any]:
    """The CreateTable arguments for the index table (on-demand, with its three indexes)."""
    def index(name: str, hash_key: str, range_key: str, only: tuple[str, ...] = ()) -> dict[str, Any]:
        projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(only)} if only else {"ProjectionType": "ALL"}
        return {"IndexName": name, "Projection": projection,
                "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"},
                              {"AttributeName": range_key, "KeyType": "RANGE"}]}

    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": "S"}
            for n in ("pk", "sk", "listing", "listing_sk", "shard", "source_key", "search_queue", "slug")
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            index(LISTING_INDEX, "listing", "listing_sk"),
            index(SOURCE_INDEX, "shard", "source_key"),
            # A query reads the queued entries, never their texts (a search record's largest part).
            index(SEARCH_INDEX, "search_queue", "slug", SEARCH_QUEUE_FIELDS),
        ],
    }


@dataclass(frozen=True)
class SourceRef:
    """One version of an object in the bucket, without its body."""

    key: str
    etag: str
    mtime: str
    size: int
    version_id: str | None = None

    @property
    def identity(self) -> str:
        """What tells this version from any other: the VersionId, else the ETag."""
        return self.version.id

    @property
    def version(self) -> model.SourceVersion:
        """This version as the index records it."""
        return model.SourceVersion(key=self.key, etag=self.etag, mtime=self.mtime, version_id=self.version_id)


@dataclass(frozen=True)
class Source:
    """An object's current version and its bytes (None when over the size limit)."""

    ref: SourceRef
    data: bytes | None


@dataclass(frozen=True)
class VersionInfo:
    """One entry of an object's history."""

    version_id: str
    mtime: str
    size: int
    is_latest: bool
    deleted: bool


@dataclass(frozen=True)
class Asset:
    """A file served from `assets/<slug>/<name>`."""

    body: bytes
    content_type: str
    etag: str
    last_modified: dt.datetime


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _not_found(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NoSuchVersion", "NotFound")


class ContentStore:
    """The content bucket: post sources, assets and built artifacts."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def _call_unless_missing(self, operation: str, key: str) -> dict[str, Any] | None:
        """GetObject/HeadObject on the current version of `key`; None if it does not exist."""
        try:
            response: dict[str, Any] = getattr(self._s3, operation)(Bucket=self.bucket, Key=key)
            return response
        except ClientError as err:
            if _not_found(err):
                return None
            raise

    def read(self, key: str, max_bytes: int) -> Source | None:
        """The current version of `key`, or None if it does not exist (or was deleted)."""
        response = self._call_unless_missing("get_object", key)
        if response is None:
            return None
        ref = self._ref(key, response)
        stream = response["Body"]
        try:
            # Read one byte past the limit: enough to know it is too big, without holding it all.
            data = stream.read(max_bytes + 1)
        finally:
            stream.close()
        return Source(ref=ref, data=data if len(data) <= max_bytes else None)

    def read_head(self, key: str, max_bytes: int) -> Source | None:
        """The current version of `key` and at most its first `max_bytes` (one ranged GET), or None."""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")
        except ClientError as err:
            if _not_found(err):
                return None
            if err.response.get("Error", {}).get("Code") == "InvalidRange":  # an empty file
                ref = self.head(key)
                return Source(ref=ref, data=b"") if ref else None
            raise
        stream = response["Body"]
        try:
            data = stream.read(max_bytes)
        finally:
            stream.close()
        return Source(ref=self._ref(key, response), data=data)

    def signed_url(self, key: str, seconds: int, content_type: str, cache_control: str,
                   disposition: str | None = None) -> str:
        """A URL that reads `key` for `seconds`, answered with these headers (signed here: no AWS call)."""
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                  "ResponseCacheControl": cache_control}
        if disposition:
            params["ResponseContentDisposition"] = disposition
        url: str = self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)
        return url

    def read_version(self, key: str, version_id: str | None) -> bytes:
        """The bytes of one version of `key` (the current one when version_id is None)."""
        kwargs = {"VersionId": version_id} if version_id not in (None, "null") else {}
        response = self._s3.get_object(Bucket=self.bucket, Key=key, **kwargs)
        data: bytes = response["Body"].read()
        return data

    def read_version_at_most(self, key: str, version_id: str | None, max_bytes: int) -> bytes | None:
        """One version's bytes, or None when it is over `max_bytes` or gone (a rejected upload, say)."""
        kwargs = {"VersionId": version_id} if version_id not in (None, "null") else {}
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key, **kwargs)
        except ClientError as err:
            if _not_found(err):
                return None
            raise
        stream = response["Body"]
        try:
            data = stream.read(max_bytes + 1)
        finally:
            stream.close()
        return data if len(data) <= max_bytes else None

    def head(self, key: str) -> SourceRef | None:
        """The current version of `key` without its body, or None."""
        response = self._call_unless_missing("head_object", key)
        return self._ref(key, response) if response is not None else None

    def list(self, prefix: str) -> Iterator[SourceRef]:
        """Every current object under `prefix`."""
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield SourceRef(key=obj["Key"], etag=obj["ETag"].strip('"'),
                                mtime=_iso(obj["LastModified"]), size=obj["Size"])

    def versions(self, key: str) -> builtins.list[VersionInfo]:  # `list` is a method of this class
        """The history of `key`, newest first, deletions included."""
        paginator = self._s3.get_paginator("list_object_versions")
        found: builtins.list[VersionInfo] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=key):
            for entry in page.get("Versions", []):
                if entry["Key"] == key:
                    found.append(VersionInfo(entry["VersionId"], _iso(entry["LastModified"]),
                                             entry.get("Size", 0), entry["IsLatest"], False))
            for entry in page.get("DeleteMarkers", []):
                if entry["Key"] == key:
                    found.append(VersionInfo(entry["VersionId"], _iso(entry["LastModified"]),
                                             0, entry["IsLatest"], True))
        return sorted(found, key=lambda v: (v.is_latest, v.mtime), reverse=True)

    def restore(self, key: str, version_id: str) -> str:
        """Make an old version current again (as a new version); return the new VersionId."""
        response = self._s3.copy_object(
            Bucket=self.bucket, Key=key,
            CopySource={"Bucket": self.bucket, "Key": key, "VersionId": version_id},
        )
        return str(response.get("VersionId", ""))

    def put(self, key: str, data: bytes, content_type: str) -> SourceRef:
        """Write an object; return the version written."""
        response = self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return SourceRef(key=key, etag=response["ETag"].strip('"'), mtime=_iso(dt.datetime.now(dt.timezone.utc)),
                         size=len(data), version_id=response.get("VersionId"))

    def delete(self, key: str) -> None:
        """Delete `key` (in a versioned bucket: add a delete marker; history stays)."""
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def read_asset(self, key: str, max_bytes: int) -> Asset | None:
        """An asset's bytes and metadata, or None when missing or over `max_bytes`."""
        response = self._call_unless_missing("get_object", key)
        if response is None:
            return None
        if response.get("ContentLength", 0) > max_bytes:
            response["Body"].close()
            return None
        return Asset(body=response["Body"].read(), content_type=response.get("ContentType", ""),
                     etag=response["ETag"].strip('"'), last_modified=response["LastModified"])

    def read_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The current bytes of several objects, read side by side; missing ones are left out."""
        wanted = list(dict.fromkeys(keys))

        def one(key: str) -> tuple[str, bytes | None]:
            response = self._call_unless_missing("get_object", key)
            return key, response["Body"].read() if response is not None else None

        return {key: data for key, data in _side_by_side(one, wanted) if data is not None}

    def write_many(self, objects: dict[str, bytes | None], content_type: str = "application/octet-stream") -> None:
        """Write several objects side by side (None: delete that one)."""
        def one(item: tuple[str, bytes | None]) -> None:
            key, data = item
            if data is None:
                self.delete(key)
            else:
                self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

        _side_by_side(one, list(objects.items()))

    @staticmethod
    def _ref(key: str, response: dict[str, Any]) -> SourceRef:
        return SourceRef(key=key, etag=response["ETag"].strip('"'), mtime=_iso(response["LastModified"]),
                         size=response.get("ContentLength", 0), version_id=response.get("VersionId"))


_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _plain(value: Any) -> Any:
    """DynamoDB values as plain Python: Decimals become int or float, sets become sorted lists."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as a DynamoDB item (None values dropped)."""
    return {k: _SERIALIZER.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a plain dict."""
    return {k: _plain(_DESERIALIZER.deserialize(v)) for k, v in item.items()}


@dataclass(frozen=True)
class Slice:
    """One stretch of a listing, with the sort key to continue from (None at the end).

    Items are always newest first. Read backwards (`before_sk`), `next_sk` is the newest
    item's key when newer ones remain, and `peek_sk` the key of the first of those.
    """

    items: list[Any]
    next_sk: str | None
    peek_sk: str | None = None


def _names_and_values(condition: Condition | None, names: dict[str, str], values: dict[str, Any]) -> str | None:
    if condition is None:
        return None
    names.update(condition.names)
    values.update(condition.values)
    return condition.expression


def _action(write: Write) -> dict[str, Any]:
    """One write as a TransactWriteItems action (table name added by the caller)."""
    from chalicelib.transitions import Delete, Put

    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    body: dict[str, Any]
    if isinstance(write, Put):
        kind, body = "Put", {"Item": to_item(write.item)}
    elif isinstance(write, Delete):
        kind, body = "Delete", {"Key": to_item(write.key)}
    else:
        kind, body = "Update", {"Key": to_item(write.key)}
        parts = []
        if write.set:
            names.update({f"#s{i}": n for i, n in enumerate(write.set)})
            values.update({f":s{i}": v for i, v in enumerate(write.set.values())})
            parts.append("SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(write.set))))
        if write.add:
            names.update({f"#a{i}": n for i, n in enumerate(write.add)})
            values.update({f":a{i}": v for i, v in enumerate(write.add.values())})
            parts.append("ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(write.add))))
        if write.remove:
            names.update({f"#r{i}": n for i, n in enumerate(write.remove)})
            parts.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(write.remove))))
        body["UpdateExpression"] = " ".join(parts)
    expression = _names_and_values(write.condition, names, values)
    if expression:
        body["ConditionExpression"] = expression
    if names:
        body["ExpressionAttributeNames"] = names
    if values:
        body["ExpressionAttributeValues"] = to_item(values)
    return {kind: body}


def _side_by_side(call: Callable[[Any], Any], args: list[Any]) -> list[Any]:
    """`call` on each argument, up to PARALLEL_READS at once; each runs in a copy of the caller's
    context (contextvars), so what the caller set (the tests' record of which function calls) holds."""
    if len(args) <= 1:
        return [call(arg) for arg in args]
    contexts = [contextvars.copy_context() for _ in args]
    with ThreadPoolExecutor(max_workers=min(PARALLEL_READS, len(args))) as pool:
        return list(pool.map(lambda pair: pair[0].run(call, pair[1]), zip(contexts, args)))


class ConflictError(Exception):
    """A conditional write lost a race (or found its slug taken); re-read and try again.

    `failed` holds the positions of the writes whose condition failed, when DynamoDB says.
    """

    def __init__(self, message: str, failed: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.failed = failed


class Refused(Exception):
    """DynamoDB refused a write as invalid (ValidationException): retrying cannot help."""


def _refused(err: ClientError) -> Refused | None:
    code = err.response.get("Error", {}).get("Code")
    if code == "ValidationException":
        return Refused(str(err.response.get("Error", {}).get("Message", err))[:500])
    return None


class PostIndex:
    """The index table, read and written as the typed items of chalicelib.model."""

    def __init__(self, dynamodb: Any, table: str, clock: Any = time.monotonic) -> None:
        self._db = dynamodb
        self.table = table
        self._clock = clock
        self._config: tuple[float, model.SiteConfig] | None = None  # (read at, config)

    # -- reads on the request path: GetItem, BatchGetItem or Query with Limit, never Scan --

    def get(self, key: Key) -> dict[str, Any] | None:
        """One item by key, or None."""
        response = self._db.get_item(TableName=self.table, Key=to_item(key))
        return from_item(response["Item"]) if "Item" in response else None

    def get_many(self, keys: Iterable[Key]) -> dict[tuple[str, str], dict[str, Any]]:
        """Items by key, in as few BatchGetItem calls as DynamoDB allows; missing keys are left out."""
        wanted = list({(k["pk"], k["sk"]): k for k in keys}.values())
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(wanted), MAX_BATCH_GET_KEYS):
            request = {self.table: {"Keys": [to_item(k) for k in wanted[start:start + MAX_BATCH_GET_KEYS]]}}
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(self.table, []):
                    item = from_item(raw)
                    found[(item["pk"], item["sk"])] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    def post(self, slug: str) -> model.PostRecord | model.Tombstone | None:
        """The post (or tombstone) at `slug`, or None."""
        item = self.get(model.post_key(slug))
        if item is None:
            return None
        state = model.source_state(item)
        return state if isinstance(state, (model.PostRecord, model.Tombstone)) else None

    def post_page(self, slug: str) -> tuple[model.PostRecord | model.Tombstone | None, model.ImageSizes]:
        """The post (or tombstone) at `slug` and the sizes of its images, in one Query of its partition."""
        response = self._db.query(
            TableName=self.table, KeyConditionExpression="pk = :pk AND sk BETWEEN :images AND :post",
            ExpressionAttributeValues=to_item({":pk": model.POST_PREFIX + slug, ":images": model.IMAGES_SK,
                                               ":post": model.POST_SK}))
        found = {item["sk"]: item for item in map(from_item, response.get("Items", []))}
        state = model.source_state(found[model.POST_SK]) if model.POST_SK in found else None
        post = state if isinstance(state, (model.PostRecord, model.Tombstone)) else None
        return post, model.ImageSizes.from_item(slug, found.get(model.IMAGES_SK))

    def image_sizes(self, slug: str) -> model.ImageSizes:
        """The sizes of a post's images as ingest last wrote them."""
        return model.ImageSizes.from_item(slug, self.get(model.images_key(slug)))

    def redirect(self, path: str) -> Redirect | None:
        """The old URL at a normalized path, or None."""
        item = self.get(model.url_key(path))
        return Redirect.from_item(item) if item else None

    def get_site(self) -> dict[str, Any]:
        """The site item ({} before anything wrote it)."""
        return self.get(SITE_KEY) or {}

    def site_config(self, max_age: float = SITE_CONFIG_TTL_SECONDS) -> model.SiteConfig:
        """The imported site's config, read again only when the last read is older than `max_age` seconds."""
        now = self._clock()
        if self._config is None or now - self._config[0] >= max_age:
            self._config = (now, model.SiteConfig.from_item(self.get(model.SITE_CONFIG_KEY)))
        return self._config[1]

    def put_site_config(self, config: model.SiteConfig) -> None:
        """Write the imported site's config (`blogctl import`); this process sees it at once."""
        self._db.put_item(TableName=self.table, Item=to_item(config.to_item()))
        self._config = (self._clock(), config)

    def listing(self, upper_sk: str, limit: int, after_sk: str | None = None,
                lower_sk: str | None = None, before_sk: str | None = None) -> Slice:
        """Listed posts' cards newest first, sort keys at most `upper_sk` (and at least `lower_sk`).

        `after_sk` continues to older posts; `before_sk` reads the `limit` posts just newer
        than it (one Query in ascending order), for a "newer posts" page.
        """
        cursor = after_sk or before_sk
        start = None
        if cursor:
            start = {"listing": LISTING_PARTITION, "listing_sk": cursor, **model.post_key(cursor.split("#", 1)[1])}
        found = self._query(index=LISTING_INDEX, partition=("listing", LISTING_PARTITION), sort_name="listing_sk",
                            condition="<=", bound=upper_sk, lower=lower_sk, limit=limit + 1, start=start,
                            forward=before_sk is not None and not after_sk)
        cards = [PostCard.from_dict(i) for i in found]
        return _slice(cards, limit, lambda c: c.listing_sk, backwards=before_sk is not None and not after_sk)

    def group(self, group: str, upper_sk: str, limit: int, after_sk: str | None = None,
              before_sk: str | None = None) -> Slice:
        """The memberships of one tag or author (`TAG#x`, `AUTHOR#y`), newest first (see `listing`)."""
        cursor = after_sk or before_sk
        start = model.membership_key(group, cursor) if cursor else None
        backwards = before_sk is not None and not after_sk
        found = self._query(index=None, partition=("pk", group), sort_name="sk", condition="<=", bound=upper_sk,
                            lower=None, limit=limit + 1, start=start, forward=backwards)
        members = [model.Membership.from_item(i) for i in found]
        return _slice(members, limit, lambda m: m.card.listing_sk, backwards=backwards)

    def neighbours(self, card: PostCard, upper_sk: str) -> tuple[PostCard | None, PostCard | None]:
        """The listed posts just newer and just older than `card` that readers may see."""
        mine = card.listing_sk
        newer = self._query(index=LISTING_INDEX, partition=("listing", LISTING_PARTITION), sort_name="listing_sk",
                            condition=">", bound=mine, lower=None, limit=1, start=None, forward=True)
        older = self._query(index=LISTING_INDEX, partition=("listing", LISTING_PARTITION), sort_name="listing_sk",
                            condition="<", bound=mine, lower=None, limit=1, start=None)
        newer_card = PostCard.from_dict(newer[0]) if newer and newer[0]["listing_sk"] <= upper_sk else None
        return newer_card, (PostCard.from_dict(older[0]) if older else None)

    def counts(self, partition: str, limit: int, after: str | None = None) -> Slice:
        """Counters of one kind (TAGS, AUTHORS, MONTHS) in name order, zero counts left out."""
        start = model.count_key(partition, after) if after else None
        found = self._query(index=None, partition=("pk", partition), sort_name="sk", condition=None, bound=None,
                            lower=None, limit=limit + 1, start=start, forward=True)
        counts = [Count.from_item(i) for i in found]
        page = _slice(counts, limit, lambda c: c.name)
        return Slice([c for c in page.items if c.count > 0], page.next_sk)

    def _query(self, index: str | None, partition: tuple[str, str], sort_name: str, condition: str | None,
               bound: str | None, lower: str | None, limit: int, start: Key | None,
               forward: bool = False) -> list[dict[str, Any]]:
        """Up to `limit` items of one partition, following LastEvaluatedKey past DynamoDB's 1 MB pages."""
        expression = "#p = :p"
        values: dict[str, Any] = {":p": partition[1]}
        names = {"#p": partition[0]}
        if lower is not None and bound is not None:
            expression += " AND #s BETWEEN :lo AND :hi"
            values.update({":lo": lower, ":hi": bound})
            names["#s"] = sort_name
        elif condition is not None and bound is not None:
            expression += f" AND #s {condition} :hi"
            values[":hi"] = bound
            names["#s"] = sort_name
        kwargs: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": expression, "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values), "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        if start:
            kwargs["ExclusiveStartKey"] = to_item(start)
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            response = self._db.query(**kwargs, Limit=limit - len(found))
            found += [from_item(i) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    # -- reads for ingest, the rebuild and the tools --

    def source_states(self, source_key: str) -> list[SourceState]:
        """The posts, tombstones and rejections a source key produced (one Query; normally one item)."""
        response = self._db.query(
            TableName=self.table, IndexName=SOURCE_INDEX,
            KeyConditionExpression="#shard = :shard AND source_key = :key",
            ExpressionAttributeNames={"#shard": "shard"},
            ExpressionAttributeValues=to_item({":shard": model.shard_of(source_key), ":key": source_key}),
        )
        return [model.source_state(from_item(i)) for i in response.get("Items", [])]

    def shard_states(self, shard: str) -> Iterator[SourceState]:
        """Every source state of one shard of source keys (for the rebuild's comparison with the bucket)."""
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(
                TableName=self.table, IndexName=SOURCE_INDEX, KeyConditionExpression="#shard = :shard",
                ExpressionAttributeNames={"#shard": "shard"}, ExpressionAttributeValues=to_item({":shard": shard})):
            for item in page.get("Items", []):
                yield model.source_state(from_item(item))

    def due(self, partition: str, upper: str, limit: int) -> list[Marker]:
        """Markers (SCHEDULED, EXPIRES) whose time is at most `upper`, oldest first."""
        found = self._query(index=None, partition=("pk", partition), sort_name="sk", condition="<=", bound=upper,
                            lower=None, limit=limit, start=None, forward=True)
        return [Marker.from_item(i) for i in found]

    def search_queue(self, limit: int) -> list[dict[str, Any]]:
        """Search records changed since the last merge (at most `limit`): their entries, without their texts."""
        return self._query(index=SEARCH_INDEX, partition=("search_queue", SEARCH_QUEUE_PARTITION),
                           sort_name="slug", condition=None, bound=None, lower=None, limit=limit, start=None,
                           forward=True)

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every item in the table: for the editor's `blogctl status` only, never on the request path."""
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table):
            for item in page.get("Items", []):
                yield from_item(item)

    # -- writes --

    def commit(self, writes: list[Write]) -> None:
        """Apply writes together; raise ConflictError if a condition failed.

        DynamoDB takes at most 100 writes per transaction: a larger change commits its
        first 100 (the guarded post item comes first) atomically, then the rest; those
        only repeat derived items, which the rebuild can recompute.
        """
        if not writes:
            return
        if len(writes) == 1:
            self._single(writes[0])
            return
        first, rest = writes[:MAX_TRANSACTION_ITEMS], writes[MAX_TRANSACTION_ITEMS:]
        self._transact(first)
        for start in range(0, len(rest), MAX_TRANSACTION_ITEMS):
            self._transact(rest[start:start + MAX_TRANSACTION_ITEMS])

    def _transact(self, writes: list[Write]) -> None:
        actions = [_action(w) for w in writes]
        for action in actions:
            next(iter(action.values()))["TableName"] = self.table
        try:
            self._db.transact_write_items(TransactItems=actions)
        except ClientError as err:
            refused = _refused(err)
            if refused is not None:
                raise refused from None
            reasons_code = err.response.get("Error", {}).get("Code")
            validation = [r for r in err.response.get("CancellationReasons") or [] if r.get("Code") == "ValidationError"]
            if reasons_code == "TransactionCanceledException" and validation:
                raise Refused(str(validation[0].get("Message", "invalid item"))[:500]) from None
            if reasons_code != "TransactionCanceledException":
                raise
            reasons = err.response.get("CancellationReasons") or []
            failed = tuple(i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed")
            raise ConflictError(str(err), failed) from None

    def _single(self, write: Write) -> None:
        """One write needs no transaction: a plain write costs half as much."""
        (kind, params), = _action(write).items()
        params["TableName"] = self.table
        call = {"Put": self._db.put_item, "Delete": self._db.delete_item, "Update": self._db.update_item}[kind]
        try:
            call(**params)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConflictError(str(err), (0,)) from None
            refused = _refused(err)
            if refused is not None:
                raise refused from None
            raise

    def put_site(self, site: dict[str, Any]) -> None:
        """Write the site item."""
        self._db.put_item(TableName=self.table, Item=to_item({**site, **SITE_KEY}))

    def put(self, item: dict[str, Any]) -> None:
        """Write one item as it is (the rebuild's own state)."""
        self._db.put_item(TableName=self.table, Item=to_item(item))


class SecretParameter:
    """One SecureString in SSM Parameter Store (the stage's preview secret, chalicelib/preview.py)."""

    def __init__(self, ssm: Any, name: str) -> None:
        self._ssm = ssm
        self.name = name

    def read(self) -> str:
        """The current value (KeyError when the parameter does not exist: run the setup)."""
        try:
            return str(self._ssm.get_parameter(Name=self.name, WithDecryption=True)["Parameter"]["Value"])
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ParameterNotFound":
                raise KeyError(f"no SSM parameter {self.name}: run the stage's setup") from None
            raise

    def create(self, value: str, description: str) -> bool:
        """Create the parameter unless it exists (never overwrites); True if it was created."""
        try:
            self._ssm.put_parameter(Name=self.name, Value=value, Type="SecureString", Description=description,
                                    Overwrite=False)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ParameterAlreadyExists":
                return False
            raise
        return True

    def replace(self, value: str) -> None:
        """Write a new value over the old one (rotation)."""
        self._ssm.put_parameter(Name=self.name, Value=value, Type="SecureString", Overwrite=True)


class UploadQueue:
    """The upload queue, as far as ingest acknowledges messages itself."""

    def __init__(self, sqs: Any, queue_arn: str) -> None:
        self._sqs = sqs
        _, _, _, _, account, name = queue_arn.split(":", 5)
        self._name, self._account = name, account
        self._url: str | None = None

    def delete(self, receipts: list[str]) -> None:
        """Delete messages by receipt handle, ten at a time."""
        if not receipts:
            return
        if self._url is None:  # the queue's URL from its ARN, on AWS and on the local stack alike
            self._url = f"{self._sqs.meta.endpoint_url.rstrip('/')}/{self._account}/{self._name}"
        for start in range(0, len(receipts), 10):
            chunk = receipts[start:start + 10]
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(chunk)])


def _slice(items: list[Any], limit: int, sort_key: Any, backwards: bool = False) -> Slice:
    """A page of `limit` items from `limit + 1` read (the last one only says whether more follow)."""
    more = len(items) > limit
    peek = sort_key(items[limit]) if more else None
    items = items[:limit]
    next_sk = sort_key(items[-1]) if more and items else None
    if backwards:  # read oldest first: shown newest first like every other page
        items.reverse()
    return Slice(items=items, next_sk=next_sk, peek_sk=peek)


def dumps(value: Any) -> str:
    """Compact, stable JSON (sorted keys) for stored blobs and hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
