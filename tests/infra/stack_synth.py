"""The synthesized app, and what the tests read from it: the template, its assets, construct logical ids."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from infra.layer_build import ROOT
from infra.stack import ChatStack, build_app

# Every option away from its default, as `-c key=value` strings.
EXTERNAL_ISSUER = {
    "issuer": "https://login.example.com/",
    "audience": "chat-web,chat-mobile",
    "signInOrigins": "https://tokens.example.net",
    "retainHistory": "false",
    "reservedConcurrency": "true",
}


@dataclass(frozen=True)
class Synth:
    app: App
    stack: ChatStack
    template: Template
    resources: dict[str, dict[str, Any]]

    @property
    def outdir(self) -> Path:
        return Path(self.app.outdir)

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def asset_dir(self, code: dict[str, Any]) -> Path:
        """The staged directory behind a Lambda function's or layer's `Code`/`Content` (S3Key "<hash>.zip")."""
        manifest = json.loads((self.outdir / f"{self.stack.artifact_id}.assets.json").read_text())
        asset = manifest["files"][code["S3Key"].removesuffix(".zip")]
        return self.outdir / asset["source"]["path"]


def synth(**context: Any) -> Synth:
    cdk_json = json.loads((ROOT / "cdk.json").read_text())
    app, stack = build_app({**cdk_json["context"], **context})
    template = Template.from_stack(stack)
    return Synth(app, stack, template, template.to_json()["Resources"])
