"""Cognito post-confirmation trigger: store the name the user chose at sign-up as their chat profile."""

from chat.lambda_app import handle_sign_up, powertools_handler

lambda_handler = powertools_handler(handle_sign_up)
