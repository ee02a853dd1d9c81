"""Reading a synthesized template: references between resources, and IAM policy evaluation with values."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

Resources = Mapping[str, Mapping[str, Any]]


def references(value: Any) -> Iterator[str]:
    """Logical ids that `value` points at through Ref or Fn::GetAtt."""
    if isinstance(value, dict):
        if "Ref" in value:
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def resolve(value: Any, refs: Mapping[str, str], arns: Mapping[str, str]) -> str:
    """A string from Ref / Fn::GetAtt(Arn) / Fn::Join, given the values of the logical ids involved."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return refs[value["Ref"]]
    if "Fn::GetAtt" in value:
        return arns[value["Fn::GetAtt"][0]]
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(resolve(part, refs, arns) for part in parts)
    raise ValueError(f"cannot resolve {value}")


def role_statements(resources: Resources, role_id: str) -> list[dict[str, Any]]:
    """Every statement that applies to the role: its inline policies and the policies attached to it."""
    role = resources[role_id]["Properties"]
    statements = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    assert not role.get("ManagedPolicyArns"), f"{role_id} should have no managed policies"
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def allows(
    statements: list[dict[str, Any]], action: str, resource: str, refs: Mapping[str, str], arns: Mapping[str, str]
) -> bool:
    """Whether an Allow statement grants `action` on `resource` (there are no Deny statements to weigh)."""
    for statement in statements:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "Condition" not in statement
        actions = _as_list(statement["Action"])
        patterns = [resolve(r, refs, arns) for r in _as_list(statement["Resource"])]
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, p) for p in patterns
        ):
            return True
    return False


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
