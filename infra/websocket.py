"""The WebSocket API: a route per action, the token authorizer on `$connect`, one stage throttled per route.

API Gateway WebSocket APIs have no X-Ray support of their own: traces start in the functions (active tracing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import Aws, RemovalPolicy, Stack, aws_lambda
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from chat.routes import AUTHORIZER_FUNCTION, ROUTE_SELECTION_EXPRESSION, ROUTES, TOKEN_QUERY_PARAMETER
from infra.constants import LOG_RETENTION, ROUTE_THROTTLES, STAGE_NAME, STAGE_THROTTLE

# Routes whose handler's return value is the reply frame (two-way); connect and disconnect have no reply.
ONE_WAY_ROUTES = frozenset({"$connect", "$disconnect"})
TOKEN_IDENTITY_SOURCE = f"route.request.querystring.{TOKEN_QUERY_PARAMETER}"

# Who, what and how it went, never the request itself: the token travels in the query string.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "connectionId": "$context.connectionId",
    "messageId": "$context.messageId",
    "userId": "$context.authorizer.principalId",
    "status": "$context.status",
    "authorizerStatus": "$context.authorizer.status",
    "authorizerError": "$context.authorizer.error",
    "integrationStatus": "$context.integration.status",
    "integrationLatencyMs": "$context.integration.latency",
    "error": "$context.error.message",
}


class WebSocketEndpoint(Construct):
    """Created before the functions (they need its callback URL); `add_routes` wires them in afterwards."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{Stack.of(self).stack_name}-chat",
            route_selection_expression=ROUTE_SELECTION_EXPRESSION,
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=STAGE_THROTTLE.rate_per_second, burst_limit=STAGE_THROTTLE.burst
            ),
            access_log_settings=_JsonAccessLog(self.access_logs),
        )
        # WebSocket stages log through the account's API Gateway role; the stage fails without one.
        self.stage.node.add_dependency(self._api_gateway_logging_role())

    @property
    def url(self) -> str:
        return self.stage.url

    @property
    def origin(self) -> str:
        """What the web client's Content-Security-Policy allows it to connect to (the stage is a path in it)."""
        return f"wss://{self.api.api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"

    @property
    def callback_url(self) -> str:
        """The Management API endpoint the functions post to (a reference to the stage would be a cycle)."""
        return f"https://{self.api.api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{STAGE_NAME}"

    def post_to_connections_arn(self) -> str:
        """The `execute-api:ManageConnections` resource for posting to this stage's connections, and nothing
        else: no handler reads a connection (GET) or closes one (DELETE)."""
        return Stack.of(self).format_arn(
            service="execute-api",
            resource=self.api.api_id,
            resource_name=f"{STAGE_NAME}/POST/@connections/*",
        )

    def add_routes(self, functions: Mapping[str, aws_lambda.IFunction]) -> None:
        authorizer = authorizers.WebSocketLambdaAuthorizer(
            "TokenAuthorizer", functions[AUTHORIZER_FUNCTION], identity_source=[TOKEN_IDENTITY_SOURCE]
        )
        # One integration per function, shared by the routes it serves.
        by_function = {
            name: integrations.WebSocketLambdaIntegration(f"{name}-integration", functions[name])
            for name in dict.fromkeys(ROUTES.values())
        }
        for route_key, function_name in ROUTES.items():
            route = self.api.add_route(
                route_key,
                integration=by_function[function_name],
                authorizer=authorizer if route_key == "$connect" else None,
                return_response=route_key not in ONE_WAY_ROUTES,
            )
            if route_key in ROUTE_THROTTLES:
                # API Gateway refuses settings for a route that does not exist yet.
                self.stage.node.add_dependency(route)
        self._throttle_routes()
        NagSuppressions.add_resource_suppressions(
            self.api,
            [
                NagPackSuppression(
                    id="AwsSolutions-APIG4",
                    reason="WebSocket APIs authorize only $connect; later frames ride on the authorized "
                    "connection and each handler takes the user from the authorizer context.",
                )
            ],
            apply_to_children=True,
        )

    def _throttle_routes(self) -> None:
        """Smaller token buckets than the stage default for the routes a flood repeats (constants.ROUTE_THROTTLES)."""
        stage = self.stage.node.default_child
        assert isinstance(stage, apigwv2.CfnStage)
        stage.route_settings = {
            route_key: {"ThrottlingRateLimit": throttle.rate_per_second, "ThrottlingBurstLimit": throttle.burst}
            for route_key, throttle in ROUTE_THROTTLES.items()
        }

    def _api_gateway_logging_role(self) -> apigw.CfnAccount:
        role = iam.Role(
            self,
            "ApiGatewayLoggingRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        NagSuppressions.add_resource_suppressions(
            role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    reason="AmazonAPIGatewayPushToCloudWatchLogs is the documented policy of API Gateway's "
                    "account-wide logging role, which serves every API of the account and region.",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                    ],
                )
            ],
        )
        account = apigw.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        # Other APIs of the account may log through it: keep it when the stack goes (as the REST API L2 does).
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        return account


@jsii.implements(apigwv2.IAccessLogSettings)
class _JsonAccessLog:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))
