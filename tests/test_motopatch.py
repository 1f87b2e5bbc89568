"""The local stack's moto rolls failed transactions back without copying whole tables (blogctl/motopatch.py)."""
from __future__ import annotations

from unittest import mock

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.table import Table

from blogctl import motopatch
from chalicelib.store import table_definition

TABLE = "patch-test"


@pytest.fixture
def db():
    """A moto DynamoDB with the blog's table, with the lean transactions installed (and removed after)."""
    motopatch.lean_transactions()
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


def test_installing_twice_is_harmless(db):
    motopatch.lean_transactions()
    db.transact_write_items(TransactItems=[put({"pk": "A", "sk": "1"}), put({"pk": "B", "sk": "1"})])
    assert len(items(db)) == 2
