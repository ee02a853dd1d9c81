"""Reads of a room's messages: `history` (before or after a `seq`), `changes` (the change feed), `getMessage`, and
`sync` (which of a client's rooms have news, after a reconnect)."""

from chat.lambda_app import handle_frame, powertools_handler

lambda_handler = powertools_handler(handle_frame)
