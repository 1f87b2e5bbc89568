"""The local stack's moto rolls failed transactions back without copying whole tables (blogctl/motopatch.py)."""
from __future__ import annotations

from typing import Any
from unittest import mock

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from blogctl import motopatch
from chalicelib.model import LISTING_INDEX, SOURCE_INDEX
from chalicelib.store import table_definition

TABLE = "patch-test"


@pytest.fixture
def db():
    """A moto DynamoDB with the blog's table, with the local stack's patches installed (and removed after)."""
    motopatch.install()
    try:
        with moto.mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**table_definition(TABLE))
            yield client
    finally:
        motopatch.restore_moto()


def put(item: dict[str, str], condition: str | None = None) -> dict:
    body = {"TableName": TABLE, "Item": {k: {"S": v} for k, v in item.items()}}
    if condition:
        body["ConditionExpression"] = condition
    return {"Put": body}


def items(client) -> dict[tuple[str, str], dict]:
    found = client.scan(TableName=TABLE)["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]): {k: v["S"] for k, v in i.items()} for i in found}


def test_a_transaction_writes_every_item(db):
    db.transact_write_items(TransactItems=[put({"pk": "A", "sk": "1", "v": "a"}), put({"pk": "B", "sk": "1", "v": "b"})])
    assert set(items(db)) == {("A", "1"), ("B", "1")}


def test_a_failed_condition_changes_nothing(db):
    db.put_item(TableName=TABLE, Item={"pk": {"S": "A"}, "sk": {"S": "1"}, "v": {"S": "old"}})
    db.put_item(TableName=TABLE, Item={"pk": {"S": "C"}, "sk": {"S": "1"}})
    before = items(db)
    update = {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "1"}},
                         "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "new"}}}}
    with pytest.raises(ClientError) as failed:
        db.transact_write_items(TransactItems=[
            update,                                                    # applied, then undone
            put({"pk": "B", "sk": "1"}),                               # created, then removed
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "A"}, "sk": {"S": "2"}}}},
            put({"pk": "C", "sk": "1"}, condition="attribute_not_exists(pk)"),  # fails: C#1 exists
        ])
    assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert items(db) == before


def test_a_transaction_naming_one_item_twice_changes_nothing(db):
    with pytest.raises(ClientError):
        db.transact_write_items(TransactItems=[put({"pk": "A", "sk": "1"}), put({"pk": "A", "sk": "1", "v": "x"})])
    assert items(db) == {}


def test_no_table_is_copied(db):
    db.put_item(TableName=TABLE, Item={"pk": {"S": "A"}, "sk": {"S": "1"}})
    with mock.patch.object(Table, "__deepcopy__", side_effect=AssertionError("table copied"), create=True):
        db.transact_write_items(TransactItems=[put({"pk": "B", "sk": "1"}), put({"pk": "C", "sk": "1"})])
        with pytest.raises(ClientError):
            db.transact_write_items(TransactItems=[put({"pk": "D", "sk": "1"}),
                                                   put({"pk": "A", "sk": "1"}, "attribute_not_exists(pk)")])
    assert set(items(db)) == {("A", "1"), ("B", "1"), ("C", "1")}


def test_without_the_patch_moto_copies_the_table():
    # The patch is what saves the copies: moto as shipped makes them (so the test above can fail).
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition(TABLE))
        with mock.patch.object(Table, "__deepcopy__", side_effect=AssertionError("table copied"), create=True):
            with pytest.raises(Exception, match="table copied"):
                client.transact_write_items(TransactItems=[put({"pk": "B", "sk": "1"}), put({"pk": "C", "sk": "1"})])


def test_requests_from_many_threads_never_race(db):
    import concurrent.futures

    def write(n: int) -> None:
        db.put_item(TableName=TABLE, Item={"pk": {"S": "P"}, "sk": {"S": f"{n:04d}"}})

    def read(n: int) -> int:
        return db.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                        ExpressionAttributeValues={":p": {"S": "P"}})["Count"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        work = [pool.submit(write if n % 2 else read, n) for n in range(400)]
        for done in work:
            done.result()  # a race inside moto would raise here ("dictionary changed size during iteration")
    assert read(0) == 200


def test_the_local_stacks_server_answers_many_threads(tmp_path):
    """The moto server as `make run` starts it: many clients at once, no error, a failed transaction undone."""
    import concurrent.futures
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    motopatch.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_table(**table_definition(TABLE))

        def work(n: int) -> None:
            if n % 3:
                client.transact_write_items(TransactItems=[put({"pk": "P", "sk": f"{n:04d}"}),
                                                           put({"pk": "Q", "sk": f"{n:04d}"})])
            else:
                client.query(TableName=TABLE, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": "P"}})

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            for done in [pool.submit(work, n) for n in range(150)]:
                done.result()
        with pytest.raises(ClientError):
            client.transact_write_items(TransactItems=[put({"pk": "R", "sk": "1"}),
                                                       put({"pk": "P", "sk": "0001"}, "attribute_not_exists(pk)")])
        assert len(items(client)) == 200  # 100 transactions of two items; the failed one left nothing
    finally:
        server.stop()
        motopatch.restore_moto()


def test_installing_twice_is_harmless(db):
    motopatch.install()
    db.transact_write_items(TransactItems=[put({"pk": "A", "sk": "1"}), put({"pk": "B", "sk": "1"})])
    assert len(items(db)) == 2


def _versioned_bucket() -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="patch-test")
    s3.put_bucket_versioning(Bucket="patch-test", VersioningConfiguration={"Status": "Enabled"})
    return s3


@pytest.fixture
def bucket():
    """A versioned moto bucket, with the local stack's patches installed (and removed after)."""
    motopatch.install()
    try:
        with moto.mock_aws():
            yield _versioned_bucket()
    finally:
        motopatch.restore_moto()


def _tag_records() -> dict[str, dict[str, str | None]]:
    from moto.s3.models import s3_backends

    return dict(s3_backends["123456789012"]["aws"].tagger.tags)


def test_the_rebuilds_own_objects_keep_no_old_versions_and_editors_files_keep_all(bucket):
    for body in (b"one", b"two", b"three"):
        bucket.put_object(Bucket="patch-test", Key="_site/search/shards/7", Body=body)
        bucket.put_object(Bucket="patch-test", Key="posts/a.md", Body=body)
    versions = bucket.list_object_versions(Bucket="patch-test")["Versions"]
    assert sorted(v["Key"] for v in versions) == ["_site/search/shards/7", "posts/a.md", "posts/a.md", "posts/a.md"]
    assert bucket.get_object(Bucket="patch-test", Key="_site/search/shards/7")["Body"].read() == b"three"
    assert not _tag_records()  # untagged objects: no records


def test_without_the_patch_moto_keeps_every_version():
    with moto.mock_aws():
        s3 = _versioned_bucket()
        for body in (b"one", b"two"):
            s3.put_object(Bucket="patch-test", Key="_site/search/shards/7", Body=body)
        assert len(s3.list_object_versions(Bucket="patch-test")["Versions"]) == 2


def test_an_objects_tags_are_kept_and_untagged_objects_leave_no_record(bucket):
    bucket.put_object(Bucket="patch-test", Key="posts/a.md", Body=b"a", Tagging="team=blog")
    bucket.put_object(Bucket="patch-test", Key="posts/b.md", Body=b"b")
    bucket.put_object(Bucket="patch-test", Key="_site/x", Body=b"1", Tagging="kind=derived")
    bucket.put_object(Bucket="patch-test", Key="_site/x", Body=b"2")
    bucket.delete_object(Bucket="patch-test", Key="_site/x")  # a delete marker (no tags) among the old versions
    bucket.put_object(Bucket="patch-test", Key="_site/x", Body=b"2")
    bucket.put_object_tagging(Bucket="patch-test", Key="posts/b.md", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert bucket.get_object_tagging(Bucket="patch-test", Key="posts/a.md")["TagSet"] == [{"Key": "team", "Value": "blog"}]
    assert bucket.get_object_tagging(Bucket="patch-test", Key="posts/b.md")["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert bucket.get_object_tagging(Bucket="patch-test", Key="_site/x")["TagSet"] == []
    objects = {arn: tags for arn, tags in _tag_records().items() if "/" in arn.split(":::", 1)[1]}
    assert sorted(objects.values(), key=str) == [{"k": "v"}, {"team": "blog"}]  # the dropped version's went


def _answers(client) -> list:
    """The same Queries, on the table and on two of its indexes, paged two at a time."""
    asked: list[dict[str, Any]] = [{"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "TAGS"}}},
             {"KeyConditionExpression": "pk = :p AND sk > :s",
              "ExpressionAttributeValues": {":p": {"S": "TAGS"}, ":s": {"S": "b"}}, "ScanIndexForward": False},
             {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "NOWHERE"}}},
             {"IndexName": LISTING_INDEX, "KeyConditionExpression": "listing = :l",
              "ExpressionAttributeValues": {":l": {"S": "PUBLIC"}}, "ScanIndexForward": False},
             {"IndexName": LISTING_INDEX, "KeyConditionExpression": "listing = :l AND listing_sk < :s",
              "ExpressionAttributeValues": {":l": {"S": "PUBLIC"}, ":s": {"S": "2024"}}},
             {"IndexName": SOURCE_INDEX, "KeyConditionExpression": "#s = :s",
              "ExpressionAttributeNames": {"#s": "shard"}, "ExpressionAttributeValues": {":s": {"S": "3"}}}]
    found = []
    for query in asked:
        pages, start = [], None
        while True:
            response = client.query(TableName=TABLE, Limit=2, **query, **({"ExclusiveStartKey": start} if start else {}))
            pages.append(response["Items"])
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        found.append(pages)
    return found


def test_queries_read_only_their_partition_and_answer_as_moto_does(db):
    for number in range(12):
        db.put_item(TableName=TABLE, Item={"pk": {"S": f"POST#{number}"}, "sk": {"S": "POST"},
                                           "listing": {"S": "PUBLIC" if number % 3 else "DRAFT"},
                                           "listing_sk": {"S": f"{2020 + number}#{number}"},
                                           "shard": {"S": str(number % 4)}, "source_key": {"S": f"posts/{number}.md"}})
        db.put_item(TableName=TABLE, Item={"pk": {"S": "TAGS"}, "sk": {"S": chr(ord("a") + number)}})
    patched = _answers(db)
    (table, maps), = motopatch._partitions.values()  # every index's map, made by one walk
    assert sorted(maps) == ["listing", "search_queue", "shard"]
    assert len(maps["listing"][DynamoType({"S": "PUBLIC"})]) == 8
    db.update_item(TableName=TABLE, Key={"pk": {"S": "POST#0"}, "sk": {"S": "POST"}},
                   UpdateExpression="SET listing = :l", ExpressionAttributeValues={":l": {"S": "PUBLIC"}})
    db.transact_write_items(TransactItems=[
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "POST#1"}, "sk": {"S": "POST"}}}},
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "POST#20"}, "sk": {"S": "POST"}, "listing": {"S": "PUBLIC"},
                                              "listing_sk": {"S": "2019#20"}, "shard": {"S": "3"}}}}])
    with pytest.raises(ClientError):  # a failed condition: nothing changes, in the table or the maps
        db.put_item(TableName=TABLE, Item={"pk": {"S": "POST#2"}, "sk": {"S": "POST"}, "listing": {"S": "DRAFT"}},
                    ConditionExpression="attribute_not_exists(pk)")
    assert motopatch._partitions[id(table)][1] is maps  # kept, and up to date:
    moved = _answers(db)  # POST#0 and POST#20 listed, POST#1 gone
    motopatch.restore_moto()
    assert _answers(db) == moved and moved != patched
    listed = [item["pk"]["S"] for page in moved[3] for item in page]
    assert "POST#0" in listed and "POST#20" in listed and "POST#1" not in listed


def _pages(client, query: dict[str, Any], limit: int) -> list:
    """Every page of one Query, `limit` items at a time, with its counts and the key it ends at."""
    pages, start = [], None
    while True:
        response = client.query(TableName=TABLE, Limit=limit, **query, **({"ExclusiveStartKey": start} if start else {}))
        start = response.get("LastEvaluatedKey")
        pages.append((response["Items"], response["Count"], response["ScannedCount"], start))
        if not start:
            return pages


def _window_queries(rng) -> list[tuple[dict[str, Any], int]]:
    """Queries of every key condition, both ways, on the table and on an index whose sort key has ties."""
    def value(text: str) -> dict[str, Any]:
        return {"S": text}

    low, high = sorted(f"{rng.randrange(2000, 2030)}" for _ in range(2))
    conditions = [("", {}), (" AND #r < :a", {":a": value(high)}), (" AND #r <= :a", {":a": value(low)}),
                  (" AND #r > :a", {":a": value(low)}), (" AND #r >= :a", {":a": value(high)}),
                  (" AND #r = :a", {":a": value(low)}), (" AND #r BETWEEN :a AND :b", {":a": value(low), ":b": value(high)}),
                  (" AND begins_with(#r, :a)", {":a": value(low[:3])})]
    queries = []
    for condition, values in conditions:
        for forward in (True, False):
            for partition, names in (("listing = :p", {"#r": "listing_sk"}), ("pk = :p", {"#r": "sk"})):
                query: dict[str, Any] = {"KeyConditionExpression": partition + condition,
                                         **({"ExpressionAttributeNames": names} if condition else {}),
                                         "ExpressionAttributeValues": {":p": value("PUBLIC" if "listing" in partition else "TAGS"),
                                                                       **values},
                                         "ScanIndexForward": forward}
                if "listing" in partition:
                    query["IndexName"] = LISTING_INDEX
                queries.append((query, rng.choice([1, 2, 3, 7])))
    return queries


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_query_given_its_window_answers_as_moto_does_on_the_whole_partition(db, seed):
    import random

    rng = random.Random(seed)
    for number in range(40):  # few distinct listing_sk values: ties everywhere
        db.put_item(TableName=TABLE, Item={"pk": {"S": f"POST#{number:02}"}, "sk": {"S": "POST"},
                                           "listing": {"S": "PUBLIC"},
                                           "listing_sk": {"S": f"{rng.randrange(2000, 2030)}"}})
        db.put_item(TableName=TABLE, Item={"pk": {"S": "TAGS"}, "sk": {"S": f"{rng.randrange(2000, 2030)}#{number}"}})
    queries = _window_queries(rng)
    patched = [_pages(db, query, limit) for query, limit in queries]
    motopatch.restore_moto()
    whole = [_pages(db, query, limit) for query, limit in queries]
    assert patched == whole
    assert sum(len(items) for pages in whole for items, *_ in pages) > 200  # the queries found things


def test_a_page_of_one_is_taken_from_a_window_not_the_whole_partition(db):
    for number in range(50):
        db.put_item(TableName=TABLE, Item={"pk": {"S": f"POST#{number:02}"}, "sk": {"S": "POST"},
                                           "listing": {"S": "PUBLIC"}, "listing_sk": {"S": f"2024#{number:02}"}})
    seen: list[int] = []
    original = Table.sorted_items

    def counting(self, hash_attrs, range_attrs, items):
        seen.append(len(items))
        return original(self, hash_attrs, range_attrs, items)

    with mock.patch.object(Table, "sorted_items", counting):
        newer = db.query(TableName=TABLE, IndexName=LISTING_INDEX, Limit=1, ScanIndexForward=True,
                         KeyConditionExpression="listing = :p AND listing_sk > :s",
                         ExpressionAttributeValues={":p": {"S": "PUBLIC"}, ":s": {"S": "2024#20"}})
    assert [i["pk"]["S"] for i in newer["Items"]] == ["POST#21"] and "LastEvaluatedKey" in newer
    assert seen == [2]  # the page and the one after it (so moto still knows there is more), not 29 items


def test_moto_servers_service_lookup_is_remembered_per_host_and_answers_as_before():
    import moto.backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    hosts = ["s3.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com",
             "ssm.us-east-1.amazonaws.com", "nowhere.example.com", None, "moto_api"]
    dispatcher = DomainDispatcherApplication(create_app=lambda service: None)
    expected = [dispatcher.get_backend_for_host(host) for host in hosts]
    assert expected[:4] == ["s3", "dynamodb", "sqs", "ssm"]
    listing = mock.Mock(wraps=moto.backends.list_of_moto_modules)
    motopatch.install()
    try:
        with mock.patch.object(moto.backends, "list_of_moto_modules", listing):
            assert [dispatcher.get_backend_for_host(host) for host in hosts] == expected
            looked_up = listing.call_count
            assert looked_up > 0
            assert [dispatcher.get_backend_for_host(host) for host in hosts] == expected
            assert listing.call_count == looked_up  # remembered: no second look-up
    finally:
        motopatch.restore_moto()
    with mock.patch.object(moto.backends, "list_of_moto_modules", listing):
        assert [dispatcher.get_backend_for_host(host) for host in hosts] == expected
        assert listing.call_count > looked_up  # restored: moto looks each one up again


def test_warmed_index_maps_answer_the_first_query_without_walking_the_table(db):
    for number in range(5):
        db.put_item(TableName=TABLE, Item={"pk": {"S": f"POST#{number}"}, "sk": {"S": "POST"},
                                           "listing": {"S": "PUBLIC"}, "listing_sk": {"S": f"2024#{number}"},
                                           "shard": {"S": "7"}, "source_key": {"S": f"posts/{number}.md"}})
    motopatch._partitions.clear()  # as in a stack just restored from its saved state
    walks: list[int] = []
    original = Table.all_items.original

    def counting(self):
        walks.append(1)
        return original(self)

    with mock.patch.object(Table.all_items, "original", counting):
        assert motopatch.warm_index_maps() == 1
    assert len(walks) == 1  # one walk for every index
    with mock.patch.object(Table.all_items, "original", counting):
        for index, condition, value in ((LISTING_INDEX, "listing = :v", "PUBLIC"), (SOURCE_INDEX, "#s = :v", "7")):
            found = db.query(TableName=TABLE, IndexName=index, KeyConditionExpression=condition,
                             ExpressionAttributeValues={":v": {"S": value}},
                             **({"ExpressionAttributeNames": {"#s": "shard"}} if "#s" in condition else {}))
            assert found["Count"] == 5
    assert len(walks) == 1  # the queries walked nothing
