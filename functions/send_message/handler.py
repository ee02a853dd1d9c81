"""`sendMessage`: store the message once, ack the sender, push it to the room."""

from chat.lambda_app import handle_frame, powertools_handler

lambda_handler = powertools_handler(handle_frame)
