"""Code and infrastructure agree: the rights each handler uses, the settings it reads, the files it needs.

The AWS calls come from running every handler under moto through every path (parity_scenario.py). Each one must
be allowed by the synthesized policy of that function's role, evaluated with the scenario's table names and API
id; and every action infra/access.py grants must have been called by that function: no more, no less.
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
from parity_scenario import ENDPOINT, FANOUT_QUEUE_ARN, FANOUT_QUEUE_URL, GONE_CONNECTION, TABLE_NAMES
from stack_synth import Synth

from chat.routes import AUTHORIZER_FUNCTION, FUNCTIONS
from chat.settings import TOKEN_VARIABLES, Settings
from chat.tables import TABLES
from infra import access
from infra.access import (
    CONSUMES_FANOUT_JOBS,
    POSTS_TO_CONNECTIONS,
    SENDS_FANOUT_JOBS,
    SQS_CONSUME,
    SQS_SEND,
    TABLE_ACCESS,
    index,
)
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
    refs[synth.logical_id(synth.stack.fanout.queue)] = FANOUT_QUEUE_URL
    arns[synth.logical_id(synth.stack.fanout.queue)] = FANOUT_QUEUE_ARN
    arns[synth.logical_id(synth.stack.fanout.dead_letters)] = f"{FANOUT_QUEUE_ARN}-dead-letters"
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

# Every DynamoDB data action a role could be granted by mistake.
DYNAMODB_ACTIONS = tuple(
    f"dynamodb:{action}"
    for action in (
        "GetItem", "BatchGetItem", "Query", "Scan", "ConditionCheckItem", "PutItem", "UpdateItem", "DeleteItem",
        "BatchWriteItem", "PartiQLSelect", "PartiQLInsert", "PartiQLUpdate", "PartiQLDelete", "DescribeTable",
    )
)  # fmt: skip
RESOURCES = [spec.name for spec in TABLES] + [index(spec.name, i.name) for spec in TABLES for i in spec.indexes]


def _resource_arn(resource: str) -> str:
    """The scenario's ARN of a TABLE_ACCESS resource: a table, or "table/index/name"."""
    table, _, index_path = resource.partition("/")
    return _table_arn(TABLE_NAMES[table]) + (f"/{index_path}" if index_path else "")


def test_each_role_grants_exactly_the_actions_of_the_access_table(cognito: Synth) -> None:
    refs, arns = _values(cognito)
    for function in FUNCTIONS:
        statements = _statements(cognito, function)
        for resource in RESOURCES:
            granted = TABLE_ACCESS[function].get(resource, ())
            for action in DYNAMODB_ACTIONS:
                allowed = allows(statements, action, _resource_arn(resource), refs, arns)
                assert allowed is (action in granted), (function, resource, action)


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


# Every SQS action on a queue a role could be granted by mistake.
SQS_ACTIONS = tuple(
    f"sqs:{action}"
    for action in (
        "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes",
        "GetQueueUrl", "PurgeQueue", "SetQueueAttributes", "DeleteQueue", "StartMessageMoveTask",
    )
)  # fmt: skip


def test_only_the_functions_of_the_access_table_may_send_to_or_consume_the_fanout_queue(cognito: Synth) -> None:
    refs, arns = _values(cognito)
    dead_letters = arns[cognito.logical_id(cognito.stack.fanout.dead_letters)]
    for function in FUNCTIONS:
        statements = _statements(cognito, function)
        granted = (SQS_SEND if function in SENDS_FANOUT_JOBS else ()) + (
            SQS_CONSUME if function in CONSUMES_FANOUT_JOBS else ()
        )
        for action in SQS_ACTIONS:
            assert allows(statements, action, FANOUT_QUEUE_ARN, refs, arns) is (action in granted), (function, action)
            assert not allows(statements, action, dead_letters, refs, arns), (function, action)


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
    if service == "sqs":
        # SendMessageBatch needs sqs:SendMessage (SQS has no right of its own for the batch actions).
        action = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}.get(operation, operation)
        return [(f"sqs:{action}", _queue_arn(params["QueueUrl"]))]
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


def _queue_arn(queue_url: str) -> str:
    """arn:aws:sqs:{region}:{account}:{name} of https://sqs.{region}.amazonaws.com/{account}/{name}."""
    region, account, name = re.fullmatch(r"https://sqs\.([^.]+)\.[^/]+/(\d+)/([^/]+)", queue_url).groups()  # type: ignore[union-attr]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def test_the_handlers_ran_the_whole_session_without_errors(recorded: dict[str, Any]) -> None:
    assert not recorded["errors"], "\n".join(recorded["errors"])
    exercised = {call["function"] for call in recorded["calls"]}
    assert exercised >= set(FUNCTIONS) - {AUTHORIZER_FUNCTION}, "every function that uses AWS made a call"


def test_every_function_that_pushes_met_a_gone_connection_and_forgot_it(recorded: dict[str, Any]) -> None:
    cleaned_up = set()
    for call in recorded["calls"]:
        if call["service"] == "execute-api" and call["params"]["ConnectionId"] == GONE_CONNECTION:
            later = [
                c
                for c in recorded["calls"]
                if c["invocation"] == call["invocation"] and c["params"].get("TableName") == TABLE_NAMES["connections"]
            ]
            if any(c["operation"] == "DeleteItem" for c in later):
                cleaned_up.add(call["function"])
    assert cleaned_up == POSTS_TO_CONNECTIONS


def _used(calls: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(function, TABLE_ACCESS resource or "@connections", action) of every recorded call."""
    logical = {physical: name for name, physical in TABLE_NAMES.items()}
    used = set()
    for call in calls:
        for action, arn in required_permissions(call):
            if action.startswith("dynamodb:"):
                table, _, index_path = arn.partition(":table/")[2].partition("/")
                resource = logical[table] + (f"/{index_path}" if index_path else "")
            elif action.startswith("sqs:"):
                assert arn == FANOUT_QUEUE_ARN, arn
                resource = "fanout-queue"
            else:
                resource = "@connections"
            used.add((call["function"], resource, action))
    return used


def _granted() -> set[tuple[str, str, str]]:
    post = "execute-api:ManageConnections"
    tables = {(f, r, a) for f, access in TABLE_ACCESS.items() for r, actions in access.items() for a in actions}
    granted = tables | {(f, "@connections", post) for f in POSTS_TO_CONNECTIONS}
    # Consuming is the event source mapping's (Lambda's poller, with the function's role), never a handler's call.
    return granted | {(f, "fanout-queue", a) for f in SENDS_FANOUT_JOBS for a in SQS_SEND}


def _as_access_entries(used: set[tuple[str, str, str]], functions: set[str]) -> str:
    """What the handlers called, spelled as infra/access.py entries, for the functions that differ."""
    short = {value: name for name, value in vars(access).items() if isinstance(value, str) and value.startswith("dyn")}
    lines = []
    for function in sorted(functions):
        resources: dict[str, list[str]] = {}
        for f, resource, action in sorted(used):
            if f == function and resource not in ("@connections", "fanout-queue"):
                resources.setdefault(resource, []).append(short.get(action, repr(action)))
        entries = ", ".join(f"{_resource_literal(r)}: {_tuple(actions)}" for r, actions in resources.items())
        lines.append(f'    "{function}": {{{entries}}},')
    return "\n".join(lines)


def _resource_literal(resource: str) -> str:
    table, _, index_path = resource.partition("/")
    return f'index("{table}", "{index_path.removeprefix("index/")}")' if index_path else f'"{table}"'


def _tuple(names: list[str]) -> str:
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def test_access_table_grants_exactly_what_each_handler_calls(recorded: dict[str, Any]) -> None:
    used, granted = _used(recorded["calls"]), _granted()
    missing, unused = used - granted, granted - used
    problems = [f"called, not granted:  {f}: {r} {a}" for f, r, a in sorted(missing)]
    problems += [f"granted, never called: {f}: {r} {a}" for f, r, a in sorted(unused)]
    differing = {f for f, _, _ in missing | unused}
    assert not problems, (
        "infra/access.py and the handlers disagree (fix access.py, or make parity_scenario.py run the path):\n"
        + "\n".join(problems)
        + "\nwhat the handlers called, as access.py entries:\n"
        + _as_access_entries(used, differing)
    )


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
