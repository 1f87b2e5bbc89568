"""The only module that talks to S3 and DynamoDB about content and the index.

`ContentStore` wraps the content bucket (post sources, assets, the search artifact).
`PostIndex` wraps the index table. Both take their client and resource name as
arguments, so tests and tools can point them anywhere.

Table layout (one table, keys `pk` and `sk`):

| item            | pk               | sk                 | notes                                   |
|-----------------|------------------|--------------------|-----------------------------------------|
| post            | `POST#<slug>`    | `POST`             | listing/listing_sk set while public     |
| tag membership  | `TAG#<tag>`      | `<date>#<slug>`    | a copy of the post's listing fields     |
| alias           | `ALIAS#<old>`    | `ALIAS`            | target: the slug it moved to            |
| site summary    | `SITE`           | `SITE`             | tag counts, archive, search artifact    |

Index `listing` (sparse: only public and scheduled posts) sorts by `<date>#<slug>`;
index `by_source` finds the post a source key produced.
"""
from __future__ import annotations

import datetime as dt
import decimal
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

LISTING_INDEX = "listing"
SOURCE_INDEX = "by_source"
LISTING_PARTITION = "PUBLIC"
SITE_KEY = {"pk": "SITE", "sk": "SITE"}
SEARCH_ARTIFACT_KEY = "_site/search-index.json"

# DynamoDB accepts at most 100 actions in one transaction.
MAX_TRANSACTION_ITEMS = 100


def table_definition(name: str) -> dict[str, Any]:
    """The CreateTable arguments for the index table (on-demand, with both indexes)."""
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": "S"}
            for n in ("pk", "sk", "listing", "listing_sk", "source_key")
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": LISTING_INDEX,
                "KeySchema": [
                    {"AttributeName": "listing", "KeyType": "HASH"},
                    {"AttributeName": "listing_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": SOURCE_INDEX,
                "KeySchema": [{"AttributeName": "source_key", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    }


def post_key(slug: str) -> dict[str, str]:
    """Primary key of a post item."""
    return {"pk": f"POST#{slug}", "sk": "POST"}


def alias_key(old_slug: str) -> dict[str, str]:
    """Primary key of an alias item."""
    return {"pk": f"ALIAS#{old_slug}", "sk": "ALIAS"}


def membership_key(tag: str, listing_sk: str) -> dict[str, str]:
    """Primary key of a tag membership item."""
    return {"pk": f"TAG#{tag}", "sk": listing_sk}


class ConflictError(Exception):
    """A conditional write lost a race; re-read and try again."""


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
        return self.version_id if self.version_id not in (None, "null") else self.etag


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
            return getattr(self._s3, operation)(Bucket=self.bucket, Key=key)
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

    def read_version(self, key: str, version_id: str | None) -> bytes:
        """The bytes of one version of `key` (the current one when version_id is None)."""
        kwargs = {"VersionId": version_id} if version_id not in (None, "null") else {}
        response = self._s3.get_object(Bucket=self.bucket, Key=key, **kwargs)
        return response["Body"].read()

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

    def versions(self, key: str) -> list[VersionInfo]:
        """The history of `key`, newest first, deletions included."""
        paginator = self._s3.get_paginator("list_object_versions")
        found: list[VersionInfo] = []
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
        return response.get("VersionId", "")

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

    def write_artifact(self, key: str, artifact: dict[str, Any]) -> None:
        """Save a built artifact (JSON, gzipped) under the private `_site/` prefix."""
        self.put(key, gzip.compress(dumps(artifact).encode(), mtime=0), "application/gzip")

    def read_artifact(self, key: str) -> dict[str, Any]:
        """Load an artifact `write_artifact` saved."""
        return json.loads(gzip.decompress(self.read_version(key, None)))

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
class PageOfItems:
    """One page of a listing, with the sort key to continue after (None at the end)."""

    items: list[dict[str, Any]]
    next_sk: str | None


@dataclass
class Transaction:
    """Writes that succeed or fail together. `rev` guards give optimistic locking."""

    actions: list[dict[str, Any]]

    def put(self, item: dict[str, Any], condition: str | None = None,
            values: dict[str, Any] | None = None) -> None:
        """Write a whole item, optionally only if `condition` holds."""
        action: dict[str, Any] = {"Item": to_item(item)}
        self._add("Put", action, condition, values)

    def delete(self, key: dict[str, str], condition: str | None = None,
               values: dict[str, Any] | None = None) -> None:
        """Delete an item, optionally only if `condition` holds."""
        self._add("Delete", {"Key": to_item(key)}, condition, values)

    def check(self, key: dict[str, str], condition: str, values: dict[str, Any] | None = None) -> None:
        """Write nothing to `key`, but fail the transaction unless `condition` holds there."""
        self._add("ConditionCheck", {"Key": to_item(key)}, condition, values)

    def _add(self, kind: str, action: dict[str, Any], condition: str | None,
             values: dict[str, Any] | None) -> None:
        if condition:
            action["ConditionExpression"] = condition
            if values:
                action["ExpressionAttributeValues"] = to_item(values)
        self.actions.append({kind: action})


class PostIndex:
    """The index table: post items, tag memberships, aliases and the site summary."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self.table = table

    # -- reads on the request path: GetItem or Query with Limit, never Scan --

    def get(self, key: dict[str, str]) -> dict[str, Any] | None:
        """One item by key, or None."""
        response = self._db.get_item(TableName=self.table, Key=to_item(key))
        return from_item(response["Item"]) if "Item" in response else None

    def get_post(self, slug: str) -> dict[str, Any] | None:
        """The post item for `slug` (any status), or None."""
        return self.get(post_key(slug))

    def get_alias(self, old_slug: str) -> str | None:
        """The slug an old slug redirects to, or None."""
        item = self.get(alias_key(old_slug))
        return item["target"] if item else None

    def get_site(self) -> dict[str, Any]:
        """The site summary the rebuild writes ({} before the first rebuild)."""
        return self.get(SITE_KEY) or {}

    def listing(self, upper_sk: str, limit: int, after_sk: str | None = None,
                lower_sk: str | None = None) -> PageOfItems:
        """Public posts newest first, sort keys at most `upper_sk` (and at least `lower_sk`)."""
        return self._page(
            index=LISTING_INDEX, partition=("listing", LISTING_PARTITION), sort_name="listing_sk",
            upper_sk=upper_sk, lower_sk=lower_sk, limit=limit,
            start=(lambda sk: {"listing": LISTING_PARTITION, "listing_sk": sk,
                               **post_key(sk.split("#", 1)[1])}) if after_sk else None,
            after_sk=after_sk,
        )

    def tag_listing(self, tag: str, upper_sk: str, limit: int, after_sk: str | None = None) -> PageOfItems:
        """Posts carrying `tag`, newest first, sort keys at most `upper_sk`."""
        return self._page(
            index=None, partition=("pk", f"TAG#{tag}"), sort_name="sk",
            upper_sk=upper_sk, lower_sk=None, limit=limit,
            start=(lambda sk: membership_key(tag, sk)) if after_sk else None, after_sk=after_sk,
        )

    def _page(self, index: str | None, partition: tuple[str, str], sort_name: str, upper_sk: str,
              lower_sk: str | None, limit: int, start: Any, after_sk: str | None) -> PageOfItems:
        condition = "#p = :p AND " + ("#s BETWEEN :lo AND :hi" if lower_sk else "#s <= :hi")
        values = {":p": partition[1], ":hi": upper_sk, **({":lo": lower_sk} if lower_sk else {})}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#p": partition[0], "#s": sort_name},
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": False,
            # One more than the page: tells whether an "older posts" link leads anywhere.
            "Limit": limit + 1,
        }
        if index:
            kwargs["IndexName"] = index
        if start and after_sk:
            kwargs["ExclusiveStartKey"] = to_item(start(after_sk))
        response = self._db.query(**kwargs)
        items = [from_item(i) for i in response.get("Items", [])]
        more = len(items) > limit
        items = items[:limit]
        return PageOfItems(items=items, next_sk=items[-1][sort_name] if more and items else None)

    # -- reads for ingest and rebuild --

    def posts_for_source(self, source_key: str) -> list[dict[str, Any]]:
        """Post items whose source is `source_key` (normally zero or one)."""
        response = self._db.query(
            TableName=self.table, IndexName=SOURCE_INDEX,
            KeyConditionExpression="source_key = :k",
            ExpressionAttributeValues=to_item({":k": source_key}),
        )
        return [from_item(i) for i in response.get("Items", [])]

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every item in the table: for the scheduled rebuild only, never on the request path."""
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table):
            for item in page.get("Items", []):
                yield from_item(item)

    # -- writes --

    def transaction(self) -> Transaction:
        """A new, empty transaction for `commit`."""
        return Transaction(actions=[])

    def commit(self, transaction: Transaction) -> None:
        """Apply a transaction; raise ConflictError if any condition failed."""
        actions = transaction.actions
        if not actions:
            return
        for action in actions:
            next(iter(action.values()))["TableName"] = self.table
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(actions)} writes in one transaction; DynamoDB allows {MAX_TRANSACTION_ITEMS}")
        try:
            if len(actions) == 1 and not {"ConditionCheck", "Update"} & actions[0].keys():
                self._single(actions[0])
            else:
                self._db.transact_write_items(TransactItems=actions)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise ConflictError(str(err)) from None
            raise

    def _single(self, action: dict[str, Any]) -> None:
        """One write needs no transaction: a plain PutItem/DeleteItem costs half as much."""
        (kind, params), = action.items()
        call = self._db.put_item if kind == "Put" else self._db.delete_item
        call(**params)

    def update(self, key: dict[str, str], set_fields: dict[str, Any], remove: tuple[str, ...] = (),
               condition: str | None = None, values: dict[str, Any] | None = None) -> None:
        """Set and remove attributes of one item; raise ConflictError if `condition` fails."""
        names = {f"#f{i}": name for i, name in enumerate([*set_fields, *remove])}
        by_name = {v: k for k, v in names.items()}
        parts = []
        if set_fields:
            parts.append("SET " + ", ".join(f"{by_name[n]} = :v{i}" for i, n in enumerate(set_fields)))
        if remove:
            parts.append("REMOVE " + ", ".join(by_name[n] for n in remove))
        expression_values = {f":v{i}": v for i, v in enumerate(set_fields.values())}
        expression_values.update(values or {})
        kwargs: dict[str, Any] = {
            "TableName": self.table, "Key": to_item(key),
            "UpdateExpression": " ".join(parts), "ExpressionAttributeNames": names,
        }
        if expression_values:
            kwargs["ExpressionAttributeValues"] = to_item(expression_values)
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            self._db.update_item(**kwargs)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConflictError(str(err)) from None
            raise

    def put_site(self, site: dict[str, Any]) -> None:
        """Write the site summary."""
        self._db.put_item(TableName=self.table, Item=to_item({**site, **SITE_KEY}))


def dumps(value: Any) -> str:
    """Compact, stable JSON (sorted keys) for stored blobs and hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
