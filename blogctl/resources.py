"""The one idempotent setup of a stage's AWS resources.

Creates what is missing and brings settings up to date; never deletes anything.
`make run`, `make deploy` and the test fixtures all call `ensure_resources`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import preview
from chalicelib.images import ASSETS_PREFIX
from chalicelib.posts import POSTS_PREFIX
from chalicelib.store import SITE_PREFIX, SecretParameter, table_definition

NOTIFICATION_ID = "blog-post-uploads"
ASSET_NOTIFICATION_ID = "blog-asset-uploads"  # images: ingest reads their sizes for the post pages
# Our notifications: (id, key prefix). S3 allows several to one queue when their prefixes do not overlap.
NOTIFICATIONS = ((NOTIFICATION_ID, POSTS_PREFIX), (ASSET_NOTIFICATION_ID, ASSETS_PREFIX))
MAX_RECEIVES = 5  # deliveries of a message before it moves to the dead-letter queue
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DEFAULT_INGEST_TIMEOUT = 60


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
        f"DynamoDB table {names.table}: on-demand, point-in-time recovery, indexes listing and by_source",
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
    backups = dynamodb.describe_continuous_backups(TableName=names.table)
    pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        dynamodb.update_continuous_backups(
            TableName=names.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        done.append(f"enabled point-in-time recovery on {names.table}")
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
