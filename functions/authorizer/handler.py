"""`$connect` REQUEST authorizer: verify the access token from the query string, answer with an IAM policy.

API Gateway's answers: a raised `Exception("Unauthorized")` is HTTP 401 (no, bad or expired token: get a new
one), a Deny policy is 403 (a genuine token that may not connect), an Allow policy lets `$connect` run with
`Identity.authorizer_context()` in `requestContext.authorizer` for the life of the connection. Any other
exception (the issuer's JWKS cannot be fetched) is a 500. The token is never logged.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from chat.auth import TokenVerifier
from chat.errors import TokenRejected
from chat.observability import MetricUnit, logger, metrics, trace_http_calls, tracer
from chat.routes import TOKEN_QUERY_PARAMETER
from chat.token_settings import TokenSettings


@lru_cache(maxsize=1)
def token_verifier() -> TokenVerifier:
    """One verifier per cold start: it keeps the issuer's JWKS while the function is warm. Its settings are read
    without pydantic (`chat.token_settings`): the authorizer's cold start builds no pydantic model."""
    trace_http_calls()  # its JWKS fetch
    return TokenVerifier.from_settings(TokenSettings.from_environ(os.environ))


# log_event=False even if POWERTOOLS_LOGGER_LOG_EVENT is set: the event carries the token.
@logger.inject_lambda_context(log_event=False, correlation_id_path="requestContext.connectionId", clear_state=True)
# The response (an Allow policy with the user's context) and errors stay out of X-Ray too.
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get(TOKEN_QUERY_PARAMETER)
    try:
        identity = token_verifier().verify(token)
    except TokenRejected as rejected:
        metrics.add_metric(name="TokensRejected", unit=MetricUnit.Count, value=1)
        logger.info("token rejected", reason=rejected.message, status=rejected.status)
        if rejected.status == 401:
            raise Exception("Unauthorized") from None  # the exact message API Gateway maps to 401
        return _policy("anonymous", "Deny", event["methodArn"])
    metrics.add_metric(name="TokensAccepted", unit=MetricUnit.Count, value=1)
    logger.append_keys(userId=identity.user_id)
    logger.info("token accepted")
    return _policy(identity.user_id, "Allow", event["methodArn"], identity.authorizer_context())


def _policy(
    principal_id: str, effect: str, method_arn: str, context: dict[str, str | int] | None = None
) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }
    if context is not None:
        policy["context"] = context
    return policy
