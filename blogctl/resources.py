"""The one idempotent setup of a stage's AWS resources.

Creates what is missing and brings settings up to date; never deletes anything.
`make run`, `make deploy` and the test fixtures all call `ensure_resources`. The one exception,
`ensure_search_queue_index`, replaces a `search_queue` index made before document ids (DynamoDB
cannot change a projection); only `blogctl reindex` and a kept local archive's `make run` call it.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import preview
from chalicelib.images import ASSETS_PREFIX
from chalicelib.model import SEARCH_INDEX
from chalicelib.posts import POSTS_PREFIX
from chalicelib.store import SEARCH_QUEUE_FIELDS, SITE_PREFIX, SecretParameter, table_definition

NOTIFICATION_ID = "blog-post-uploads"
ASSET_NOTIFICATION_ID = "blog-asset-uploads"  # images: ingest reads their sizes for the post pages
# Our notifications: (id, key prefix). S3 allows several to one queue when their prefixes do not overlap.
NOTIFICATIONS = ((NOTIFICATION_ID, POSTS_PREFIX), (ASSET_NOTIFICATION_ID, ASSETS_PREFIX))
MAX_RECEIVES = 5  # deliveries of a message before it moves to the dead-letter queue
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DEFAULT_INGEST_TIMEOUT = 60
# DynamoDB builds a new index from every item of the table: minutes, or hours for a large one.
INDEX_POLL_SECONDS = 10.0
INDEX_WAIT_SECONDS = 6 * 3600.0


@dataclass(frozen=True)
class Names:
    """What a stage's resources are called."""

    bucket: str
    table: str
    queue: str
    region: str

    @property
    def dead_letter_queue(self) -> str:
        """Messages that failed MAX_RECEIVES times wait here for an operator."""
        return f"{self.queue}-dlq"

    @property
    def preview_parameter(self) -> str:
        """The SSM parameter holding the secret that signs preview links."""
        return preview.parameter_name(self.table)


# Every search merge rewrites the shards under _site/: without this rule their old versions
# would pile up forever (the editors' files under posts/ keep every version).
SITE_LIFECYCLE_ID = "expire-old-versions-of-site-artifacts"
SITE_OLD_VERSION_DAYS = 1


def plan(names: Names, ingest_timeout: int = DEFAULT_INGEST_TIMEOUT) -> list[str]:
    """What `ensure_resources` makes sure of, in order (printed by dry runs)."""
    return [
        f"S3 bucket {names.bucket} in {names.region}: versioned, private (public access blocked), "
        f"encrypted (SSE-S3); old versions under {SITE_PREFIX} (the search index) expire after "
        f"{SITE_OLD_VERSION_DAYS} day",
        f"DynamoDB table {names.table}: on-demand, point-in-time recovery, indexes listing, by_source and search_queue",
        f"SQS queue {names.dead_letter_queue}: dead-letter queue, messages kept 14 days",
        f"SQS queue {names.queue}: visibility timeout {6 * ingest_timeout}s (6 x the ingest timeout), "
        f"redrive to the dead-letter queue after {MAX_RECEIVES} receives, S3 may send to it",
        *(f"S3 notification {ident}: {prefix}* created/removed -> {names.queue}" for ident, prefix in NOTIFICATIONS),
        f"SSM parameter {names.preview_parameter}: SecureString, the preview links' secret "
        "(created once, never overwritten; `blogctl preview --rotate` replaces it)",
    ]


def ensure_resources(s3: Any, dynamodb: Any, sqs: Any, names: Names,
                     ingest_timeout: int = DEFAULT_INGEST_TIMEOUT, ssm: Any = None) -> list[str]:
    """Create or update the bucket, table, queues, notification and preview secret; return what was done.

    `ssm` defaults to chalicelib's client, pointed where the others are.
    """
    done: list[str] = []
    done += _ensure_bucket(s3, names)
    done += _ensure_table(dynamodb, names)
    queue_arn = _ensure_queues(sqs, names, ingest_timeout)
    done += _ensure_notification(s3, names, queue_arn)
    done += _ensure_preview_secret(ssm if ssm is not None else _default_ssm(), names)
    return done


def _default_ssm() -> Any:
    from chalicelib import aws

    return aws.client("ssm")


def _ensure_preview_secret(ssm: Any, names: Names) -> list[str]:
    parameter = SecretParameter(ssm, names.preview_parameter)
    if parameter.create(preview.new_secret(), "Signs the blog's preview links (blogctl preview)"):
        return [f"created the preview secret {names.preview_parameter}"]
    return []


def _ensure_bucket(s3: Any, names: Names) -> list[str]:
    done = []
    try:
        s3.head_bucket(Bucket=names.bucket)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        kwargs: dict[str, Any] = {"Bucket": names.bucket}
        if names.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": names.region}
        s3.create_bucket(**kwargs)
        done.append(f"created bucket {names.bucket}")
    s3.put_bucket_versioning(Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(Bucket=names.bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    })
    s3.put_bucket_encryption(Bucket=names.bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}],
    })
    s3.put_bucket_lifecycle_configuration(Bucket=names.bucket, LifecycleConfiguration={"Rules": [{
        "ID": SITE_LIFECYCLE_ID, "Status": "Enabled", "Filter": {"Prefix": SITE_PREFIX},
        "NoncurrentVersionExpiration": {"NoncurrentDays": SITE_OLD_VERSION_DAYS},
    }]})
    return done


def _ensure_table(dynamodb: Any, names: Names) -> list[str]:
    done = []
    try:
        described = dynamodb.describe_table(TableName=names.table)["Table"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        dynamodb.create_table(**table_definition(names.table))
        dynamodb.get_waiter("table_exists").wait(TableName=names.table, WaiterConfig={"Delay": 1})
        done.append(f"created table {names.table}")
    else:
        wanted = {i["IndexName"] for i in table_definition(names.table)["GlobalSecondaryIndexes"]}
        present = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
        if wanted - present:
            raise RuntimeError(f"table {names.table} lacks indexes {sorted(wanted - present)}; "
                               "it was not made by this setup")
        # Not rebuilt here: the search index must start over with it (the records then need their
        # document ids), and search is down while DynamoDB builds it.
        if search_queue_index_outdated(described):
            done.append(f"index {SEARCH_INDEX} of {names.table} is out of date (its projection lacks "
                        f"{', '.join(_missing_fields(_search_queue_index(described) or {}))}): "
                        "`blogctl reindex` rebuilds it and starts the search index over")
    backups = dynamodb.describe_continuous_backups(TableName=names.table)
    pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        dynamodb.update_continuous_backups(
            TableName=names.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        done.append(f"enabled point-in-time recovery on {names.table}")
    return done


def _search_queue_index(described: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The table's `search_queue` index as DescribeTable shows it (None: it has none)."""
    return next((i for i in described.get("GlobalSecondaryIndexes") or [] if i["IndexName"] == SEARCH_INDEX), None)


def _wanted_search_queue_index(table: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in table_definition(table)["GlobalSecondaryIndexes"]
                                 if i["IndexName"] == SEARCH_INDEX)
    return found


def _missing_fields(index: Mapping[str, Any]) -> list[str]:
    """What of SEARCH_QUEUE_FIELDS the index does not project."""
    projection = index.get("Projection") or {}
    if projection.get("ProjectionType") == "ALL":
        return []
    held = set(projection.get("NonKeyAttributes") or ()) if projection.get("ProjectionType") == "INCLUDE" else set()
    return [name for name in SEARCH_QUEUE_FIELDS if name not in held]


def search_queue_index_outdated(described: Mapping[str, Any]) -> bool:
    """Does the table's `search_queue` index (present) lack a field a query reads, or have other keys?
    (DynamoDB cannot change an index's projection: it must be deleted and created again.)"""
    found = _search_queue_index(described)
    if found is None:
        return False
    return bool(_missing_fields(found)) or found.get("KeySchema") != _wanted_search_queue_index(
        str(described.get("TableName", "")))["KeySchema"]


def ensure_search_queue_index(dynamodb: Any, table: str, sleep: Callable[[float], None] = time.sleep,
                              poll_seconds: float = INDEX_POLL_SECONDS,
                              wait_seconds: float = INDEX_WAIT_SECONDS) -> list[str]:
    """Make the table's `search_queue` index project every field of SEARCH_QUEUE_FIELDS: when it does
    not, delete it, wait until it is gone, create it again from `table_definition` (same name and keys)
    and wait until it is ACTIVE. Return what was done. Idempotent: a run that stopped anywhere in
    between (index deleting, gone, creating) carries on from there. Queries of the index fail while
    it is rebuilt (search is down; nothing else reads it).
    """
    done: list[str] = []
    wanted = _wanted_search_queue_index(table)

    def described() -> Mapping[str, Any]:
        found: Mapping[str, Any] = dynamodb.describe_table(TableName=table)["Table"]
        return found

    def wait(until: Callable[[Mapping[str, Any]], bool], what: str) -> None:
        deadline = time.monotonic() + wait_seconds
        while not until(described()):
            if time.monotonic() >= deadline:
                raise RuntimeError(f"index {SEARCH_INDEX} of {table} is still not {what} after {wait_seconds:.0f} s; "
                                   "run this again later: it carries on where it stopped")
            sleep(poll_seconds)

    def status(table_now: Mapping[str, Any]) -> str | None:
        found = _search_queue_index(table_now)
        return str(found.get("IndexStatus", "ACTIVE")) if found is not None else None

    def table_active(table_now: Mapping[str, Any]) -> bool:
        return table_now.get("TableStatus", "ACTIVE") == "ACTIVE"

    current = described()
    found = _search_queue_index(current)
    if found is not None and not search_queue_index_outdated({**current, "TableName": table}):
        if status(current) != "ACTIVE":
            wait(lambda t: status(t) == "ACTIVE", "active")
            done.append(f"index {SEARCH_INDEX} of {table} is active")
        return done
    if found is not None:
        if status(current) != "DELETING":
            wait(lambda t: status(t) in ("ACTIVE", "DELETING", None) and table_active(t), "settled")
            if status(described()) == "ACTIVE":
                dynamodb.update_table(TableName=table,
                                      GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": SEARCH_INDEX}}])
                done.append(f"deleted index {SEARCH_INDEX} of {table} (its projection lacked "
                            f"{', '.join(_missing_fields(found)) or 'its keys'})")
        wait(lambda t: status(t) is None, "deleted")
    wait(table_active, "ready for a new index (table active)")
    definition = table_definition(table)
    dynamodb.update_table(TableName=table, AttributeDefinitions=definition["AttributeDefinitions"],
                          GlobalSecondaryIndexUpdates=[{"Create": wanted}])
    wait(lambda t: status(t) == "ACTIVE", "active")
    done.append(f"created index {SEARCH_INDEX} of {table} again, projecting {', '.join(SEARCH_QUEUE_FIELDS)}")
    return done


def _queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _ensure_queues(sqs: Any, names: Names, ingest_timeout: int) -> str:
    dlq_url = sqs.create_queue(QueueName=names.dead_letter_queue)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=dlq_url, Attributes={
        "MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)})
    url = sqs.create_queue(QueueName=names.queue)["QueueUrl"]
    arn = _queue_arn(sqs, url)
    bucket_arn = f"arn:aws:s3:::{names.bucket}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BucketSendsUploadEvents",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": bucket_arn}},
        }],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        # AWS advises a visibility timeout of six times the consuming function's timeout.
        "VisibilityTimeout": str(6 * ingest_timeout),
        "MessageRetentionPeriod": str(QUEUE_RETENTION_SECONDS),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": _queue_arn(sqs, dlq_url),
                                     "maxReceiveCount": str(MAX_RECEIVES)}),
        "Policy": json.dumps(policy),
    })
    return arn


def _ensure_notification(s3: Any, names: Names, queue_arn: str) -> list[str]:
    current = s3.get_bucket_notification_configuration(Bucket=names.bucket)
    current.pop("ResponseMetadata", None)
    ours = [{
        "Id": ident,
        "QueueArn": queue_arn,
        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
    } for ident, prefix in NOTIFICATIONS]
    ids = {ident for ident, _ in NOTIFICATIONS}
    existing = {q.get("Id"): q for q in current.get("QueueConfigurations", []) if q.get("Id") in ids}
    if all(_same_notification(existing.get(wanted["Id"]), wanted) for wanted in ours):
        return []
    # Keep whatever else the operator configured on the bucket; replace only our entries.
    others = [q for q in current.get("QueueConfigurations", []) if q.get("Id") not in ids]
    config = {k: v for k, v in current.items() if k in (
        "TopicConfigurations", "LambdaFunctionConfigurations", "EventBridgeConfiguration")}
    config["QueueConfigurations"] = [*others, *ours]
    s3.put_bucket_notification_configuration(Bucket=names.bucket, NotificationConfiguration=config)
    return [f"notified {names.queue} of uploads to {names.bucket}/{prefix}" for _, prefix in NOTIFICATIONS]


def _same_notification(found: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """Does the bucket's entry already send what we want, where we want it?"""
    if found is None:
        return False
    rules = found.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    prefixes = [r.get("Value") for r in rules if str(r.get("Name", "")).lower() == "prefix"]
    wanted_prefix = wanted["Filter"]["Key"]["FilterRules"][0]["Value"]
    return (found.get("QueueArn") == wanted["QueueArn"] and sorted(found.get("Events", [])) == sorted(wanted["Events"])
            and prefixes == [wanted_prefix])
