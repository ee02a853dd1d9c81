"""The synthesized template: routes, authorizer, stage, tables, functions, auth, web and outputs."""

from __future__ import annotations

import json
import runpy
from typing import Any

from aws_cdk import App, Aspects, Stack
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks
from cdk_template import references
from stack_synth import EXTERNAL_ISSUER, Synth

from chat.routes import (
    AUTHORIZER_FUNCTION,
    FUNCTIONS,
    ROUTE_SELECTION_EXPRESSION,
    ROUTES,
    SIGN_UP_FUNCTION,
    TOKEN_QUERY_PARAMETER,
)
from chat.tables import TABLES, USERS, USERS_BY_NAME_INDEX, create_table_kwargs
from infra.auth import ChatAuth
from infra.config import ChatConfig
from infra.constants import (
    ARCHITECTURE,
    FANOUT_MAX_CONCURRENCY,
    HANDLER,
    RESERVED_CONCURRENCY,
    RUNTIME,
    SIZING,
    STAGE_NAME,
    STAGE_THROTTLE,
)
from infra.layer_build import ROOT
from infra.websocket import ONE_WAY_ROUTES


def _function_ids(synth: Synth) -> dict[str, str]:
    return {name: synth.logical_id(fn) for name, fn in synth.stack.functions.by_name.items()}


def _integration_target(synth: Synth, route: dict[str, Any]) -> str:
    (integration_id,) = references(route["Properties"]["Target"])
    integration = synth.resources[integration_id]["Properties"]
    (function_id,) = [r for r in references(integration["IntegrationUri"]) if r in synth.resources]
    return function_id


def test_every_route_invokes_the_function_the_route_table_names(cognito: Synth) -> None:
    function_ids = _function_ids(cognito)
    routes = {r["Properties"]["RouteKey"]: r for r in cognito.of_type("AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == set(ROUTES)
    for route_key, function in ROUTES.items():
        assert _integration_target(cognito, routes[route_key]) == function_ids[function], route_key
    cognito.template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": ROUTE_SELECTION_EXPRESSION},
    )


def test_only_connect_is_authorized_with_the_token_from_the_query_string(cognito: Synth) -> None:
    (authorizer_id, authorizer), *others = cognito.of_type("AWS::ApiGatewayV2::Authorizer").items()
    assert not others
    assert authorizer["Properties"]["AuthorizerType"] == "REQUEST"
    assert authorizer["Properties"]["IdentitySource"] == [f"route.request.querystring.{TOKEN_QUERY_PARAMETER}"]
    assert _function_ids(cognito)[AUTHORIZER_FUNCTION] in references(authorizer["Properties"]["AuthorizerUri"])
    for route in cognito.of_type("AWS::ApiGatewayV2::Route").values():
        props = route["Properties"]
        if props["RouteKey"] == "$connect":
            assert props["AuthorizationType"] == "CUSTOM" and props["AuthorizerId"] == {"Ref": authorizer_id}
        else:
            assert props["AuthorizationType"] == "NONE" and "AuthorizerId" not in props


def test_frame_routes_return_the_handler_reply_to_the_sender(cognito: Synth) -> None:
    routes = {k: r["Properties"] for k, r in cognito.of_type("AWS::ApiGatewayV2::Route").items()}
    responses = cognito.of_type("AWS::ApiGatewayV2::RouteResponse").values()
    answered = {next(references(r["Properties"]["RouteId"])) for r in responses}
    assert all(r["Properties"]["RouteResponseKey"] == "$default" for r in responses)
    for route_id, route in routes.items():
        two_way = route["RouteKey"] not in ONE_WAY_ROUTES
        assert (route.get("RouteResponseSelectionExpression") == "$default") is two_way, route["RouteKey"]
        assert (route_id in answered) is two_way, route["RouteKey"]


def test_stage_is_throttled_and_logs_json_that_never_holds_the_token(cognito: Synth) -> None:
    (stage,) = cognito.of_type("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == STAGE_NAME and props["AutoDeploy"] is True
    settings = props["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] == STAGE_THROTTLE.burst
    assert settings["ThrottlingRateLimit"] == STAGE_THROTTLE.rate_per_second
    assert not settings.get("DataTraceEnabled"), "data traces log whole requests"
    log_format = props["AccessLogSettings"]["Format"]
    fields = json.loads(log_format)
    assert {"requestId", "routeKey", "connectionId", "status"} <= set(fields)
    for forbidden in ("token", "querystring", "$request", "$input", "header"):
        assert forbidden not in log_format.lower(), forbidden
    # WebSocket stages log through the account's API Gateway role: the stage must come after it.
    (account_id,) = cognito.of_type("AWS::ApiGateway::Account")
    assert account_id in stage["DependsOn"]


def test_routes_a_flood_repeats_get_smaller_buckets_than_the_routes_that_keep_everyone_connected(
    cognito: Synth,
) -> None:
    (stage,) = cognito.of_type("AWS::ApiGatewayV2::Stage").values()
    default = stage["Properties"]["DefaultRouteSettings"]
    per_route = stage["Properties"]["RouteSettings"]
    route_ids = {r["Properties"]["RouteKey"]: k for k, r in cognito.of_type("AWS::ApiGatewayV2::Route").items()}

    assert {"sendMessage", "typing", "history", "$default"} <= set(per_route) <= set(ROUTES)
    assert {"$connect", "$disconnect", "ping"}.isdisjoint(per_route), "liveness keeps the stage default"
    for route_key, settings in per_route.items():
        assert settings["ThrottlingRateLimit"] < default["ThrottlingRateLimit"], route_key
        assert settings["ThrottlingBurstLimit"] < default["ThrottlingBurstLimit"], route_key
        # API Gateway refuses settings for a route that does not exist yet.
        assert route_ids[route_key] in stage["DependsOn"], route_key


def test_concurrency_is_reserved_per_function_only_when_the_deployer_asks(cognito: Synth, external: Synth) -> None:
    for name, function_id in _function_ids(cognito).items():
        assert "ReservedConcurrentExecutions" not in cognito.resources[function_id]["Properties"], name
    for name, function_id in _function_ids(external).items():
        reserved = external.resources[function_id]["Properties"].get("ReservedConcurrentExecutions")
        assert reserved == RESERVED_CONCURRENCY.get(name), name
    assert set(RESERVED_CONCURRENCY) == set(FUNCTIONS) - {SIGN_UP_FUNCTION}


def test_tables_have_the_keys_indexes_and_ttl_of_their_specs(cognito: Synth) -> None:
    for spec in TABLES:
        table = cognito.resources[cognito.logical_id(cognito.stack.tables.by_name[spec.name])]["Properties"]
        keys = [spec.partition_key, *([spec.sort_key] if spec.sort_key else [])]
        assert table["KeySchema"] == [
            {"AttributeName": k.name, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)
        ]
        types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
        assert all(types[k.name] == k.type for k in keys)
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["SSESpecification"]["SSEEnabled"] is True
        if spec.ttl_attribute:
            assert table["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in table
        indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in spec.indexes}
        local = {i["IndexName"]: i for i in create_table_kwargs(spec, "local").get("GlobalSecondaryIndexes", [])}
        for index in spec.indexes:
            index_keys = [index.partition_key, *([index.sort_key] if index.sort_key else [])]
            assert [k["AttributeName"] for k in indexes[index.name]["KeySchema"]] == [k.name for k in index_keys]
            assert indexes[index.name]["Projection"] == local[index.name]["Projection"], "same index on AWS and locally"


def test_the_name_index_holds_only_names_so_that_presence_updates_never_write_to_it(cognito: Synth) -> None:
    name_only = {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}
    users = cognito.resources[cognito.logical_id(cognito.stack.tables.by_name["users"])]["Properties"]
    (by_name,) = [i for i in users["GlobalSecondaryIndexes"] if i["IndexName"] == USERS_BY_NAME_INDEX]
    (local,) = create_table_kwargs(USERS, "local")["GlobalSecondaryIndexes"]

    assert by_name["Projection"] == name_only
    assert local["Projection"] == name_only


CHAT_DATA = {
    "users",
    "rooms",
    "room_counters",
    "members",
    "memberships",
    "messages",
    "idempotency",
    "message_changes",
    "reactions",
    "push_subscriptions",
}


def test_by_default_stack_deletion_keeps_all_the_chat_data_and_the_users_and_only_them(cognito: Synth) -> None:
    policies = {
        spec.name: cognito.resources[cognito.logical_id(cognito.stack.tables.by_name[spec.name])]["DeletionPolicy"]
        for spec in TABLES
    }
    (pool,) = cognito.of_type("AWS::Cognito::UserPool").values()

    assert {name for name, policy in policies.items() if policy == "Retain"} == CHAT_DATA
    deleted = {name for name, policy in policies.items() if policy == "Delete"}
    assert deleted == {"connections", "room_connections", "rate_limits"}
    assert pool["DeletionPolicy"] == "Retain"


def test_opting_out_of_retention_deletes_every_table_and_the_user_pool(external: Synth) -> None:
    for spec in TABLES:
        table = external.resources[external.logical_id(external.stack.tables.by_name[spec.name])]
        assert table["DeletionPolicy"] == "Delete", spec.name
    # The external-issuer variant has no pool: the pool's own choice, on a stack of the auth alone.
    stack = Stack(App(), "AuthOnly")
    ChatAuth(stack, "Auth", config=ChatConfig(retain_history=False), site_url="https://chat.example/")
    (pool,) = Template.from_stack(stack).find_resources("AWS::Cognito::UserPool").values()
    assert pool["DeletionPolicy"] == "Delete"


def test_functions_run_python_on_arm64_with_their_sizing_tracing_and_the_layer(cognito: Synth) -> None:
    layer_id = cognito.logical_id(cognito.stack.functions.layer)
    for name, function_id in _function_ids(cognito).items():
        props = cognito.resources[function_id]["Properties"]
        assert props["Runtime"] == RUNTIME.name and props["Architectures"] == [ARCHITECTURE.name]
        assert props["Handler"] == HANDLER
        assert props["MemorySize"] == SIZING[name].memory_mb
        assert props["Timeout"] == SIZING[name].timeout.to_seconds() <= 29
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Layers"] == [{"Ref": layer_id}]
        assert props["LoggingConfig"]["LogGroup"], "each function logs to its own group with a retention"


def test_cognito_pool_signs_the_tokens_the_verifier_expects(cognito: Synth) -> None:
    pool_id = cognito.logical_id(cognito.stack.auth.user_pool)
    client_id = cognito.logical_id(cognito.stack.auth.client)
    client = cognito.resources[client_id]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert not client.get("GenerateSecret"), "a browser cannot keep a secret: PKCE instead"
    assert client["EnableTokenRevocation"] is True and client["RefreshTokenValidity"] > 0
    distribution_id = cognito.logical_id(cognito.stack.web.distribution)
    (site_url,) = client["CallbackURLs"]  # the site alone, unless the deployer adds devOrigins
    assert distribution_id in references(site_url)
    assert client["LogoutURLs"] == [site_url]
    cognito.template.resource_count_is("AWS::Cognito::UserPoolDomain", 1)
    cognito.template.has_resource_properties("AWS::Cognito::ManagedLoginBranding", {"UseCognitoProvidedValues": True})
    env = _environment(cognito, AUTHORIZER_FUNCTION)
    assert pool_id in references(env["JWT_ISSUER"]) and "cognito-idp." in json.dumps(env["JWT_ISSUER"])
    assert json.dumps(env["JWKS_URL"]).endswith('/.well-known/jwks.json"]]}')
    assert env["JWT_AUDIENCE"] == {"Ref": client_id}


def test_dev_origins_are_sign_in_and_sign_out_urls_of_the_app_client_beside_the_site() -> None:
    app = App(context={"devOrigins": "http://localhost:5173, http://localhost:5174/,https://Chat.Example.com:443"})
    stack = Stack(app, "AuthOnly")
    ChatAuth(stack, "Auth", config=ChatConfig.from_context(app.node), site_url="https://chat.example/")
    Aspects.of(app).add(AwsSolutionsChecks())
    template = Template.from_stack(stack)

    urls = ["https://chat.example/", "http://localhost:5173/", "http://localhost:5174/", "https://chat.example.com/"]
    template.has_resource_properties("AWS::Cognito::UserPoolClient", {"CallbackURLs": urls, "LogoutURLs": urls})
    annotations = Annotations.from_stack(stack)
    nag = Match.string_like_regexp("AwsSolutions-.*")
    assert not [*annotations.find_error("*", nag), *annotations.find_warning("*", nag)]


def test_the_pool_runs_the_sign_up_function_when_a_user_confirms_their_sign_up(cognito: Synth) -> None:
    pool_id = cognito.logical_id(cognito.stack.auth.user_pool)
    sign_up_id = _function_ids(cognito)[SIGN_UP_FUNCTION]
    pool = cognito.resources[pool_id]["Properties"]

    assert pool["LambdaConfig"] == {"PostConfirmation": {"Fn::GetAtt": [sign_up_id, "Arn"]}}
    cognito.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [sign_up_id, "Arn"]},
            "Principal": "cognito-idp.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [pool_id, "Arn"]},
        },
    )
    # The pool names the function: the function naming the pool back would be a dependency cycle.
    assert pool_id not in references(cognito.resources[sign_up_id])


def test_sign_up_asks_for_the_name_the_chat_shows_and_lets_the_user_change_it(cognito: Synth) -> None:
    (pool,) = cognito.of_type("AWS::Cognito::UserPool").values()
    schema = {attribute["Name"]: attribute for attribute in pool["Properties"]["Schema"]}

    assert schema["name"]["Required"] is True and schema["name"]["Mutable"] is True


def test_an_external_issuer_has_no_sign_up_function(external: Synth) -> None:
    assert set(external.stack.functions.by_name) == set(FUNCTIONS) - {SIGN_UP_FUNCTION}
    layer_id = external.logical_id(external.stack.functions.layer)
    functions = external.of_type("AWS::Lambda::Function").values()
    chat_functions = [f for f in functions if f["Properties"].get("Layers") == [{"Ref": layer_id}]]
    assert len(chat_functions) == len(FUNCTIONS) - 1


def test_an_external_issuer_replaces_cognito(external: Synth) -> None:
    external.template.resource_count_is("AWS::Cognito::UserPool", 0)
    env = _environment(external, AUTHORIZER_FUNCTION)
    assert env["JWT_ISSUER"] == EXTERNAL_ISSUER["issuer"], "exactly as given: tokens carry it with its slash"
    assert env["JWT_AUDIENCE"] == EXTERNAL_ISSUER["audience"]
    assert env["JWKS_URL"] == "https://login.example.com/.well-known/jwks.json"
    assert {"UserPoolId", "UserPoolClientId"}.isdisjoint(external.template.to_json()["Outputs"])


def test_outputs_give_the_websocket_and_web_urls_and_the_user_pool(cognito: Synth) -> None:
    outputs = cognito.template.to_json()["Outputs"]
    assert {"WebSocketUrl", "WebUrl", "UserPoolId", "UserPoolClientId", "Issuer"} <= set(outputs)
    assert json.dumps(outputs["WebSocketUrl"]["Value"]).startswith('{"Fn::Join": ["", ["wss://"')
    assert json.dumps(outputs["WebUrl"]["Value"]).startswith('{"Fn::Join": ["", ["https://"')


def _environment(synth: Synth, function: str) -> dict[str, Any]:
    function_id = _function_ids(synth)[function]
    return dict(synth.resources[function_id]["Properties"]["Environment"]["Variables"])


def test_cost_model_prices_the_memory_the_stack_deploys() -> None:
    cost = runpy.run_path(str(ROOT / "bench" / "cost.py"), run_name="bench_cost")
    assert SIZING["send_message"].memory_mb == cost["SEND_MESSAGE_MEMORY_MB"]
    assert {name: SIZING[name].memory_mb for name in cost["MEMORY_MB"]} == cost["MEMORY_MB"]
    assert cost["FANOUT_MAX_CONCURRENCY"] == FANOUT_MAX_CONCURRENCY
