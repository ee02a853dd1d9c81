"""`history`: a page of a room's messages, before or after a `seq`, for catch-up and scrollback."""

from chat.lambda_app import handle_frame, powertools_handler

lambda_handler = powertools_handler(handle_frame)
