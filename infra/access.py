"""Least privilege, as data: which tables each function reads or writes, and who pushes to connections.

The functions construct turns this into IAM policies; tests/infra/test_parity.py checks it against the AWS
calls each handler makes under moto. A transaction needs the per-item actions on every table it touches.
"""

from __future__ import annotations

from chat.routes import AUTHORIZER_FUNCTION, FUNCTIONS, SIGN_UP_FUNCTION
from chat.tables import TABLES

Actions = tuple[str, ...]

READ: Actions = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
READ_WRITE: Actions = (*READ, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
R, RW = READ, READ_WRITE

# Removing a connection found gone (410) during a fan-out writes `connections` and `users`; every frame
# route counts the frame in `rate_limits`.
TABLE_ACCESS: dict[str, dict[str, Actions]] = {
    # Verifies the token against the issuer's JWKS over HTTPS: no AWS rights.
    AUTHORIZER_FUNCTION: {},
    # Cognito's post-confirmation trigger: the profile with the name chosen at sign-up.
    SIGN_UP_FUNCTION: {"users": RW},
    "connect": {"connections": RW, "users": RW, "memberships": R, "rooms": R},
    "disconnect": {"connections": RW, "users": RW, "memberships": R, "rooms": R},
    "send_message": {
        "rooms": RW,  # lastSeq moves in the message's transaction
        "messages": RW,
        "idempotency": RW,
        "users": RW,
        "connections": RW,
        "rate_limits": RW,
    },
    "typing": {"rooms": R, "users": RW, "connections": RW, "rate_limits": RW},
    "history": {"rooms": R, "messages": R, "rate_limits": RW},
    "rooms": {
        "rooms": RW,
        "memberships": RW,
        "users": RW,
        "connections": RW,
        "rate_limits": RW,
    },
}

# Functions that post frames to connections through the API Gateway Management API (POST only: no handler
# reads a connection or closes one).
POSTS_TO_CONNECTIONS: frozenset[str] = frozenset({"connect", "disconnect", "send_message", "typing", "rooms"})

assert set(TABLE_ACCESS) == set(FUNCTIONS), "every function needs an entry, even an empty one"
assert {t for access in TABLE_ACCESS.values() for t in access} <= {spec.name for spec in TABLES}
