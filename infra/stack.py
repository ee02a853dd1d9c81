"""One stack, composed of one construct per concern."""

from __future__ import annotations

import os
from typing import Any

from aws_cdk import App, Aspects, CfnOutput, Environment, Stack
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from chat.routes import FANOUT_FUNCTION, FUNCTIONS, NOTIFY_FUNCTION, SIGN_UP_FUNCTION
from infra.auth import ChatAuth
from infra.config import ChatConfig
from infra.constants import METRICS_NAMESPACE, SERVICE_NAME, STACK_NAME
from infra.fanout import FanoutQueue
from infra.functions import ChatFunctions
from infra.notifications import Notifications
from infra.tables import ChatTables
from infra.web import WebSite
from infra.websocket import WebSocketEndpoint


class ChatStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config = ChatConfig.from_context(self.node)
        self.tables = tables = ChatTables(self, "Tables", retain_history=config.retain_history)
        self.endpoint = endpoint = WebSocketEndpoint(self, "WebSocket")
        self.web = web = WebSite(
            self, "Web", connect_sources=[endpoint.origin, *ChatAuth.browser_origins(config, self)]
        )
        self.auth = auth = ChatAuth(self, "Auth", config=config, site_url=web.url)
        self.fanout = fanout = FanoutQueue(self, "Fanout")
        self.notifications = notifications = Notifications(self, "Notifications")
        # Cognito's sign-up trigger exists only with Cognito: an external issuer signs its users up itself.
        names = [f for f in FUNCTIONS if f != SIGN_UP_FUNCTION or auth.user_pool is not None]
        self.functions = functions = ChatFunctions(
            self,
            "Functions",
            names=names,
            environment={
                **tables.environment(),
                "CONNECTIONS_ENDPOINT_URL": endpoint.callback_url,
                # Every function gets the same environment; only those of infra/access.py may send to it.
                "FANOUT_QUEUE_URL": fanout.url,
                # Only the functions of infra/access.py READS_VAPID_SECRET may read it.
                "VAPID_SECRET_ARN": notifications.vapid_secret.secret_arn,
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": config.log_level,
            },
            token_settings={
                "JWT_ISSUER": auth.issuer,
                "JWT_AUDIENCE": ",".join(auth.audiences),
                "JWKS_URL": auth.jwks_url,
            },
            tables=tables,
            post_to_connections_arn=endpoint.post_to_connections_arn(),
            fanout_queue_arn=fanout.arn,
            vapid_secret_arn=notifications.vapid_secret.secret_arn,
            reserve_concurrency=config.reserve_concurrency,
        )
        endpoint.add_routes(functions.by_name)
        fanout.subscribe(functions.by_name[FANOUT_FUNCTION])
        notifications.subscribe(functions.by_name[NOTIFY_FUNCTION], tables.by_name["messages"])
        if SIGN_UP_FUNCTION in functions.by_name:
            auth.add_sign_up_trigger(functions.by_name[SIGN_UP_FUNCTION])
        web.publish({"websocketUrl": endpoint.url, "auth": auth.web_settings()})

        CfnOutput(self, "WebSocketUrl", value=endpoint.url, description="wss:// endpoint; add ?token=<access token>")
        CfnOutput(self, "WebUrl", value=web.url, description="The web client")
        CfnOutput(self, "Issuer", value=auth.issuer, description="Issuer of the access tokens the API accepts")
        if auth.user_pool and auth.client:
            CfnOutput(self, "UserPoolId", value=auth.user_pool.user_pool_id)
            CfnOutput(self, "UserPoolClientId", value=auth.client.user_pool_client_id)


def build_app(context: dict[str, Any] | None = None) -> tuple[App, ChatStack]:
    """The app `cdk` runs (context from cdk.json and `-c`), checked by cdk-nag's AWS Solutions rules."""
    app = App(context=context)
    stack = ChatStack(
        app,
        app.node.try_get_context("stackName") or STACK_NAME,
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack
