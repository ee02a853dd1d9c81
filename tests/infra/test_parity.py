"""Code and infrastructure agree: the rights each handler uses, the settings it reads, the files it needs.

The AWS calls come from running every handler under moto (parity_scenario.py); each one must be allowed by
the synthesized policy of that function's role, evaluated with the scenario's table names and API id.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cdk_template import allows, references, resolve, role_statements
from parity_scenario import ENDPOINT, TABLE_NAMES
from stack_synth import Synth

from chat.routes import AUTHORIZER_FUNCTION, FUNCTIONS
from chat.settings import TOKEN_VARIABLES, Settings
from chat.tables import TABLES
from infra.access import POSTS_TO_CONNECTIONS, READ_WRITE, TABLE_ACCESS
from infra.constants import HANDLER, PYTHON_VERSION, STAGE_NAME, WHEEL_MACHINE
from infra.layer_build import REQUIREMENTS, ROOT
from local.events import ACCOUNT_ID, API_ID, REGION

FUNCTIONS_DIR = ROOT / "functions"
ELF_MACHINES = {183: "aarch64", 62: "x86_64"}
MISSING_HANDLERS = [f for f in FUNCTIONS if not (FUNCTIONS_DIR / f / "handler.py").is_file()]


class _Values(dict[str, str]):
    """Logical ids the scenario has no value for resolve to a placeholder that matches no real call."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _values(synth: Synth) -> tuple[_Values, _Values]:
    refs = _Values(
        {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::URLSuffix": "amazonaws.com",
            synth.logical_id(synth.stack.endpoint.api): API_ID,
        }
    )
    arns = _Values(
        {synth.logical_id(table): _table_arn(TABLE_NAMES[name]) for name, table in synth.stack.tables.by_name.items()}
    )
    for name, table in synth.stack.tables.by_name.items():
        refs[synth.logical_id(table)] = TABLE_NAMES[name]
    return refs, arns


def _table_arn(table_name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table_name}"


def _statements(synth: Synth, function: str) -> list[dict[str, Any]]:
    function_id = synth.logical_id(synth.stack.functions.by_name[function])
    (role_id,) = references(synth.resources[function_id]["Properties"]["Role"])
    return role_statements(synth.resources, role_id)


def _connection_arn(api: str, stage: str, method: str, connection_id: str = "abc=") -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api}/{stage}/{method}/@connections/{connection_id}"


# ---------------------------------------------------------------------------------------- policy == access table

DYNAMODB_ACTIONS = (*READ_WRITE, "dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable")


def test_each_role_grants_exactly_the_table_actions_of_the_access_table(cognito: Synth) -> None:
    refs, arns = _values(cognito)
    for function in FUNCTIONS:
        statements = _statements(cognito, function)
        for spec in TABLES:
            granted = TABLE_ACCESS[function].get(spec.name, ())
            for action in DYNAMODB_ACTIONS:
                allowed = allows(statements, action, _table_arn(TABLE_NAMES[spec.name]), refs, arns)
                assert allowed is (action in granted), (function, spec.name, action)
            for index in spec.indexes:
                index_arn = f"{_table_arn(TABLE_NAMES[spec.name])}/index/{index.name}"
                query = allows(statements, "dynamodb:Query", index_arn, refs, arns)
                assert query is ("dynamodb:Query" in granted), (function, index.name)


def test_only_pushing_functions_may_post_to_connections_and_none_may_read_or_close_one(cognito: Synth) -> None:
    refs, arns = _values(cognito)
    for function in FUNCTIONS:
        statements = _statements(cognito, function)
        for method in ("POST", "GET", "DELETE"):
            here = allows(
                statements, "execute-api:ManageConnections", _connection_arn(API_ID, STAGE_NAME, method), refs, arns
            )
            assert here is (method == "POST" and function in POSTS_TO_CONNECTIONS), (function, method)
        for elsewhere in (_connection_arn(API_ID, "other", "POST"), _connection_arn("otherapi", STAGE_NAME, "POST")):
            assert not allows(statements, "execute-api:ManageConnections", elsewhere, refs, arns), function


def test_the_authorizer_may_only_log_and_trace(cognito: Synth) -> None:
    actions = [a for s in _statements(cognito, AUTHORIZER_FUNCTION) for a in _as_list(s["Action"])]
    assert {a.split(":")[0] for a in actions} == {"logs", "xray"}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# ----------------------------------------------------------------------------------- recorded calls ⊆ policies


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if MISSING_HANDLERS:
        pytest.skip(f"handlers not written yet: {', '.join(MISSING_HANDLERS)}")
    out = tmp_path_factory.mktemp("parity") / "calls.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["layers/shared/python", "."])}
    scenario = Path(__file__).with_name("parity_scenario.py")
    subprocess.run([sys.executable, str(scenario), str(out)], cwd=ROOT, env=env, check=True, timeout=240)
    return dict(json.loads(out.read_text()))


def required_permissions(call: dict[str, Any]) -> list[tuple[str, str]]:
    """The IAM (action, resource) pairs a recorded call needs; a transaction needs one per item."""
    service, operation, params = call["service"], call["operation"], call["params"]
    if service == "execute-api":
        api, stage = re.fullmatch(r"https://([^.]+)\.execute-api\.[^/]+/([^/]+)/?", call["endpoint"]).groups()  # type: ignore[union-attr]
        method = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}[operation]
        return [("execute-api:ManageConnections", _connection_arn(api, stage, method, params["ConnectionId"]))]
    if service != "dynamodb":
        return [(f"{service}:{operation}", "*")]
    if operation == "TransactWriteItems" or operation == "TransactGetItems":
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        return [
            (f"dynamodb:{kinds[kind]}", _table_arn(table))
            for item in params["TransactItems"]
            for kind, table in item.items()
        ]
    if "RequestItems" in params:
        return [(f"dynamodb:{operation}", _table_arn(table)) for table in params["RequestItems"]]
    resource = _table_arn(params["TableName"])
    if "IndexName" in params:
        resource += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", resource)]


def test_the_handlers_ran_the_whole_session_without_errors(recorded: dict[str, Any]) -> None:
    assert not recorded["errors"], "\n".join(recorded["errors"])
    exercised = {call["function"] for call in recorded["calls"]}
    assert exercised >= set(FUNCTIONS) - {AUTHORIZER_FUNCTION}, "every function that uses AWS made a call"


def test_every_aws_call_a_handler_makes_is_allowed_by_its_role(cognito: Synth, recorded: dict[str, Any]) -> None:
    refs, arns = _values(cognito)
    denied = sorted(
        {
            f"{call['function']}: {action} on {resource} ({call['operation']})"
            for call in recorded["calls"]
            for action, resource in required_permissions(call)
            if not allows(_statements(cognito, call["function"]), action, resource, refs, arns)
        }
    )
    assert not denied, "\n".join(denied)


def test_handlers_post_to_the_endpoint_the_stack_configures(recorded: dict[str, Any]) -> None:
    endpoints = {c["endpoint"].rstrip("/") for c in recorded["calls"] if c["service"] == "execute-api"}
    assert endpoints <= {ENDPOINT}


# ------------------------------------------------------------------------------------------------- settings


def test_every_function_gets_every_required_setting_and_only_the_authorizer_the_token_settings(
    cognito: Synth,
) -> None:
    refs, arns = _values(cognito)
    environments = {
        name: cognito.resources[cognito.logical_id(fn)]["Properties"]["Environment"]["Variables"]
        for name, fn in cognito.stack.functions.by_name.items()
    }
    authorizer = environments.pop(AUTHORIZER_FUNCTION)
    shared = next(iter(environments.values()))
    assert all(env == shared for env in environments.values()), "the same environment for all but the authorizer"
    assert set(TOKEN_VARIABLES).isdisjoint(shared), "token settings go to the authorizer alone"
    assert authorizer == {**shared, **{name: authorizer[name] for name in TOKEN_VARIABLES}}
    environment = {name: resolve(value, refs, arns) for name, value in shared.items()}
    required = {name for name, is_required in Settings.environment_variables().items() if is_required}
    assert required <= set(environment)
    assert set(environment) <= set(Settings.environment_variables()) | {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }, "no variable the code does not read"
    settings = Settings.from_environ(environment)
    assert {spec.name: settings.table_name(spec.name) for spec in TABLES} == TABLE_NAMES
    assert settings.connections_endpoint_url == ENDPOINT


# ------------------------------------------------------------------------------------------- assets and layer


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_asset_holds_its_handler_and_nothing_of_the_others(cognito: Synth, function: str) -> None:
    source = FUNCTIONS_DIR / function
    if not any(source.glob("*.py")):
        pytest.skip(f"functions/{function} not written yet")
    code = cognito.resources[cognito.logical_id(cognito.stack.functions.by_name[function])]["Properties"]["Code"]
    asset = cognito.asset_dir(code)
    handler = asset / "handler.py"
    assert handler.is_file(), f"{function}: handler.py is missing from its asset"
    tree = ast.parse(handler.read_text())
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} | {
        t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }
    assert HANDLER.split(".")[1] in defined, f"{function}: handler.py defines no {HANDLER}"
    assert not (asset / "functions").exists() and not (asset / "chat").exists(), "the asset is one folder"


@pytest.fixture(scope="module")
def layer(cognito: Synth) -> Path:
    content = cognito.resources[cognito.logical_id(cognito.stack.functions.layer)]["Properties"]["Content"]
    return cognito.asset_dir(content) / "python"


def test_layer_holds_the_chat_package(layer: Path) -> None:
    assert (layer / "chat" / "settings.py").is_file()
    assert not list(layer.rglob("__pycache__")), "bytecode of the build machine's Python is useless there"


def test_layer_holds_every_runtime_requirement_at_its_pinned_version(layer: Path) -> None:
    distributions = [d.name.removesuffix(".dist-info").rsplit("-", 1) for d in layer.glob("*.dist-info")]
    installed = {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in distributions}
    for line in REQUIREMENTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)", line.strip()).groups()  # type: ignore[union-attr]
            assert installed.get(re.sub(r"[-_.]+", "-", name).lower()) == version, name
    assert "botocore" not in installed, "the runtime's botocore must not be shadowed"


def test_layer_binaries_are_built_for_the_lambda_architecture_and_python(layer: Path) -> None:
    binaries = list(layer.rglob("*.so"))
    assert any(
        re.search(rf"_pydantic_core\.cpython-{PYTHON_VERSION.replace('.', '')}-{WHEEL_MACHINE}", b.name)
        for b in binaries
    )
    for binary in binaries:
        header = binary.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", binary.name
        assert ELF_MACHINES.get(int.from_bytes(header[18:20], "little")) == WHEEL_MACHINE, binary.name
        tag = re.search(r"cpython-(\d+)", binary.name)
        assert tag is None or tag[1] == PYTHON_VERSION.replace(".", ""), binary.name
