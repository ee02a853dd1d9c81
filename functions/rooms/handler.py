"""Rooms, users, presence, `ping` and `$default` (unknown actions are answered `bad_request`)."""

from chat.lambda_app import handle_frame, powertools_handler

lambda_handler = powertools_handler(handle_frame)
