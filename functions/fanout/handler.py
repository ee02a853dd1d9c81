"""The fan-out queue's consumer: push each job's page of a big room's connections (partial batch failures)."""

from chat.lambda_app import handle_fanout_batch, powertools_handler

lambda_handler = powertools_handler(handle_fanout_batch)
