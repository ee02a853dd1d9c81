"""`$connect`: the authorizer has verified the token; store the connection and tell contacts the user is online."""

from chat.lambda_app import handle_connect, powertools_handler

lambda_handler = powertools_handler(handle_connect)
