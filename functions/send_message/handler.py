"""`sendMessage`, and a message's changes (`editMessage`, `deleteMessage`, `addReaction`, `removeReaction`): store
once, reply to the sender, push to the room."""

from chat.lambda_app import handle_frame, powertools_handler

lambda_handler = powertools_handler(handle_frame)
