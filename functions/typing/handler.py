"""`typing`: push the typing state to the other members online; nothing is stored."""

from chat.lambda_app import handle_frame, powertools_handler

lambda_handler = powertools_handler(handle_frame)
