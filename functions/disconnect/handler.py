"""`$disconnect` (best-effort in API Gateway): forget the connection; tell contacts if the user went offline."""

from chat.lambda_app import handle_disconnect, powertools_handler

lambda_handler = powertools_handler(handle_disconnect)
