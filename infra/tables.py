"""The DynamoDB tables, built from `chat.tables.TABLES`: on demand, point-in-time recovery, encrypted."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from chat.tables import TABLES, Key, TableSpec


class ChatTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, retain_history: bool) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, dynamodb.Table] = {
            spec.name: self._table(spec, retain=retain_history and not spec.ephemeral) for spec in TABLES
        }

    def _table(self, spec: TableSpec, *, retain: bool) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            _construct_id(spec.name),
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The AWS managed key: encrypted at rest, no key to pay for or to lose.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=spec.ttl_attribute,
            stream=dynamodb.StreamViewType[spec.stream] if spec.stream else None,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.partition_key),
                sort_key=_attribute(index.sort_key) if index.sort_key else None,
                # The same projection as the local stack's tables (chat.tables).
                projection_type=dynamodb.ProjectionType[str(index.projection["ProjectionType"])],
                non_key_attributes=list(index.projected) or None,
            )
        return table

    def environment(self) -> dict[str, str]:
        """Each table's physical name under the environment variable the settings model reads."""
        return {spec.env_var: self.by_name[spec.name].table_name for spec in TABLES}


def _attribute(key: Key) -> dynamodb.Attribute:
    kind = dynamodb.AttributeType.NUMBER if key.type == "N" else dynamodb.AttributeType.STRING
    return dynamodb.Attribute(name=key.name, type=kind)


def _construct_id(logical_name: str) -> str:
    return "".join(part.capitalize() for part in logical_name.split("_"))
