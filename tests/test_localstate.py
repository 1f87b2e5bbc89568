"""The local stack's moto, kept on disk across restarts, and sending S3's delete-marker event (in-process)."""
from __future__ import annotations

import datetime as dt
import json
import pickle
import threading

import pytest
from moto.core.base_backend import BackendDict

from blogctl.localstate import STATE_FILE, Gate, LocalState, StateError, changes_state, long_poll
from blogctl.s3events import delete_marker_notifications
from chalicelib import aws, ingest, services
from conftest import source


def test_a_restart_keeps_every_version_the_index_the_queue_and_the_secret(resources, publish, remove, tmp_path):
    first = publish("posts/kept.md", source("First"))
    publish("posts/kept.md", source("Second"))
    remove("posts/kept.md")
    publish("posts/live.md", source("Live"))
    sqs = aws.client("sqs")
    queue = sqs.get_queue_url(QueueName=resources.queue)["QueueUrl"]
    sqs.purge_queue(QueueUrl=queue)
    sqs.send_message(QueueUrl=queue, MessageBody="waiting")
    secret = services.preview_secret().read()
    before = services.content().versions("posts/kept.md")
    state = LocalState(tmp_path, Gate())
    state.changed()
    assert state.save() and (tmp_path / STATE_FILE).exists()
    assert not state.save()  # nothing changed since

    BackendDict.reset()  # the process ends: moto's memory is gone
    assert LocalState(tmp_path, Gate()).load() >= 4

    assert services.content().versions("posts/kept.md") == before  # same VersionIds, the delete marker too
    assert [v.deleted for v in before] == [True, False, False] and first.slug == "kept"
    assert services.index().post("kept").status.value == "deleted"
    assert services.index().post("live").card.title == "Live"
    messages = sqs.receive_message(QueueUrl=queue).get("Messages", [])
    assert [m["Body"] for m in messages] == ["waiting"]
    assert services.preview_secret().read() == secret


def test_a_state_another_moto_wrote_is_refused_not_half_read(tmp_path):
    (tmp_path / STATE_FILE).write_bytes(pickle.dumps({"format": 1, "moto": "0.0.1", "services": {}}))
    with pytest.raises(StateError, match="`make reset` starts from scratch"):
        LocalState(tmp_path, Gate()).load()
    (tmp_path / STATE_FILE).write_bytes(b"not a pickle")
    with pytest.raises(StateError, match="cannot read the local stack's saved data"):
        LocalState(tmp_path, Gate()).load()


@pytest.mark.parametrize("method, target, changes", [
    ("GET", "", False), ("HEAD", "", False), ("PUT", "", True), ("DELETE", "", True),
    ("POST", "DynamoDB_20120810.GetItem", False), ("POST", "DynamoDB_20120810.Query", False),
    ("POST", "DynamoDB_20120810.TransactWriteItems", True), ("POST", "AmazonSQS.ReceiveMessage", False),
    ("POST", "AmazonSQS.DeleteMessageBatch", True), ("POST", "AmazonSSM.GetParameter", False),
    ("POST", "AmazonSSM.PutParameter", True),
])
def test_only_requests_that_can_change_data_mark_the_state_for_saving(method, target, changes):
    environ = {"REQUEST_METHOD": method, **({"HTTP_X_AMZ_TARGET": target} if target else {})}
    assert changes_state(environ) is changes


def test_queue_receives_pass_beside_the_gate_and_nothing_else_does():
    assert long_poll({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"})
    assert not long_poll({"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"})
    assert not long_poll({"REQUEST_METHOD": "GET"})


def test_a_snapshot_waits_for_requests_in_progress_and_holds_new_ones():
    gate, events = Gate(), []
    entered, release = threading.Event(), threading.Event()

    def request(name: str, wait: threading.Event | None = None) -> None:
        with gate.request():
            events.append(f"{name} in")
            entered.set()
            if wait:
                wait.wait(5)
            events.append(f"{name} out")

    slow = threading.Thread(target=request, args=("slow", release))
    slow.start()
    entered.wait(5)
    snapshot_done = threading.Event()

    def snapshot() -> None:
        with gate.exclusive():
            events.append("snapshot")
        snapshot_done.set()

    taker = threading.Thread(target=snapshot)
    taker.start()
    assert not snapshot_done.wait(0.2)  # the slow request is still in progress
    release.set()
    taker.join(5)
    slow.join(5)
    assert events == ["slow in", "slow out", "snapshot"]


def test_deleting_a_post_notifies_the_queue_as_real_s3_does(resources, publish, queue_url, http):
    publish("posts/bye.md", source("Bye"))
    sqs = aws.client("sqs")
    sqs.purge_queue(QueueUrl=queue_url)
    with delete_marker_notifications():
        services.content().delete("posts/bye.md")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    records = [r for m in messages for r in json.loads(m["Body"]).get("Records", [])]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectRemoved:DeleteMarkerCreated", "posts%2Fbye.md")]  # URL-encoded, as S3 writes keys
    outcomes, failed = ingest.handle_messages([ingest.parse_message("m", m["Body"]) for m in messages],
                                              services.index(), services.content(),
                                              dt.datetime.now(dt.timezone.utc))
    assert failed == [] and [o.action for o in outcomes] == ["deleted"]
    assert http.get("/posts/bye").status_code == 410


def test_without_the_patch_moto_sends_nothing_for_a_delete_marker(resources, publish, queue_url):
    """The reason for blogctl/s3events.py: when moto sends the event itself, delete the patch."""
    publish("posts/bye.md", source("Bye"))
    sqs = aws.client("sqs")
    sqs.purge_queue(QueueUrl=queue_url)
    services.content().delete("posts/bye.md")
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
