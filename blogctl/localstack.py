"""The local stack behind `make run`: AWS on loopback, the blog on http://127.0.0.1:8000.

1. moto's server plays S3, DynamoDB and SQS on 127.0.0.1:4566;
2. the idempotent setup creates the dev stage's bucket, table and queues;
3. the sample posts from content/ are uploaded, as an editor would;
4. a pump drains the queue into the same ingest handler AWS runs (app.ingest_uploads),
   and a timer fires the scheduled rebuild (app.rebuild_index) every 30 s, since moto
   sends no event when a versioned bucket gets a delete marker;
5. `chalice local` serves the routes.
Ctrl-C stops all of it.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from blogctl.deploy import tool
from blogctl.stage import LOCAL_REGION, PROJECT_DIR, load_stage

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing"}
REBUILD_EVERY_SECONDS = 30
RECEIVE_WAIT_SECONDS = 1
RETRY_AFTER_SECONDS = 5  # a message whose ingest failed comes back this soon


def local_environment(stage_name: str, aws_port: int, web_port: int | None = None) -> dict[str, str]:
    """The variables that point the blog's code at the local stack (and never at AWS)."""
    stage = load_stage(stage_name)
    return {
        **stage.env,
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
        "BLOG_SITE_URL": f"http://127.0.0.1:{web_port}" if web_port else stage.env.get("BLOG_SITE_URL", ""),
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "BLOG_REGION": LOCAL_REGION,
    }


def port_is_free(port: int) -> bool:
    """Can we listen on 127.0.0.1:port?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Queue messages as the Lambda event AWS would deliver them in."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": LOCAL_REGION,
    } for m in messages]}


def scheduled_event() -> dict[str, Any]:
    """The event EventBridge sends a scheduled function."""
    return {"version": "0", "account": "123456789012", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "region": LOCAL_REGION,
            "resources": [], "detail": {}}


class LocalStack:
    """moto + setup + queue pump + rebuild timer; `chalice local` runs beside it."""

    def __init__(self, port: int = 8000, aws_port: int = 4566, stage: str = "dev",
                 content_dir: Path | None = None, rebuild_every: float = REBUILD_EVERY_SECONDS,
                 autoreload: bool = True, log=print) -> None:
        self.port = port
        self.aws_port = aws_port
        self.stage = stage
        self.content_dir = content_dir or PROJECT_DIR / "content"
        self.rebuild_every = rebuild_every
        self.autoreload = autoreload
        self.log = log
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._moto = None
        self._server: subprocess.Popen | None = None
        self._lock = threading.Lock()  # ingest and rebuild take turns, as in one Lambda container

    def start(self) -> None:
        """Start AWS on loopback, set it up, load the sample posts and start the pump and timer."""
        for port in (self.port, self.aws_port):
            if not port_is_free(port):
                raise SystemExit(f"port {port} on 127.0.0.1 is in use; set PORT=… or AWS_PORT=… to another one")
        os.environ.update(local_environment(self.stage, self.aws_port, self.port))
        from moto.server import ThreadedMotoServer

        from blogctl import motopatch

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto would log every request
        motopatch.install()  # no table copies per transaction, one DynamoDB request at a time

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self._moto.start()
        self.log(f"local AWS (moto) on http://127.0.0.1:{self.aws_port}")

        from chalicelib import aws, services
        from blogctl.resources import ensure_resources
        from blogctl.publishing import upload_tree

        services.reset()
        stage = load_stage(self.stage)
        names = _names(stage)
        ensure_resources(aws.client("s3"), aws.client("dynamodb"), aws.client("sqs"), names,
                         stage.function_setting("ingest_uploads", "lambda_timeout", 60))
        self._sqs = aws.client("sqs")
        self._queue_url = self._sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
        self._queue_arn = self._sqs.get_queue_attributes(
            QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        uploaded = upload_tree(services.content(), self.content_dir)
        self.log(f"bucket {names.bucket}: uploaded {len(uploaded)} sample file(s) from {self.content_dir}")

        import app as blog  # the deployed module, unchanged

        self._app = blog
        self.drain()
        self.rebuild()
        self._spawn(self._pump_forever, "queue-pump")
        self._spawn(self._rebuild_forever, "rebuild-timer")

    def drain(self) -> int:
        """Deliver every queued message to the ingest handler now; return how many."""
        delivered = 0
        while True:
            got = self.pump_once(wait_seconds=0)
            if not got:
                return delivered
            delivered += got

    def pump_once(self, wait_seconds: int = RECEIVE_WAIT_SECONDS) -> int:
        """Receive one batch and hand it to the ingest handler, as Lambda's SQS trigger does."""
        response = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=RETRY_AFTER_SECONDS)
        messages = response.get("Messages", [])
        if not messages:
            return 0
        try:
            with self._lock:
                self._app.ingest_uploads(sqs_event(messages, self._queue_arn), None)
        except Exception as err:  # as on AWS: the batch comes back after the visibility timeout
            self.log(f"ingest failed, will retry: {err}")
            return len(messages)
        self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        return len(messages)

    def rebuild(self) -> None:
        """Fire the scheduled rebuild once."""
        with self._lock:
            self._app.rebuild_index(scheduled_event(), None)

    def _pump_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump_once()
            except Exception as err:
                if not self._stop.is_set():
                    self.log(f"queue pump: {err}")
                    time.sleep(1)

    def _rebuild_forever(self) -> None:
        while not self._stop.wait(self.rebuild_every):
            try:
                self.rebuild()
            except Exception as err:
                self.log(f"rebuild failed: {err}")

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def serve(self) -> int:
        """Run `chalice local` until it exits or Ctrl-C; then stop everything."""
        # `chalice local` with API Gateway's greedy routes (blogctl/greedy.py), as on AWS.
        command = [sys.executable, "-m", "blogctl.greedy", "local", "--host", "127.0.0.1", "--port", str(self.port),
                   "--stage", self.stage]
        if not self.autoreload:
            command.append("--no-autoreload")
        self._server = subprocess.Popen(command, cwd=PROJECT_DIR, env=os.environ.copy())
        try:
            if wait_for_http(f"http://127.0.0.1:{self.port}/", timeout=60, process=self._server):
                self.log(f"the blog is at http://127.0.0.1:{self.port}/ (Ctrl-C stops everything)")
            return self._server.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the web server, the pump, the timer and moto."""
        self._stop.set()
        if self._server and self._server.poll() is None:
            self._server.send_signal(signal.SIGINT)
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
        for thread in self._threads:
            thread.join(timeout=RECEIVE_WAIT_SECONDS + 5)
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        self.log("stopped")


def _names(stage):
    from blogctl.resources import Names

    return Names(bucket=stage.bucket, table=stage.table, queue=stage.queue, region=LOCAL_REGION)


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> bool:
    """Poll `url` until it answers (any status) or `timeout` passes or `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


def main(port: int, aws_port: int, stage: str, autoreload: bool) -> int:
    """`make run`: start the local stack and serve until Ctrl-C."""
    # Ingest's and the rebuild's JSON log lines, as CloudWatch would show them.
    logging.basicConfig(level=logging.WARNING, format="[%(name)s] %(message)s")
    logging.getLogger("chalicelib").setLevel(logging.INFO)
    stack = LocalStack(port=port, aws_port=aws_port, stage=stage, autoreload=autoreload,
                       log=lambda text: print(f"[local] {text}", flush=True))
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack.serve()
