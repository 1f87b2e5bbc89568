"""The one AWS call recorder (blogctl/recorder.py) and the one queue pump (blogctl/pump.py), on moto."""
from __future__ import annotations

import json
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from blogctl import pump
from blogctl.pump import Batch, QueuePump, scheduled_event, sqs_event
from blogctl.recorder import CallRecorder, describe
from chalicelib import aws, services


def ticking_clock(step: float = 0.25):
    """A clock that moves `step` seconds each time it is read."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]
    return clock


def test_counts_calls_by_service_and_operation(index, content):
    with CallRecorder().recording(aws.client("s3"), aws.client("dynamodb")) as recorder:
        content.put("posts/a.md", b"x", "text/markdown")
        index.post("a")
        index.listing("9999", 10)
    assert recorder.keys() == [("s3", "PutObject"), ("dynamodb", "GetItem"), ("dynamodb", "Query")]
    assert recorder.count() == Counter({("s3", "PutObject"): 1, ("dynamodb", "GetItem"): 1,
                                        ("dynamodb", "Query"): 1})
    assert recorder.writes() == [("s3", "PutObject")]
    assert recorder.scanned() == [0]
    assert all(call.region == "us-east-1" and call.response_bytes >= 0 for call in recorder.calls)


def test_stops_recording_when_detached(index):
    recorder = CallRecorder()
    with recorder.recording(aws.client("dynamodb")):
        index.post("a")
    index.post("b")
    assert recorder.keys() == [("dynamodb", "GetItem")]


def test_attaching_twice_records_each_call_once(index):
    recorder = CallRecorder()
    client = aws.client("dynamodb")
    recorder.attach(client)
    recorder.attach(client)
    try:
        index.post("a")
    finally:
        recorder.detach(client)
    assert recorder.keys() == [("dynamodb", "GetItem")]


def test_a_failed_call_is_recorded_with_its_error_code(resources):
    s3 = aws.client("s3")
    with CallRecorder().recording(s3) as recorder:
        with pytest.raises(ClientError):
            s3.get_object(Bucket=resources.bucket, Key="posts/missing.md")
    assert recorder.errors() == [("s3", "GetObject", "NoSuchKey")]


def test_a_call_refused_before_sending_is_no_call(resources):
    s3 = aws.client("s3")
    with CallRecorder().recording(s3) as recorder:
        with pytest.raises(Exception, match="Parameter validation failed"):
            s3.get_object(Bucket=resources.bucket)  # no Key: botocore refuses it
    assert recorder.calls == []


def test_streamed_bodies_stay_readable(content):
    """The recorder sizes a streamed answer by its header: reading the body would leave the caller none."""
    content.put("posts/a.md", b"twelve bytes", "text/markdown")
    s3 = aws.client("s3")
    with CallRecorder().recording(s3) as recorder:
        body = s3.get_object(Bucket=content.bucket, Key="posts/a.md")["Body"].read()
    assert body == b"twelve bytes"
    assert recorder.calls[0].response_bytes == len(b"twelve bytes")


def test_times_calls_and_the_work_around_them_with_its_clock(index):
    recorder = CallRecorder(clock=ticking_clock(0.25))
    with recorder.recording(aws.client("dynamodb")):
        total, own = recorder.own_seconds(lambda: index.post("a"))
    # Reads of the clock: work starts, call starts, call ends, work ends: three steps of 0.25 s.
    assert recorder.calls[0].seconds == 0.25 and recorder.aws_seconds == 0.25
    assert (total, own) == (0.75, 0.5)


def test_keeps_parameters_and_tells_listeners_when_asked(index):
    seen = []
    recorder = CallRecorder(keep_params=True)
    recorder.on_call.append(seen.append)
    with recorder.recording(aws.client("dynamodb")):
        index.post("a")
    assert seen == recorder.calls
    assert seen[0].params["TableName"] == index.table


def test_records_every_client_made_while_recording_new_clients(resources):
    recorder = CallRecorder(keep_params=True)
    with recorder.recording_new_clients():
        services.reset()  # the blog makes new clients, as a new container does
        services.index().post("a")
    services.index().post("b")  # made inside, used after: no longer recorded
    services.reset()
    services.index().post("c")
    assert [(c.key, c.params["Key"]["pk"]["S"]) for c in recorder.calls] == [(("dynamodb", "GetItem"), "POST#a")]


def test_describe_keeps_fractions():
    assert describe(Counter()) == "none"
    assert describe({("dynamodb", "GetItem"): 1.0, ("s3", "GetObject"): 0.25}) == \
        "dynamodb GetItem ×1, s3 GetObject ×0.25"


# -- the pump --

def uploads_in(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_pump_hands_batches_to_the_handler_as_lambda_events_and_deletes_them(queue_url):
    sqs = aws.client("sqs")
    for n in range(12):  # with the setup's s3:TestEvent: 13 messages, two batches
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": n}))
    events = []
    pump = QueuePump(sqs, queue_url, lambda event, context: events.append(event))
    assert pump.drain() == 13
    assert [len(event["Records"]) for event in events] == [10, 3]
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":test-blog-uploads")
    assert record["awsRegion"] == "us-east-1" and record["receiptHandle"] and record["messageId"]
    assert uploads_in(sqs, queue_url) == 0


def broken(event, context):
    raise RuntimeError("ingest down")


def test_a_batch_the_handler_fails_stays_queued(queue_url):
    sqs = aws.client("sqs")
    batch = QueuePump(sqs, queue_url, broken, visibility_timeout=30).pump_once()
    assert (batch.received, batch.deleted, str(batch.error)) == (1, 0, "ingest down")
    assert uploads_in(sqs, queue_url) == 1  # in flight: back after the visibility timeout, as on AWS


def test_drain_raises_a_failed_batch_unless_given_a_handler_for_it(queue_url):
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=queue_url, MessageBody="second")
    with pytest.raises(RuntimeError, match="ingest down"):
        QueuePump(sqs, queue_url, broken, batch_size=1, visibility_timeout=30).drain()
    failed: list[Batch] = []
    assert QueuePump(sqs, queue_url, broken, batch_size=1, visibility_timeout=30).drain(failed.append) == 1
    assert [(b.received, b.deleted) for b in failed] == [(1, 0)]
    assert uploads_in(sqs, queue_url) == 2


def test_only_what_the_handler_finished_is_deleted(queue_url):
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=queue_url, MessageBody="keep me")

    def partial(event, context):
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in event["Records"] if r["body"] == "keep me"]}

    batch = QueuePump(sqs, queue_url, partial, visibility_timeout=0).pump_once()
    assert (batch.received, batch.deleted, batch.error) == (2, 1, None)
    left = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in left] == ["keep me"]


def test_pump_delivers_uploads_to_the_deployed_handler(http, content, queue_url):
    content.put("posts/pumped.md", b"---\ntitle: Pumped\ndate: 2024-01-02\n---\nBody.\n", "text/markdown")
    assert QueuePump(aws.client("sqs"), queue_url).drain() == 2  # s3:TestEvent and the upload
    assert "Pumped" in http.get("/posts/pumped").text


def test_events_have_the_shapes_aws_sends():
    event = sqs_event([{"MessageId": "m", "ReceiptHandle": "r", "Body": "b"}], "arn:q", "eu-west-1")
    assert event["Records"][0]["awsRegion"] == "eu-west-1" and event["Records"][0]["body"] == "b"
    scheduled = scheduled_event("eu-west-1")
    assert scheduled["detail-type"] == "Scheduled Event" and scheduled["source"] == "aws.events"
    assert scheduled["region"] == "eu-west-1"


def test_queue_url_names_the_queue(queue_url):
    assert pump.queue_url(aws.client("sqs"), "test-blog-uploads") == queue_url
