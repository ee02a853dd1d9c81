"""cdk-nag's AWS Solutions rules and cfn-lint on the synthesized template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Annotations, Match
from cfnlint.api import ManualArgs, lint_file
from stack_synth import Synth

NAG_RULE = Match.string_like_regexp("AwsSolutions-.*")


@pytest.mark.parametrize("variant", ["cognito", "external"])
def test_cdk_nag_finds_nothing_unsuppressed(variant: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(variant)
    annotations = Annotations.from_stack(synth.stack)
    findings = [
        f"{m.id}: {m.entry.data}"
        for m in [*annotations.find_error("*", NAG_RULE), *annotations.find_warning("*", NAG_RULE)]
    ]
    assert not findings, "\n".join(findings)


def test_every_suppression_says_why(cognito: Synth) -> None:
    suppressions = [
        rule
        for resource in cognito.resources.values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert suppressions
    for rule in suppressions:
        assert len(rule["reason"].split()) >= 8, rule


@pytest.mark.parametrize("variant", ["cognito", "external"])
def test_cfn_lint_finds_no_errors(variant: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    synth: Synth = request.getfixturevalue(variant)
    template = tmp_path / "template.json"
    template.write_text(json.dumps(synth.template.to_json(), indent=1))
    matches = lint_file(template, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    errors = [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.id.startswith("E")]
    assert not errors, "\n".join(errors)
