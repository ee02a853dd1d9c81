"""Synthesizes the app once per test session (per xdist worker), with the context `cdk` would pass."""

from __future__ import annotations

import pytest
from stack_synth import EXTERNAL_ISSUER, Synth, synth


@pytest.fixture(scope="session")
def cognito() -> Synth:
    """The default deployment: the stack's own Cognito user pool, history retained."""
    return synth()


@pytest.fixture(scope="session")
def external() -> Synth:
    """`-c issuer=… -c audience=… -c retainHistory=false -c reservedConcurrency=true`."""
    return synth(**EXTERNAL_ISSUER)
