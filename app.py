#!/usr/bin/env python3
"""CDK app: `npx aws-cdk@2 deploy` builds the chat in the account and region of the current credentials."""

import sys
from pathlib import Path

# The stack reads tables, routes and settings from the layer's `chat` package, their single source of truth.
sys.path.insert(0, str(Path(__file__).resolve().parent / "layers" / "shared" / "python"))

from infra.stack import build_app

app, _stack = build_app()
app.synth()
