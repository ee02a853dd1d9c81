"""The Lambda side of the local stack: load each function's handler and invoke it in a bounded thread pool.

Handlers call the gateway back over HTTP (`@connections`), so they never run on the event loop. Each handler is
loaded from `functions/<name>/handler.py` under the module name `functions.<name>.handler`; neither `functions/`
nor any of its folders goes on `sys.path` (`functions/typing` would shadow the standard library's `typing`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.events import LambdaContext
from local.paths import FUNCTIONS_DIR

LambdaHandler = Callable[[dict[str, Any], Any], Any]

# API Gateway gives up on an integration after 29 seconds.
INTEGRATION_TIMEOUT_SECONDS = 29.0


class FunctionNotFound(LookupError):
    """A function named by the route table has no `functions/<name>/handler.py` with a `lambda_handler`."""


def handler_path(name: str, functions_dir: Path = FUNCTIONS_DIR) -> Path:
    return functions_dir / name / "handler.py"


def missing_functions(names: Iterable[str], functions_dir: Path = FUNCTIONS_DIR) -> list[str]:
    return [name for name in names if not handler_path(name, functions_dir).is_file()]


def load_handler(name: str, functions_dir: Path = FUNCTIONS_DIR) -> LambdaHandler:
    """`lambda_handler` of `functions/<name>/handler.py`, imported once as `functions.<name>.handler`."""
    module_name = f"functions.{name}.handler"
    module = sys.modules.get(module_name)
    if module is None:
        path = handler_path(name, functions_dir)
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None or not path.is_file():
            raise FunctionNotFound(f"no handler at {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    handler = getattr(module, "lambda_handler", None)
    if not callable(handler):
        raise FunctionNotFound(f"{module_name} has no callable lambda_handler")
    return handler  # type: ignore[no-any-return]


def load_handlers(names: Iterable[str], functions_dir: Path = FUNCTIONS_DIR) -> dict[str, LambdaHandler]:
    return {name: load_handler(name, functions_dir) for name in names}


@dataclass(frozen=True)
class Invocation:
    """What one invocation gave back: the JSON-round-tripped result, or the error it raised."""

    function: str
    result: Any = None
    error: BaseException | None = None
    timed_out: bool = False
    ms: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None or self.timed_out

    @property
    def status_code(self) -> int | None:
        if self.failed or not isinstance(self.result, dict):
            return None
        status = self.result.get("statusCode")
        return status if isinstance(status, int) else None


class FunctionRunner:
    """Invokes handlers by function name in a bounded thread pool, with a fresh Lambda context each time."""

    def __init__(
        self,
        handlers: Mapping[str, LambdaHandler],
        *,
        max_workers: int = 32,
        timeout_seconds: float = INTEGRATION_TIMEOUT_SECONDS,
        function_name_prefix: str = "chat-local-",
    ) -> None:
        self._handlers = dict(handlers)
        self._timeout = timeout_seconds
        self._prefix = function_name_prefix
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="lambda")

    def has(self, function: str) -> bool:
        return function in self._handlers

    async def invoke(self, function: str, event: dict[str, Any]) -> Invocation:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        future = loop.run_in_executor(self._pool, self._call, function, event)
        try:
            result = await asyncio.wait_for(future, self._timeout)
        except TimeoutError:
            # The thread runs on (Lambda would stop it); API Gateway has already answered the client.
            return Invocation(function, timed_out=True, ms=_ms_since(started))
        except Exception as exc:
            return Invocation(function, error=exc, ms=_ms_since(started))
        return Invocation(function, result=result, ms=_ms_since(started))

    def invoke_blocking(self, function: str, event: dict[str, Any]) -> Invocation:
        """`invoke` for a caller that is not on the event loop (the queue poller's threads), on the same pool."""
        started = time.perf_counter()
        try:
            result = self._pool.submit(self._call, function, event).result(self._timeout)
        except TimeoutError:
            return Invocation(function, timed_out=True, ms=_ms_since(started))
        except Exception as exc:
            return Invocation(function, error=exc, ms=_ms_since(started))
        return Invocation(function, result=result, ms=_ms_since(started))

    def _call(self, function: str, event: dict[str, Any]) -> Any:
        context = LambdaContext(function_name=f"{self._prefix}{function}")
        result = self._handlers[function](event, context)
        # Lambda returns JSON: a result that does not serialize fails there, so it fails here too.
        return json.loads(json.dumps(result))

    def close(self) -> None:
        """Wait for running invocations, drop queued ones."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
