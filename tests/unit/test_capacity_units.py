"""The bench's DynamoDB capacity meter (bench/capacity.py) against items whose units are worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench.capacity import CapacityMeter, item_size, number_size, read_units, value_size, write_units
from chat.tables import USERS, create_table_kwargs


def test_sizes_of_scalars_follow_the_guide() -> None:
    # name "userId" (6) + "alice" (5); name "n" (1) + 5 digits -> ceil(5/2) + 1 = 4
    assert item_size({"userId": {"S": "alice"}, "n": {"N": "12345"}}) == 6 + 5 + 1 + 4
    assert value_size({"S": "é"}) == 2  # UTF-8 bytes, not characters
    assert number_size("0.0012300") == 3  # significant digits 123: leading and trailing zeros trimmed
    assert number_size("-100") == 2
    assert number_size("0") == 2
    assert value_size({"B": b"\x00\x01\x02"}) == 3  # raw bytes, not base64
    assert value_size({"BOOL": True}) == value_size({"NULL": True}) == 1


def test_sizes_of_documents_and_sets() -> None:
    # Map: 3 bytes + per element 1 byte + key + value: (1 + 1 + 2) + (1 + 1 + 1)
    assert item_size({"m": {"M": {"a": {"S": "xy"}, "b": {"BOOL": True}}}}) == 1 + 3 + 4 + 3
    # List: 3 bytes + per element 1 byte + value: (1 + 2) for the number 1, (1 + 2) for "é"
    assert item_size({"l": {"L": [{"N": "1"}, {"S": "é"}]}}) == 1 + 3 + 3 + 3
    assert item_size({"s": {"SS": ["ab", "c"]}}) == 1 + 3
    assert item_size({"e": {"L": []}}) == 1 + 3


def test_unit_rounding() -> None:
    assert read_units(0, consistent=True) == 1  # a missing item is still a read
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(100, consistent=True, transactional=True) == 2
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert write_units(10, transactional=True) == 2


@pytest.fixture
def metered() -> Iterator[tuple[Any, CapacityMeter]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.create_table(**create_table_kwargs(USERS, "users"))  # byName: directory, nameKey; projects name
        meter = CapacityMeter(boto3.session.Session().client("dynamodb", region_name="us-east-1"))
        meter.attach(client.meta.events)
        meter.enabled = True
        yield client, meter


def _item(pk: str, sk: str, payload_bytes: int) -> dict[str, Any]:
    # "pk" + pk, "sk" + sk, "p" + payload: sized exactly
    return {"pk": {"S": pk}, "sk": {"S": sk}, "p": {"S": "x" * payload_bytes}}


def test_writes_bill_the_larger_of_before_and_after(metered: tuple[Any, CapacityMeter]) -> None:
    client, meter = metered
    big = _item("a", "1", 1500)  # 2 + 1 + 2 + 1 + 1 + 1500 = 1507 bytes: 2 units
    assert item_size(big) == 1507
    client.put_item(TableName="t", Item=big)
    assert meter.take().wcu == 2
    client.update_item(
        TableName="t",
        Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
        UpdateExpression="SET p = :p",
        ExpressionAttributeValues={":p": {"S": "small"}},
    )
    assert meter.take().wcu == 2  # shrinking a 1,507-byte item still writes 1,507 bytes
    client.update_item(
        TableName="t",
        Key={"pk": {"S": "a"}, "sk": {"S": "1"}},
        UpdateExpression="SET p = :p",
        ExpressionAttributeValues={":p": {"S": "tiny"}},
    )
    assert meter.take().wcu == 1
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(TableName="t", Item=big, ConditionExpression="attribute_not_exists(pk)")
    refused = meter.take()
    assert (refused.wcu, refused.cancelled) == (1, 1)  # a refused write costs the existing (small) item
    client.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert meter.take().wcu == 1
    client.delete_item(TableName="t", Key={"pk": {"S": "gone"}, "sk": {"S": "1"}})
    assert meter.take().wcu == 1  # deleting nothing still costs a unit


def test_transactions_cost_twice(metered: tuple[Any, CapacityMeter]) -> None:
    client, meter = metered
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": _item("a", "1", 10)}},
            {"Put": {"TableName": "t", "Item": _item("a", "2", 1500)}},
        ]
    )
    usage = meter.take()
    assert usage.wcu == 2 * 1 + 2 * 2
    assert usage.requests == {"TransactWriteItems": 1}


def test_reads(metered: tuple[Any, CapacityMeter]) -> None:
    client, meter = metered
    for sk in "123":
        client.put_item(TableName="t", Item=_item("q", sk, 2000))  # 2,007 bytes each
    meter.take()
    client.get_item(TableName="t", Key={"pk": {"S": "q"}, "sk": {"S": "1"}}, ConsistentRead=True)
    assert meter.take().rcu == 1
    client.get_item(TableName="t", Key={"pk": {"S": "q"}, "sk": {"S": "nope"}})
    assert meter.take().rcu == 0.5  # eventually consistent, item not there: half a unit all the same
    query = {
        "TableName": "t",
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": "q"}},
        "ConsistentRead": True,
    }
    client.query(**query)
    assert meter.take().rcu == 2  # 6,021 bytes in one request: rounded up to 8 KB once
    client.query(**query, ProjectionExpression="sk")
    assert meter.take().rcu == 2  # a projection reads whole items all the same
    keys = [{"pk": {"S": "q"}, "sk": {"S": sk}} for sk in ("1", "2", "missing")]
    client.batch_get_item(RequestItems={"t": {"Keys": keys, "ConsistentRead": True}})
    assert meter.take().rcu == 3  # per item: 1 + 1, and 1 for the key that is not there


def test_index_writes_follow_what_the_index_holds(metered: tuple[Any, CapacityMeter]) -> None:
    client, meter = metered
    user = {"userId": {"S": "u1"}, "directory": {"S": "users"}, "nameKey": {"S": "ann"}, "name": {"S": "Ann"}}
    client.put_item(TableName="users", Item=user)
    assert meter.take().write_units == {"users": 1, "users/byName": 1}  # the item enters the index
    client.update_item(
        TableName="users",
        Key={"userId": {"S": "u1"}},
        UpdateExpression="ADD connections :c",
        ExpressionAttributeValues={":c": {"SS": ["1:c1"]}},
    )
    assert meter.take().write_units == {"users": 1}  # not projected: no index write
    client.update_item(
        TableName="users",
        Key={"userId": {"S": "u1"}},
        UpdateExpression="SET #name = :n",
        ExpressionAttributeNames={"#name": "name"},
        ExpressionAttributeValues={":n": {"S": "ANN"}},
    )
    assert meter.take().write_units == {"users": 1, "users/byName": 1}  # a projected attribute: one write
    client.update_item(
        TableName="users",
        Key={"userId": {"S": "u1"}},
        UpdateExpression="SET nameKey = :k",
        ExpressionAttributeValues={":k": {"S": "anne"}},
    )
    assert meter.take().write_units == {"users": 1, "users/byName": 2}  # an index key: delete and put
    client.update_item(TableName="users", Key={"userId": {"S": "u1"}}, UpdateExpression="REMOVE directory")
    assert meter.take().write_units == {"users": 1, "users/byName": 1}  # leaves the index


def test_nothing_is_metered_while_disabled(metered: tuple[Any, CapacityMeter]) -> None:
    client, meter = metered
    meter.enabled = False
    client.put_item(TableName="t", Item=_item("a", "1", 10))
    assert meter.take().requests == {}
