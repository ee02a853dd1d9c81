"""The local stack: the same Lambda handlers as AWS, on one machine, with no cloud account."""
