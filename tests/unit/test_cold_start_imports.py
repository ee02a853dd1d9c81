"""What a handler imports at its cold start, as deployed with tracing on (each check in a fresh interpreter).

The authorizer imports no pydantic (its settings are read by `chat.token_settings`) and never loads botocore's
client machinery (it makes no AWS call); the chat handlers load botocore with their first boto3 client, not at
import. `bench/cold_start.py` measures what that saves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chat import protocol as p
from chat import routes
from chat.identity import Identity
from chat.ports import Identity as PortsIdentity
from chat.settings import Settings, SettingsError
from chat.token_settings import TokenSettings

ROOT = Path(__file__).resolve().parents[2]
# As in a Lambda execution environment with active tracing: the Tracer is on.
TRACED_LAMBDA = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "chat-imports",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "chat-imports",
}
WATCHED = ("pydantic", "chat.protocol", "botocore.client", "aws_xray_sdk.ext.botocore.patch", "urllib3", "boto3")


def modules_after_import(function: str) -> dict[str, bool]:
    """Which of WATCHED a fresh interpreter holds after importing `functions/<function>/handler.py`."""
    code = f"import sys, json; import handler; print(json.dumps({{m: m in sys.modules for m in {list(WATCHED)!r}}}))"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "_X_AMZN"))}
    path = [str(ROOT / "functions" / function), str(ROOT / "layers" / "shared" / "python")]
    env = {**inherited, **TRACED_LAMBDA, "PYTHONPATH": os.pathsep.join(path)}
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return dict(json.loads(process.stdout.strip().splitlines()[-1]))


def test_the_authorizer_imports_neither_pydantic_nor_botocore() -> None:
    loaded = modules_after_import("authorizer")
    assert loaded == dict.fromkeys(WATCHED, False)


@pytest.mark.parametrize("function", ["send_message", "connect"])
def test_a_chat_handler_loads_botocore_with_its_first_client_not_at_import(function: str) -> None:
    loaded = modules_after_import(function)
    assert loaded["chat.protocol"] and loaded["pydantic"]  # it reads frames: needed on every call
    assert not loaded["botocore.client"] and not loaded["aws_xray_sdk.ext.botocore.patch"] and not loaded["boto3"]


def test_every_protocol_action_has_a_route() -> None:
    """Was an assert in chat.routes, which no longer imports chat.protocol."""
    assert set(p.ACTIONS) <= set(routes.ROUTES)


def test_identity_is_one_class_wherever_it_is_imported_from() -> None:
    assert PortsIdentity is Identity


# The authorizer's settings without pydantic read the token variables as the pydantic model does

SETTINGS_CASES = [
    {},
    {"JWT_ISSUER": "https://issuer", "JWT_AUDIENCE": " web , mobile,,", "JWKS_URL": "https://issuer/jwks"},
    {"JWT_AUDIENCE": "web", "JWT_ALGORITHMS": "ES256, PS512"},
    {"JWT_ALGORITHMS": "RS256,HS256"},
    {"JWT_ALGORITHMS": " , "},
    {"JWT_AUDIENCE": " , "},
]


@pytest.mark.parametrize("variables", SETTINGS_CASES)
def test_token_settings_read_the_token_variables_as_the_settings_model_does(variables: dict[str, str]) -> None:
    tables = {name: "t" for name, required in Settings.environment_variables().items() if required}
    try:
        full = Settings.from_environ({**tables, **variables})
    except SettingsError:
        with pytest.raises(SettingsError):
            TokenSettings.from_environ(variables)
        return
    light = TokenSettings.from_environ(variables)
    fields = ("jwt_issuer", "jwt_audiences", "jwks_url", "jwt_algorithms")
    assert {f: getattr(light, f) for f in fields} == {f: getattr(full, f) for f in fields}
