"""Fixtures of the local-stack tests: an in-process stack with fake functions, and the real stack in a process."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chat.routes import FUNCTIONS
from local.functions import missing_functions
from local.stack import LocalStack, StackOptions
from tests.local.chat_client import StackProcess, start_stack_process
from tests.local.fake_functions import FakeFunctions


@contextlib.asynccontextmanager
async def fake_stack(fakes: FakeFunctions, **options: Any) -> AsyncIterator[LocalStack]:
    """The gateway, identity provider and web client on a free port, in front of `fakes` (no DynamoDB)."""
    async with LocalStack(StackOptions(port=0, **options), handlers=fakes.registry()) as stack:
        fakes.endpoint_url = stack.url
        yield stack


@pytest.fixture
def fakes() -> FakeFunctions:
    return FakeFunctions()


@pytest.fixture(scope="module")
def chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """The real stack (real handlers, embedded DynamoDB) in its own process, shared by a module's tests."""
    missing = missing_functions(FUNCTIONS)
    if missing:
        pytest.skip(f"handlers not written yet: {missing}")
    stack = start_stack_process(tmp_path_factory.mktemp("stack") / "stack.log")
    try:
        yield stack
    finally:
        code = stack.stop()
        assert code == 0, stack.log()
