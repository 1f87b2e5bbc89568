"""The idempotent setup, against moto."""
from __future__ import annotations

import json

from blogctl.resources import ASSET_NOTIFICATION_ID, NOTIFICATION_ID, ensure_resources, plan
from chalicelib import aws


def setup_again(names):
    return ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names)


def test_setup_makes_a_versioned_private_encrypted_bucket(resources):
    s3 = aws.client("s3")
    assert s3.get_bucket_versioning(Bucket=resources.bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=resources.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=resources.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_setup_expires_old_versions_of_the_rebuilds_artifacts_only(resources):
    setup_again(resources)  # idempotent: still one rule
    rules = aws.client("s3").get_bucket_lifecycle_configuration(Bucket=resources.bucket)["Rules"]
    assert [(r["Filter"], r["Status"], r["NoncurrentVersionExpiration"]["NoncurrentDays"]) for r in rules] == \
        [({"Prefix": "_site/"}, "Enabled", 1)]
    assert "Expiration" not in rules[0]  # current versions stay; posts/ and assets/ keep every version


def test_setup_makes_the_table_with_its_indexes_on_demand(resources):
    table = aws.client("dynamodb").describe_table(TableName=resources.table)["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"listing", "by_source", "search_queue"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    backups = aws.client("dynamodb").describe_continuous_backups(TableName=resources.table)
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_setup_makes_the_queue_with_a_dead_letter_queue(resources):
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=resources.queue)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{resources.queue}-dlq")
    assert int(attributes["VisibilityTimeout"]) == 360


def test_setup_notifies_the_queue_of_post_and_asset_uploads(resources):
    config = aws.client("s3").get_bucket_notification_configuration(Bucket=resources.bucket)
    prefixes = {q["Id"]: q["Filter"]["Key"]["FilterRules"][0]["Value"] for q in config["QueueConfigurations"]}
    assert prefixes == {NOTIFICATION_ID: "posts/", ASSET_NOTIFICATION_ID: "assets/"}
    assert all(q["QueueArn"].endswith(f":{resources.queue}") for q in config["QueueConfigurations"])


def test_setup_adds_the_asset_notification_to_an_older_bucket_and_keeps_others(resources):
    s3 = aws.client("s3")
    config = s3.get_bucket_notification_configuration(Bucket=resources.bucket)
    posts_only = [q for q in config["QueueConfigurations"] if q["Id"] == NOTIFICATION_ID]
    other = {**posts_only[0], "Id": "operators-own", "Filter": {"Key": {"FilterRules": [
        {"Name": "prefix", "Value": "exports/"}]}}}
    s3.put_bucket_notification_configuration(Bucket=resources.bucket, NotificationConfiguration={
        "QueueConfigurations": [*posts_only, other]})
    assert setup_again(resources) == [f"notified {resources.queue} of uploads to {resources.bucket}/posts/",
                                      f"notified {resources.queue} of uploads to {resources.bucket}/assets/"]
    ids = {q["Id"] for q in s3.get_bucket_notification_configuration(Bucket=resources.bucket)["QueueConfigurations"]}
    assert ids == {NOTIFICATION_ID, ASSET_NOTIFICATION_ID, "operators-own"}


def test_setup_twice_changes_nothing_and_loses_nothing(resources, content):
    content.put("posts/keep.md", b"data", "text/markdown")
    assert setup_again(resources) == []
    assert content.read("posts/keep.md", 100).data == b"data"
    config = aws.client("s3").get_bucket_notification_configuration(Bucket=resources.bucket)
    assert len(config["QueueConfigurations"]) == 2


def test_plan_names_every_resource(names):
    steps = "\n".join(plan(names))
    for name in (names.bucket, names.table, names.queue, names.dead_letter_queue):
        assert name in steps
