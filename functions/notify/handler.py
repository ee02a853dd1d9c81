"""The `messages` table's stream: notify members with no live connection of new messages (Web Push)."""

from chat.lambda_app import handle_new_messages, powertools_handler

lambda_handler = powertools_handler(handle_new_messages)
