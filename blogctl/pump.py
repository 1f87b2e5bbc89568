"""The one queue pump: Lambda's SQS trigger and EventBridge's schedule, played outside AWS.

`chalice local`, moto and the test client run no event sources, so the local stack
(blogctl/localstack.py), the sandbox (blogctl/sandbox.py) and the benchmarks (bench/)
deliver the upload queue with `QueuePump` and fire the rebuild with `scheduled_event`:

    pump = QueuePump(sqs, queue_url, app.ingest_uploads)
    pump.drain()            # every queued message, a batch at a time

A batch goes to the handler as the Lambda event AWS would build; what the handler
finished is deleted from the queue, and what it did not comes back after the visibility
timeout, as on AWS: a handler that raises finished nothing, and one that answers
`{"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}` finished the others.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blogctl.stage import LOCAL_REGION

BATCH_SIZE = 10  # the most SQS hands over at once, and app.py's batch_size
ACCOUNT = "123456789012"  # moto's account, in the events' ARNs

Handler = Callable[[dict[str, Any], Any], Any]


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = LOCAL_REGION) -> dict[str, Any]:
    """Queue messages as the Lambda event AWS would deliver them in."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region,
    } for m in messages]}


def scheduled_event(region: str = LOCAL_REGION) -> dict[str, Any]:
    """The event EventBridge sends a scheduled function."""
    return {"version": "0", "account": ACCOUNT, "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": region, "resources": [], "detail": {}}


def ingest_handler() -> Handler:
    """The deployed ingest handler, app.ingest_uploads (app.py is imported on first use)."""
    import app

    return app.ingest_uploads


@dataclass(frozen=True)
class Batch:
    """One delivery: how many messages came, how many the handler finished, and its error if it raised."""

    received: int
    deleted: int
    error: BaseException | None = None


class QueuePump:
    """Receives batches from one queue and hands them to a handler, as Lambda's SQS trigger does."""

    def __init__(self, sqs: Any, queue_url: str, handler: Handler | None = None, *,
                 batch_size: int = BATCH_SIZE, visibility_timeout: int | None = None) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler or ingest_handler()
        self.batch_size = batch_size
        self.visibility_timeout = visibility_timeout  # None: the queue's own
        self.queue_arn = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.region = sqs.meta.region_name or LOCAL_REGION

    def pump_once(self, wait_seconds: int = 0) -> Batch:
        """Receive one batch (waiting up to `wait_seconds` for it), deliver it, delete what was finished."""
        request: dict[str, Any] = {"QueueUrl": self.queue_url, "MaxNumberOfMessages": self.batch_size,
                                   "WaitTimeSeconds": wait_seconds}
        if self.visibility_timeout is not None:
            request["VisibilityTimeout"] = self.visibility_timeout
        messages = self.sqs.receive_message(**request).get("Messages", [])
        if not messages:
            return Batch(0, 0)
        try:
            answer = self.handler(sqs_event(messages, self.queue_arn, self.region), None)
        except Exception as err:  # as on AWS: the whole batch comes back after the visibility timeout
            return Batch(len(messages), 0, err)
        failed = {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])} \
            if isinstance(answer, dict) else set()
        finished = [m for m in messages if m["MessageId"] not in failed]
        if finished:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(finished)])
        return Batch(len(messages), len(finished))

    def drain(self, on_error: Callable[[Batch], None] | None = None) -> int:
        """Deliver batches until the queue has none to give; return how many messages were delivered.

        A batch the handler failed is passed to `on_error` (by default its error is raised);
        its messages stay invisible until their timeout, so the drain goes on with the rest
        (with a visibility timeout of 0 they would come straight back: give one when failures are
        expected).
        """
        delivered = 0
        while (batch := self.pump_once()).received:
            delivered += batch.received
            if batch.error is not None:
                if on_error is None:
                    raise batch.error
                on_error(batch)
        return delivered


def queue_url(sqs: Any, name: str) -> str:
    """The URL of the queue called `name`."""
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]
