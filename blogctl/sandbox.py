"""The deployed app on an in-process moto, under a stage's names: no AWS, no network.

`python -m blogctl cost` measures calls per view in it, and tests/test_policy.py drives
the whole workload through it. Editors' uploads go to the bucket, S3's notifications to
the queue, the queue's messages to the ingest handler Lambda runs; the schedule's event
goes to the rebuild handler; readers' requests go through Chalice's test client.
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from blogctl.localstack import LOCAL_CREDENTIALS
from blogctl.policy import resource_names
from blogctl.pump import QueuePump, queue_url, scheduled_event
from blogctl.resources import ensure_resources
from blogctl.stage import PROJECT_DIR, Stage


class Sandbox:
    """One stage's blog on moto: upload, deliver the queue, rebuild, request pages."""

    def __init__(self, stage: Stage) -> None:
        from chalice.test import Client

        import app
        from blogctl import greedy
        from chalicelib import aws

        greedy.install()

        self.stage = stage
        self._app = app
        self._sqs = aws.client("sqs")
        self._queue_url = queue_url(self._sqs, stage.queue)
        self._pump = QueuePump(self._sqs, self._queue_url, app.ingest_uploads)
        self._http = Client(app.app, stage_name=stage.name, project_dir=str(PROJECT_DIR)).http

    def upload(self, key: str, data: bytes, content_type: str = "text/markdown") -> None:
        """Put an object in the bucket, as an editor does."""
        from chalicelib import services

        services.content().put(key, data, content_type)

    def delete(self, key: str) -> None:
        """Delete an object (a delete marker: the bucket is versioned)."""
        from chalicelib import services

        services.content().delete(key)

    def notify(self, event_name: str, key: str) -> None:
        """Queue an S3 event moto does not send (it sends none for delete markers)."""
        record = {"eventName": event_name, "s3": {"object": {"key": key}}}
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps({"Records": [record]}))

    def deliver(self) -> int:
        """Hand every queued message to the ingest handler in batches, as Lambda's SQS trigger does.

        A batch the handler fails raises its error (the messages stay queued, as on AWS).
        """
        return self._pump.drain()

    def rebuild(self) -> None:
        """Fire the scheduled rebuild."""
        self._app.rebuild_index(scheduled_event(self.stage.region), None)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        """A reader's GET through API Gateway's stand-in."""
        return self._http.get(path, headers=headers or {})


@contextlib.contextmanager
def sandbox(stage: Stage) -> Iterator[Sandbox]:
    """The stage's resources on moto, set up as `make deploy` sets them up; the environment is restored after."""
    import moto  # a dev dependency: imported only when a sandbox is made

    from chalicelib import aws, services

    saved = dict(os.environ)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update({**stage.env, **LOCAL_CREDENTIALS,
                       "AWS_REGION": stage.region, "AWS_DEFAULT_REGION": stage.region})
    try:
        with moto.mock_aws():
            services.reset()
            ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), resource_names(stage),
                             stage.function_setting("ingest_uploads", "lambda_timeout", 60))
            yield Sandbox(stage)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        services.reset()
