"""Fixtures for the store tests: DynamoDB in-process (moto's `mock_aws`) or a served, serialized moto server.

`store` is every `ChatStore` implementation the contract tests run against: add an entry to STORE_FACTORIES
(e.g. `"memory": lambda request: InMemoryChatStore()`) and every test taking `store` runs against it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chat.dynamo import DynamoChatStore
from chat.ports import ChatStore
from chat.tables import TABLES
from local.dynamodb import EmbeddedDynamoDB, create_tables
from tests.fakes import InMemoryChatStore

FAKE_AWS_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def _fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def table_names() -> dict[str, str]:
    """Logical table name -> physical name, as the settings would give them."""
    return {spec.name: f"chat-test-{spec.name}" for spec in TABLES}


@pytest.fixture
def dynamodb_client(monkeypatch: pytest.MonkeyPatch, table_names: dict[str, str]) -> Iterator[Any]:
    """A low-level DynamoDB client on moto's in-process mock, with every table created."""
    _fake_aws_environment(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, table_names)
        yield client


@pytest.fixture
def dynamo_store(dynamodb_client: Any, table_names: dict[str, str]) -> DynamoChatStore:
    """The DynamoDB store without real pauses between retries."""
    return DynamoChatStore(dynamodb_client, table_names, sleep=lambda seconds: None)


STORE_FACTORIES: dict[str, Callable[[pytest.FixtureRequest], ChatStore]] = {
    "dynamo": lambda request: request.getfixturevalue("dynamo_store"),
    "memory": lambda request: InMemoryChatStore(),
}


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request: pytest.FixtureRequest) -> ChatStore:
    return STORE_FACTORIES[request.param](request)


@pytest.fixture(scope="module")
def embedded_dynamodb() -> Iterator[EmbeddedDynamoDB]:
    """The local stack's DynamoDB: a moto server on 127.0.0.1 (free port), one request at a time."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _fake_aws_environment(monkeypatch)
        with EmbeddedDynamoDB(host="127.0.0.1", port=0) as server:
            yield server
