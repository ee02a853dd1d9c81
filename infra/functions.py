"""The Lambda functions of `functions/*`, the shared layer, and each function's own least-privilege role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import AssetHashType, RemovalPolicy, aws_lambda
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import Construct

from chat.routes import AUTHORIZER_FUNCTION, FANOUT_FUNCTION, NOTIFY_FUNCTION, ROUTES, SIGN_UP_FUNCTION
from chat.settings import TOKEN_VARIABLES, Settings
from infra.access import (
    CONSUMES_FANOUT_JOBS,
    CONSUMES_MESSAGE_STREAM,
    POSTS_TO_CONNECTIONS,
    READS_VAPID_SECRET,
    SENDS_FANOUT_JOBS,
    SQS_CONSUME,
    SQS_SEND,
    STREAM_CONSUME,
    TABLE_ACCESS,
)
from infra.constants import ARCHITECTURE, HANDLER, LOG_RETENTION, RESERVED_CONCURRENCY, RUNTIME, SIZING
from infra.layer_build import ROOT, build_layer
from infra.tables import ChatTables

FUNCTIONS_DIR = ROOT / "functions"
# What invokes the functions that serve no route.
NOT_ROUTES = {
    AUTHORIZER_FUNCTION: "$connect authorizer",
    SIGN_UP_FUNCTION: "Cognito post-confirmation trigger",
    FANOUT_FUNCTION: "fan-out queue (SQS)",
    NOTIFY_FUNCTION: "messages table stream",
}


class ChatFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Sequence[str],
        environment: Mapping[str, str],
        token_settings: Mapping[str, str],
        tables: ChatTables,
        post_to_connections_arn: str,
        fanout_queue_arn: str,
        vapid_secret_arn: str,
        reserve_concurrency: bool,
    ) -> None:
        """The functions `names` (of FUNCTIONS). `environment` goes to each, `token_settings` (TOKEN_VARIABLES) to
        the authorizer alone; `reserve_concurrency` sets aside RESERVED_CONCURRENCY for each."""
        super().__init__(scope, construct_id)
        missing = sorted(
            v for v, required in Settings.environment_variables().items() if required and v not in environment
        )
        if missing:
            raise ValueError(f"the functions' environment lacks required settings: {missing}")
        if set(token_settings) != set(TOKEN_VARIABLES):
            raise ValueError(f"the authorizer's token settings are {list(TOKEN_VARIABLES)}, not {list(token_settings)}")
        self._reserve_concurrency = reserve_concurrency
        self._fanout_queue_arn = fanout_queue_arn
        self._vapid_secret_arn = vapid_secret_arn
        layer_dir, layer_hash = build_layer()
        self.layer = aws_lambda.LayerVersion(
            self,
            "SharedLayer",
            description="chat package and its dependencies",
            # The hash of the layer's inputs: no need for CDK to hash tens of MB on every synth.
            code=aws_lambda.Code.from_asset(
                str(layer_dir), asset_hash=layer_hash, asset_hash_type=AssetHashType.CUSTOM
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        self.by_name: dict[str, aws_lambda.Function] = {
            name: self._function(
                name,
                {**environment, **(token_settings if name == AUTHORIZER_FUNCTION else {})},
                tables,
                post_to_connections_arn,
            )
            for name in names
        }

    def _function(
        self, name: str, environment: dict[str, str], tables: ChatTables, post_to_connections_arn: str
    ) -> aws_lambda.Function:
        construct_id = "".join(part.capitalize() for part in name.split("_"))
        role = iam.Role(self, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group = logs.LogGroup(
            self, f"{construct_id}Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        log_group.grant_write(role)
        routes = sorted(route for route, function in ROUTES.items() if function == name) or [NOT_ROUTES[name]]
        sizing = SIZING[name]
        function = aws_lambda.Function(
            self,
            construct_id,
            description=f"chat: {', '.join(routes)}",
            # One asset per function, rooted at its folder: functions/typing never shadows stdlib typing.
            code=aws_lambda.Code.from_asset(str(FUNCTIONS_DIR / name), exclude=["__pycache__", "*.pyc"]),
            handler=HANDLER,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=sizing.memory_mb,
            timeout=sizing.timeout,
            layers=[self.layer],
            environment=environment,
            role=role,
            log_group=log_group,
            tracing=aws_lambda.Tracing.ACTIVE,
            reserved_concurrent_executions=RESERVED_CONCURRENCY.get(name) if self._reserve_concurrency else None,
        )
        for resource, actions in TABLE_ACCESS[name].items():
            # "table" or "table/index/name": an index's ARN is its table's plus "/index/name".
            table_name, _, index_path = resource.partition("/")
            arn = tables.by_name[table_name].table_arn + (f"/{index_path}" if index_path else "")
            role.add_to_policy(iam.PolicyStatement(actions=list(actions), resources=[arn]))
        if name in SENDS_FANOUT_JOBS:
            role.add_to_policy(iam.PolicyStatement(actions=list(SQS_SEND), resources=[self._fanout_queue_arn]))
        if name in CONSUMES_FANOUT_JOBS:
            role.add_to_policy(iam.PolicyStatement(actions=list(SQS_CONSUME), resources=[self._fanout_queue_arn]))
        if name in CONSUMES_MESSAGE_STREAM:
            stream_arn = tables.by_name["messages"].table_stream_arn
            assert stream_arn is not None
            role.add_to_policy(iam.PolicyStatement(actions=list(STREAM_CONSUME), resources=[stream_arn]))
        if name in READS_VAPID_SECRET:
            role.add_to_policy(
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self._vapid_secret_arn])
            )
        suppressions = [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions.",
                applies_to=["Resource::*"],
            )
        ]
        if name in POSTS_TO_CONNECTIONS:
            role.add_to_policy(
                iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=[post_to_connections_arn])
            )
            suppressions.append(
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="Connection ids exist only at run time; the wildcard is limited to posting to the "
                    "@connections of this API's one stage.",
                    applies_to=[RegexAppliesTo(regex=r"/^Resource::arn:.*:execute-api:.*\/POST\/@connections\/\*$/g")],
                )
            )
        NagSuppressions.add_resource_suppressions(role, suppressions, apply_to_children=True)
        return function
