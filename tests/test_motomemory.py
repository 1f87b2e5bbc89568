"""The local stack's moto holds its objects lean and answers as before (blogctl/motomemory.py)."""
from __future__ import annotations

import hashlib
import gc
import os
import pickle
import subprocess
import sys
import tracemalloc
import weakref
from collections.abc import Iterator
from typing import Any

import boto3
import moto
import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.s3.models import FakeKey

from blogctl import motomemory
from blogctl.stage import PROJECT_DIR

BUCKET = "lean-test"
PROSE = b"".join(b"Paragraph %d says the same few words again and again.\n" % n for n in range(400))


@pytest.fixture
def s3() -> Iterator[Any]:
    """A moto S3 with one versioned bucket, the lean patches installed (and removed after)."""
    motomemory.install()
    try:
        with moto.mock_aws():
            client = boto3.client("s3", region_name="us-east-1")
            client.create_bucket(Bucket=BUCKET)
            client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
            yield client
    finally:
        motomemory.restore()


def stored(key: str) -> Any:
    """moto's buffer behind the bucket's current `key`."""
    from moto.s3.models import s3_backends

    bucket = s3_backends[moto.core.DEFAULT_ACCOUNT_ID]["aws"].buckets[BUCKET]
    return bucket.keys[key]._value_buffer


def test_prose_is_kept_packed_and_read_back_whole(s3):
    s3.put_object(Bucket=BUCKET, Key="posts/a.md", Body=PROSE)
    got = s3.get_object(Bucket=BUCKET, Key="posts/a.md")
    assert got["Body"].read() == PROSE
    assert got["ContentLength"] == len(PROSE)
    assert got["ETag"] == f'"{hashlib.md5(PROSE).hexdigest()}"'
    blob = stored("posts/a.md")
    assert blob.packed and len(blob.data) < len(PROSE) / 4


def test_ranges_and_copies_read_the_unpacked_bytes(s3):
    s3.put_object(Bucket=BUCKET, Key="posts/a.md", Body=PROSE)
    assert s3.get_object(Bucket=BUCKET, Key="posts/a.md", Range="bytes=100-199")["Body"].read() == PROSE[100:200]
    s3.copy_object(Bucket=BUCKET, Key="posts/b.md", CopySource={"Bucket": BUCKET, "Key": "posts/a.md"})
    assert s3.get_object(Bucket=BUCKET, Key="posts/b.md")["Body"].read() == PROSE


def test_bytes_that_do_not_shrink_are_kept_as_they_are(s3):
    noise, small = os.urandom(20_000), b"tiny"
    s3.put_object(Bucket=BUCKET, Key="_site/shard", Body=noise)
    s3.put_object(Bucket=BUCKET, Key="small", Body=small)
    assert s3.get_object(Bucket=BUCKET, Key="_site/shard")["Body"].read() == noise
    assert s3.get_object(Bucket=BUCKET, Key="small")["Body"].read() == small
    assert not stored("_site/shard").packed and not stored("small").packed


def test_every_version_keeps_its_own_bytes(s3):
    first = s3.put_object(Bucket=BUCKET, Key="posts/a.md", Body=PROSE)["VersionId"]
    s3.put_object(Bucket=BUCKET, Key="posts/a.md", Body=b"replaced " * 100)
    old = s3.get_object(Bucket=BUCKET, Key="posts/a.md", VersionId=first)["Body"].read()
    assert old == PROSE
    assert s3.get_object(Bucket=BUCKET, Key="posts/a.md")["Body"].read() == b"replaced " * 100


def test_a_key_survives_the_state_savers_pickle(s3):
    s3.put_object(Bucket=BUCKET, Key="posts/a.md", Body=PROSE)
    from moto.s3.models import s3_backends

    key = s3_backends[moto.core.DEFAULT_ACCOUNT_ID]["aws"].buckets[BUCKET].keys["posts/a.md"]
    back = pickle.loads(pickle.dumps(key))
    assert back.value == PROSE and back.size == len(PROSE) and back.etag == key.etag
    assert back._value_buffer.packed


def test_a_disposed_key_reads_as_closed_and_frees_its_bytes(s3):
    s3.put_object(Bucket=BUCKET, Key="posts/a.md", Body=PROSE)
    blob = stored("posts/a.md")
    blob.close()
    assert blob.data == b""
    with pytest.raises(ValueError):
        blob.read()


def test_replaced_objects_are_freed_not_listed(s3):
    from moto.core.model_instances import reset_model_data
    from moto.s3.models import s3_backends

    reset_model_data()  # moto empties its lists when a mock stops, not when one starts: an earlier test's
    # server (a moto server in a thread, no mock) may have listed objects since
    s3.put_object(Bucket=BUCKET, Key="_site/shard", Body=b"first")

    bucket = s3_backends[moto.core.DEFAULT_ACCOUNT_ID]["aws"].buckets[BUCKET]
    first = weakref.ref(bucket.keys["_site/shard"])
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "_site/shard", "VersionId": v["VersionId"]}
                                                         for v in s3.list_object_versions(Bucket=BUCKET)["Versions"]]})
    gc.collect()
    assert first() is None  # moto's BaseModel would keep it in FakeKey.instances_tracked for good
    assert not FakeKey.instances_tracked


def test_items_moto_copies_on_each_write_are_not_kept():
    motomemory.untracked_instances()
    try:
        with moto.mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(TableName="t", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                                BillingMode="PAY_PER_REQUEST")
            for n in range(50):
                client.update_item(TableName="t", Key={"pk": {"S": "counter"}}, UpdateExpression="ADD n :one",
                                   ExpressionAttributeValues={":one": {"N": "1"}})
            assert client.get_item(TableName="t", Key={"pk": {"S": "counter"}})["Item"]["n"] == {"N": "50"}
            assert not Item.instances_tracked
    finally:
        motomemory.restore()
    with moto.mock_aws():  # restored: moto lists its instances again
        DynamoType({"S": "x"})
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="after")
        from moto.s3.models import FakeBucket
        assert FakeBucket.instances_tracked


def test_restore_puts_back_motos_own_buffer():
    motomemory.install()
    motomemory.install()  # twice: still one layer
    motomemory.restore()
    key = FakeKey("k", b"value", "123456789012", "us-east-1")
    assert not isinstance(key._value_buffer, motomemory._Blob) and key.value == b"value"
    assert "__getstate__" not in DynamoType.__dict__ and "__setstate__" not in DynamoType.__dict__


def items(count: int) -> list[DynamoType]:
    """DynamoDB values as the blog's items hold them: strings, numbers, lists and maps."""
    return [DynamoType({"M": {"slug": {"S": f"post-{n}"}, "rev": {"N": str(n)},
                              "tags": {"L": [{"S": "python"}, {"S": f"tag-{n % 7}"}]}}}) for n in range(count)]


def unpickled_bytes(data: bytes) -> int:
    """The bytes `pickle.loads(data)` leaves allocated."""
    tracemalloc.start()
    try:
        kept = pickle.loads(data)
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept
    return size


def test_dynamo_values_round_trip_with_less_memory():
    values = items(2_000)
    plain = pickle.dumps(values)
    with_dicts = unpickled_bytes(plain)
    motomemory.dynamo_values_without_dicts()
    try:
        lean = pickle.dumps(values)
        back = pickle.loads(lean)
        assert back == values and [v.to_json() for v in back] == [v.to_json() for v in values]
        assert pickle.loads(plain) == values  # a state saved before the patch still reads
        assert unpickled_bytes(lean) < 0.8 * with_dicts
        assert unpickled_bytes(plain) < 0.8 * with_dicts  # and reads lean
    finally:
        motomemory.restore()
    assert unpickled_bytes(plain) > 0.95 * with_dicts  # restored: dicts again


def test_dropping_ec2_data_leaves_the_stacks_services_working():
    script = """
import boto3, moto
from blogctl import motomemory
from moto.ec2.models import instance_types
assert instance_types.INSTANCE_TYPE_OFFERINGS
motomemory.drop_ec2_data()
assert not instance_types.INSTANCE_TYPE_OFFERINGS
with moto.mock_aws():
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/blog/secret", Value="s", Type="SecureString")
    assert ssm.get_parameter(Name="/blog/secret", WithDecryption=True)["Parameter"]["Value"] == "s"
print("ok")
"""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
