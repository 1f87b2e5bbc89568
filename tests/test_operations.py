"""Operations on moto: log retention, alarms and their e-mail, and replaying the dead-letter queue."""
from __future__ import annotations

import json
import os

import boto3
import moto
import pytest

from blogctl import operations
from blogctl.cli import main
from blogctl.target import Target
from chalicelib import aws


def test_operations_keep_logs_and_raise_alarms(aws_mock, project):
    stage = project("dev")
    target = Target(stage.region)
    operations.ensure_operations(stage, target)
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/serverless-blog-dev")["logGroups"]
    assert {g["logGroupName"]: g["retentionInDays"] for g in groups} == {
        "/aws/lambda/serverless-blog-dev": 30, "/aws/lambda/serverless-blog-dev-ingest_uploads": 30,
        "/aws/lambda/serverless-blog-dev-rebuild_index": 30}
    alarms = aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {a["AlarmName"]: a["Dimensions"] for a in alarms} == {
        "serverless-blog-dev-dead-letters": [{"Name": "QueueName", "Value": "serverless-blog-dev-uploads-dlq"}],
        "serverless-blog-dev-api-errors": [{"Name": "FunctionName", "Value": "serverless-blog-dev"}]}
    assert all(a["AlarmActions"] == [] for a in alarms)


def test_a_stage_retention_applies_to_every_function(aws_mock, project):
    stage = project("dev", blog_log_retention_days=7)
    operations.ensure_operations(stage, Target(stage.region))
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/serverless-blog-dev")["logGroups"]
    assert {g["retentionInDays"] for g in groups} == {7}


def test_an_alarm_email_is_subscribed_once(aws_mock, project):
    stage = project("dev", blog_alarm_email="ops@example.com")
    target = Target(stage.region)
    done = operations.ensure_operations(stage, target)
    assert any("confirm the e-mail" in line for line in done)
    operations.ensure_operations(stage, target)  # again: no second subscription
    sns = aws.client("sns")
    [topic] = sns.list_topics()["Topics"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "ops@example.com")]
    for alarm in aws.client("cloudwatch").describe_alarms()["MetricAlarms"]:
        assert alarm["AlarmActions"] == [topic["TopicArn"]]


def test_removing_operations_leaves_nothing_and_may_run_twice(aws_mock, project):
    stage = project("dev", blog_alarm_email="ops@example.com")
    target = Target(stage.region)
    operations.ensure_operations(stage, target)
    operations.remove_operations(stage, target)
    operations.remove_operations(stage, target)
    assert aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert aws.client("sns").list_topics()["Topics"] == []
    assert aws.client("logs").describe_log_groups()["logGroups"] == []


@pytest.fixture
def dead_letters(resources):
    """Five upload events waiting in the dead-letter queue; returns the queue URLs."""
    sqs = aws.client("sqs")
    dlq = sqs.get_queue_url(QueueName=f"{resources.queue}-dlq")["QueueUrl"]
    queue = sqs.get_queue_url(QueueName=resources.queue)["QueueUrl"]
    drain(queue)  # S3's test event
    for n in range(5):
        record = {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": f"posts/p{n}.md"}}}
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"Records": [record]}))
    return queue, dlq


def drain(queue: str) -> list[str]:
    sqs, bodies = aws.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [m["Body"] for m in messages]
        sqs.delete_message_batch(QueueUrl=queue, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return bodies


def test_replay_moves_dead_letters_back_unchanged(dead_letters, resources):
    queue, dlq = dead_letters
    assert operations.replay_dead_letters(aws.client("sqs"), resources.queue) == 5
    keys = sorted(json.loads(body)["Records"][0]["s3"]["object"]["key"] for body in drain(queue))
    assert keys == [f"posts/p{n}.md" for n in range(5)]
    assert drain(dlq) == []


def test_replay_moves_at_most_its_limit(dead_letters, resources):
    queue, dlq = dead_letters
    assert operations.replay_dead_letters(aws.client("sqs"), resources.queue, limit=3) == 3
    assert len(drain(queue)) == 3


def test_replay_dlq_command(dead_letters, resources, monkeypatch, capsys):
    monkeypatch.setattr("blogctl.cli.connect", lambda args: None)  # the test stage, on moto
    assert main(["replay-dlq", "--dry-run"]) == 0
    assert "holds about 5 message(s)" in capsys.readouterr().out
    assert main(["replay-dlq", "--max", "2"]) == 0
    assert "moved 2 message(s)" in capsys.readouterr().out
    assert main(["replay-dlq"]) == 0
    assert "moved 3 message(s)" in capsys.readouterr().out


def test_replayed_uploads_are_ingested(dead_letters, resources, content, index):
    """What the runbook promises: after a replay, ingest publishes what the bucket holds now."""
    import app
    from blogctl.localstack import sqs_event
    from conftest import source

    content.put("posts/p1.md", source("Back from the dead"), "text/markdown")
    drain(dead_letters[0])  # the upload's own event was lost
    operations.replay_dead_letters(aws.client("sqs"), resources.queue)
    sqs = aws.client("sqs")
    messages = sqs.receive_message(QueueUrl=dead_letters[0], MaxNumberOfMessages=10)["Messages"]
    app.ingest_uploads(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:" + resources.queue), None)
    assert index.post("p1").card.title == "Back from the dead"


def test_the_cli_uses_the_stages_region_whatever_the_environment_says(monkeypatch):
    from blogctl.cli import connect, parser

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    saved = dict(os.environ)
    try:
        with moto.mock_aws():  # connect() checks that the stage's bucket is there
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="serverless-blog-prod-content")
            connect(parser().parse_args(["status", "--stage", "prod"]))
        assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
    finally:
        os.environ.clear()
        os.environ.update(saved)
        from chalicelib import services
        services.reset()
