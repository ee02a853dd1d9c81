"""Notification settings and devices (the `push_subscriptions` table, `muted` on the `memberships` item,
`showPreviews` on the user item).

A device is keyed by a hash of its endpoint (endpoints are long URLs, up to 2 KB: a hash keeps the key small and
fixed), so that registering the same endpoint again replaces it. A user keeps at most `keep` devices: past that,
the oldest are deleted.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from chat.dynamo.base import DynamoTables, aws_errors, error_code
from chat.dynamo.items import Item, _names, _opt_str, _s, _str, _user_from
from chat.errors import NotFound, not_a_member
from chat.ports import PushSubscription, User


def _endpoint_key(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()[:32]


def _subscription_item(user_id: str, subscription: PushSubscription) -> Item:
    item: Item = {
        "userId": _s(user_id),
        "endpointKey": _s(_endpoint_key(subscription.endpoint)),
        "endpoint": _s(subscription.endpoint),
        "platform": _s(subscription.platform),
        "createdAt": _s(subscription.created_at),
    }
    if subscription.p256dh:
        item["p256dh"] = _s(subscription.p256dh)
    if subscription.auth:
        item["auth"] = _s(subscription.auth)
    return item


def _subscription_from(item: Mapping[str, Any]) -> PushSubscription:
    return PushSubscription(
        endpoint=_str(item, "endpoint"),
        p256dh=_opt_str(item, "p256dh") or "",
        auth=_opt_str(item, "auth") or "",
        created_at=_str(item, "createdAt"),
        platform=_opt_str(item, "platform") or "webpush",
    )


class DeviceStore:
    """A user's devices for notifications, per-room mute and the preview setting."""

    def __init__(self, db: DynamoTables) -> None:
        self._db = db
        self._client = db.client
        self._table = db.push_subscriptions

    def add_push_subscription(self, user_id: str, subscription: PushSubscription, *, keep: int) -> None:
        with aws_errors("add_push_subscription"):
            self._client.put_item(TableName=self._table, Item=_subscription_item(user_id, subscription))
        devices = self._devices_of(user_id)
        excess = sorted(devices, key=lambda item: (_str(item, "createdAt"), _str(item, "endpointKey")))
        for item in excess[: max(0, len(devices) - keep)]:
            self._delete(user_id, _str(item, "endpointKey"))

    def remove_push_subscription(self, user_id: str, endpoint: str) -> bool:
        with aws_errors("remove_push_subscription"):
            old = self._client.delete_item(
                TableName=self._table,
                Key={"userId": _s(user_id), "endpointKey": _s(_endpoint_key(endpoint))},
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        return bool(old)

    def push_subscriptions(self, user_ids: Iterable[str]) -> dict[str, list[PushSubscription]]:
        found: dict[str, list[PushSubscription]] = defaultdict(list)
        for user_id in dict.fromkeys(user_ids):
            for item in self._devices_of(user_id):
                found[user_id].append(_subscription_from(item))
        return dict(found)

    def set_muted(self, room_id: str, user_id: str, muted: bool) -> None:
        """One conditional UpdateItem of the memberships item: the membership check too."""
        with aws_errors("set_muted"):
            try:
                self._client.update_item(
                    TableName=self._db.memberships,
                    Key={"userId": _s(user_id), "roomId": _s(room_id)},
                    UpdateExpression="SET #muted = :muted",
                    ConditionExpression="attribute_exists(#roomId)",
                    ExpressionAttributeNames=_names("muted", "roomId"),
                    ExpressionAttributeValues={":muted": {"BOOL": muted}},
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                raise not_a_member(room_id) from exc

    def set_show_previews(self, user_id: str, show: bool) -> User:
        with aws_errors("set_show_previews"):
            try:
                attributes = self._client.update_item(
                    TableName=self._db.users,
                    Key={"userId": _s(user_id)},
                    UpdateExpression="SET #showPreviews = :show",
                    ConditionExpression="attribute_exists(#userId)",
                    ExpressionAttributeNames=_names("showPreviews", "userId"),
                    ExpressionAttributeValues={":show": {"BOOL": show}},
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                raise NotFound("connect before changing your settings") from exc
        return _user_from(attributes)

    def member_settings(self, room_id: str, user_ids: Iterable[str]) -> dict[str, tuple[int, bool]]:
        """The memberships items of these users in the room (eventually consistent: a marker or a mute a second
        old only changes whether one notification goes out)."""
        keys: list[Item] = [{"userId": _s(user_id), "roomId": _s(room_id)} for user_id in dict.fromkeys(user_ids)]
        return {
            _str(item, "userId"): (
                int(item["readSeq"]["N"]) if "readSeq" in item else 0,
                bool(item["muted"]["BOOL"]) if "muted" in item else False,
            )
            for item in self._db.batch_get(self._db.memberships, keys, "member_settings", consistent=False)
        }

    def _devices_of(self, user_id: str) -> list[Item]:
        return self._db.query_all(
            {
                "TableName": self._table,
                "KeyConditionExpression": "#userId = :userId",
                "ExpressionAttributeNames": {"#userId": "userId"},
                "ExpressionAttributeValues": {":userId": _s(user_id)},
                "ConsistentRead": True,
            },
            "push_subscriptions",
        )

    def _delete(self, user_id: str, endpoint_key: str) -> None:
        with aws_errors("add_push_subscription"):
            self._client.delete_item(
                TableName=self._table, Key={"userId": _s(user_id), "endpointKey": _s(endpoint_key)}
            )
