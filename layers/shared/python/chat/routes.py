"""Which Lambda function serves which WebSocket route: read by the CDK stack and the local gateway alike.

Route selection is `$request.body.action`; a frame whose action has no route goes to `$default`, which answers
`bad_request`. Every frame route has a `$default` route response, so a handler's returned body is the reply.
Every protocol action has a route (tests/unit/test_cold_start_imports.py): no `chat.protocol` import here, as the
authorizer reads this module and must not build the protocol's pydantic models at its cold start.
"""

from __future__ import annotations

ROUTE_SELECTION_EXPRESSION = "$request.body.action"
AUTHORIZER_FUNCTION = "authorizer"
# Cognito's post-confirmation trigger (and the local identity provider at sign-up): stores the chosen name.
SIGN_UP_FUNCTION = "sign_up"
# Consumes the fan-out queue (SQS): the pushes of rooms too big to push from the send handler.
FANOUT_FUNCTION = "fanout"
# Reads the `messages` table's stream: notifications to members with no live connection (Web Push).
NOTIFY_FUNCTION = "notify"
# Query-string parameter that carries the access token on $connect (browsers cannot set WebSocket headers).
TOKEN_QUERY_PARAMETER = "token"

ROUTES: dict[str, str] = {
    "$connect": "connect",
    "$disconnect": "disconnect",
    "$default": "rooms",
    "sendMessage": "send_message",
    "typing": "typing",
    "history": "history",
    "createRoom": "rooms",
    "openDirect": "rooms",
    "addMembers": "rooms",
    "leaveRoom": "rooms",
    "listRooms": "rooms",
    "listUsers": "rooms",
    "presence": "rooms",
    "updateProfile": "rooms",
    "markRead": "rooms",
    "removeMember": "rooms",
    "renameRoom": "rooms",
    # Notification settings and devices.
    "registerPush": "rooms",
    "unregisterPush": "rooms",
    "muteRoom": "rooms",
    "updateSettings": "rooms",
    "getSettings": "rooms",
    # A message's changes write where its send writes (its room's counter, the message), and push the same way.
    "editMessage": "send_message",
    "deleteMessage": "send_message",
    "addReaction": "send_message",
    "removeReaction": "send_message",
    # Reads of messages.
    "getMessage": "history",
    "changes": "history",
    "sync": "history",
    "ping": "rooms",
}
FUNCTIONS: tuple[str, ...] = (
    AUTHORIZER_FUNCTION,
    SIGN_UP_FUNCTION,
    *dict.fromkeys(ROUTES.values()),
    FANOUT_FUNCTION,
    NOTIFY_FUNCTION,
)
