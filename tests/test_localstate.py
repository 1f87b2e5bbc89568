"""The local stack's moto, kept on disk across restarts, and sending S3's delete-marker event (in-process)."""
from __future__ import annotations

import datetime as dt
import json
import pickle
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

import pytest
from moto.core.base_backend import BackendDict

from blogctl.localstate import (MANIFEST, STATE_FILE, Gate, LocalState, StateError, changes_state, gated_server,
                                long_poll)
from blogctl.s3events import delete_marker_notifications
from chalicelib import aws, ingest, services, store
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
    assert state.save() and (tmp_path / MANIFEST).exists()
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


def test_requests_held_back_long_are_reported_and_short_holds_are_not(monkeypatch):
    from blogctl import localstate

    monkeypatch.setattr(localstate, "SLOW_SECONDS", 0.05)
    heard: list[str] = []
    gate = Gate(on_slow=heard.append)
    with gate.exclusive("a quick look"):
        pass
    with gate.exclusive("saving the state"):
        threading.Event().wait(0.1)
    assert len(heard) == 1 and heard[0].startswith("requests held back 0.1")
    assert "for saving the state" in heard[0]
    with gate.exclusive(lambda: "a save (named once done)"):
        threading.Event().wait(0.1)
    assert "for a save (named once done)" in heard[1]


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LocalState, Any, Any]]:
    """moto's server in this process behind the stack's gate, saving into a state folder; boto3 clients of it,
    and a versioned bucket and the blog's table made through it."""
    BackendDict.reset()
    gate = Gate()
    state = LocalState(tmp_path / "state", gate)
    port = _free_port()
    server = gated_server("127.0.0.1", port, state, gate)
    server.start()
    made = {name: boto3.client(name, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
            for name in ("s3", "dynamodb")}
    made["s3"].create_bucket(Bucket=BUCKET)
    made["s3"].put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    made["dynamodb"].create_table(**store.table_definition(TABLE))
    try:
        yield state, made["s3"], made["dynamodb"]
    finally:
        server.stop()
        BackendDict.reset()


BUCKET, TABLE = "state-test-bucket", "state-test-table"


def _item(pk: str, sk: str, **attributes: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{name: {"S": value} for name, value in attributes.items()}}


def _everything(s3: Any, dynamodb: Any) -> tuple[list[Any], list[Any], dict[str, bytes]]:
    versions = s3.list_object_versions(Bucket=BUCKET)
    listed = sorted((v["Key"], v["VersionId"], v["IsLatest"]) for v in versions.get("Versions", []))
    markers = sorted((m["Key"], m["VersionId"]) for m in versions.get("DeleteMarkers", []))
    bodies = {key: s3.get_object(Bucket=BUCKET, Key=key, VersionId=version)["Body"].read()
              for key, version, _ in listed}
    items = sorted(json.dumps(item, sort_keys=True) for item in dynamodb.scan(TableName=TABLE)["Items"])
    return [*listed, *markers], items, bodies


def _restart(folder: Path) -> int:
    BackendDict.reset()  # the process ends: moto's memory is gone (the server reads the new backends)
    return LocalState(folder, Gate()).load()


def test_a_restart_restores_what_requests_wrote_between_saves(served):
    state, s3, dynamodb = served
    s3.put_object(Bucket=BUCKET, Key="posts/first.md", Body=b"one")
    dynamodb.put_item(TableName=TABLE, Item=_item("POST#first", "POST", title="One"))
    assert state.save()  # the first save writes everything
    first = json.loads((state.folder / MANIFEST).read_text())
    assert state.pickled[0] == len(first["parts"]) and state.pickled[1] > 0

    odd = "posts/été x+y%2F=é.md"  # the key as moto reads it from the request's path
    s3.put_object(Bucket=BUCKET, Key=odd, Body=b"odd")
    s3.put_object(Bucket=BUCKET, Key="posts/first.md", Body=b"two")
    s3.delete_object(Bucket=BUCKET, Key="posts/gone.md")  # a delete marker of its own
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": TABLE, "Item": _item("POST#second", "POST", title="Two")}},
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "POST#first"}, "sk": {"S": "POST"}},
                    "UpdateExpression": "SET title = :t", "ExpressionAttributeValues": {":t": {"S": "Uno"}}}}])
    dynamodb.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": _item("TAGS", "a", n="1")}},
                                                    {"PutRequest": {"Item": _item("TAGS", "b", n="2")}}]})
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "TAGS"}, "sk": {"S": "a"}})
    assert state.save()
    second = json.loads((state.folder / MANIFEST).read_text())
    written = {part for part, name in second["parts"].items() if first["parts"].get(part) != name}
    assert 0 < len(written) <= 6  # three keys and three partitions: not the whole state
    before = _everything(s3, dynamodb)

    assert _restart(state.folder) == 2  # S3 and DynamoDB in us-east-1: all this test used
    assert _everything(s3, dynamodb) == before
    assert before[2][odd] == b"odd"


def test_a_save_interrupted_midway_keeps_the_previous_state(served, tmp_path, monkeypatch):
    state, s3, dynamodb = served
    s3.put_object(Bucket=BUCKET, Key="posts/kept.md", Body=b"first")
    assert state.save()
    saved = _everything(s3, dynamodb)
    s3.put_object(Bucket=BUCKET, Key="posts/kept.md", Body=b"second")
    s3.put_object(Bucket=BUCKET, Key="posts/new.md", Body=b"new")
    writes = 0
    real_write = Path.write_bytes

    def dies_after_one_file(path: Path, data: bytes) -> int:
        nonlocal writes
        writes += 1
        if writes > 1:
            raise OSError("the stack was killed")
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", dies_after_one_file)
    with pytest.raises(OSError):
        state.save()
    monkeypatch.undo()
    interrupted = tmp_path / "interrupted"
    shutil.copytree(state.folder, interrupted)
    assert state.save()  # what the failed save did not write is written by the next one
    latest = _everything(s3, dynamodb)

    _restart(interrupted)
    assert _everything(s3, dynamodb) == saved  # the state as the last whole save left it
    manifest = json.loads((interrupted / MANIFEST).read_text())
    assert {p.name for p in (interrupted / "parts").iterdir()} == {manifest["rest"], *manifest["parts"].values()}
    _restart(state.folder)
    assert _everything(s3, dynamodb) == latest


def test_a_bucket_setting_saves_no_keys_and_an_unsigned_request_saves_everything(tmp_path):
    state = LocalState(tmp_path, Gate())
    scope = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host"
    base = {"HTTP_HOST": "127.0.0.1:4566", "HTTP_AUTHORIZATION": scope}
    state.note({**base, "REQUEST_METHOD": "PUT", "RAW_URI": "/b?versioning", "QUERY_STRING": "versioning"})
    assert state._marks == {}
    state.note({**base, "REQUEST_METHOD": "POST", "RAW_URI": "/b?delete", "QUERY_STRING": "delete"})
    assert state._marks == {("s3", "b"): None}  # a multi-object delete: every key of the bucket
    state.note({"REQUEST_METHOD": "POST", "RAW_URI": "/moto-api/reset", "HTTP_HOST": "127.0.0.1:4566"})
    assert state._marks[("dynamodb", None)] is None and state._marks[("s3", None)] is None


def test_a_state_in_the_single_file_format_is_read_and_saved_in_parts(aws_mock, tmp_path):
    import moto

    (tmp_path / STATE_FILE).write_bytes(pickle.dumps({"format": 1, "moto": moto.__version__, "services": {}}))
    state = LocalState(tmp_path, Gate())
    assert state.exists and state.load() == 0
    assert state.save()
    assert (tmp_path / MANIFEST).exists() and not (tmp_path / STATE_FILE).exists()


def test_a_manifest_another_moto_wrote_is_refused(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"format": 2, "moto": "0.0.1", "rest": "x", "parts": {}}))
    with pytest.raises(StateError, match="`make reset` starts from scratch"):
        LocalState(tmp_path, Gate()).load()
    (tmp_path / MANIFEST).write_text(json.dumps({"format": 2, "moto": __import__("moto").__version__,
                                                 "rest": "missing.pickle", "parts": {}, "generation": 1}))
    with pytest.raises(StateError, match="cannot read the local stack's saved data"):
        LocalState(tmp_path, Gate()).load()


def test_a_save_writes_each_part_as_soon_as_it_is_pickled(served, monkeypatch):
    """A save that rewrites the whole archive holds one part's pickle in memory at a time, not the archive's."""
    from blogctl import localstate

    state, s3, dynamodb = served
    for number in range(40):
        s3.put_object(Bucket=BUCKET, Key=f"posts/p{number}.md", Body=b"x" * 1000)
    pickled: list[int] = []
    held: list[int] = []  # at each file written: the pickles made and not yet written
    real_dumps, real_write = localstate._dumps, Path.write_bytes

    def dumps(value: Any) -> bytes:
        data = real_dumps(value)
        pickled.append(len(data))
        return data

    def write_bytes(path: Path, data: bytes) -> int:
        held.append(len(pickled))
        pickled.clear()
        return real_write(path, data)

    monkeypatch.setattr(localstate, "_dumps", dumps)
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    assert state.save(force=True)
    assert len(held) > 40 and max(held) == 1  # every part written right after its own pickle
    monkeypatch.undo()
    saved = _everything(s3, dynamodb)
    _restart(state.folder)
    assert _everything(s3, dynamodb) == saved


def test_slow_requests_are_reported_by_operation(served, monkeypatch):
    from blogctl import localstate

    state, s3, dynamodb = served
    heard: list[str] = []
    state.gate.on_slow = heard.append
    monkeypatch.setattr(localstate, "SLOW_SECONDS", 0.0)  # every request is slow enough
    s3.put_object(Bucket=BUCKET, Key="posts/été.md", Body=b"one")
    dynamodb.put_item(TableName=TABLE, Item=_item("POST#a", "POST"))
    assert any(text.startswith(f"S3 PUT /{BUCKET}/posts/été.md took ") for text in heard)
    assert any(text.startswith("DynamoDB PutItem took ") and "s of it at the gate" in text for text in heard)


def test_a_state_saved_in_another_number_of_parts_is_read_and_its_next_save_rewrites_it(served, monkeypatch):
    from blogctl import localstate

    state, s3, dynamodb = served
    monkeypatch.setattr(localstate, "SHARDS", 4)  # as an older stack saved it
    for number in range(12):
        s3.put_object(Bucket=BUCKET, Key=f"posts/p{number}.md", Body=f"post {number}".encode())
        dynamodb.put_item(TableName=TABLE, Item=_item(f"POST#p{number}", "POST", title=str(number)))
    assert state.save()
    saved = _everything(s3, dynamodb)
    monkeypatch.undo()

    BackendDict.reset()
    restarted = LocalState(state.folder, Gate())
    restarted.load()
    assert _everything(s3, dynamodb) == saved
    assert restarted.save()  # nothing changed since, but every part moved
    manifest = json.loads((state.folder / MANIFEST).read_text())
    assert len(manifest["parts"]) > 8 and all(int(part.rsplit("/", 1)[1]) < localstate.SHARDS
                                              for part in manifest["parts"])
    assert _restart(state.folder) == 2 and _everything(s3, dynamodb) == saved
