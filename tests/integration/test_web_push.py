"""Notifications over real Web Push: the notifier on the DynamoDB store (moto) posts to a stand-in push service
with VAPID and aes128gcm encryption; the test is the browser, decrypting with its subscription's keys."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat.dynamo import DynamoChatStore
from chat.notifications import Notifications, topic_of
from chat.ports import Identity, LiveConnection, MessageDraft, PushSubscription, RoomRecord
from chat.webpush import WebPushSender, vapid_key_from_secret, vapid_public_key
from tests.support.push_service import PushServiceStandIn

CREATED_AT = "2027-01-15T08:00:00.000Z"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A browser's push subscription: its own key pair and auth secret, as `PushManager.subscribe` makes them."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = PushSubscription(endpoint, b64(public), b64(self.auth), CREATED_AT)

    def decrypt(self, body: bytes) -> dict[str, object]:
        return dict(
            json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))
        )


@pytest.fixture
def push_service() -> Iterator[PushServiceStandIn]:
    service = PushServiceStandIn().start()
    yield service
    service.stop()


def test_an_offline_member_receives_exactly_one_encrypted_push_that_decrypts_to_the_notification(
    dynamo_store: DynamoChatStore, push_service: PushServiceStandIn
) -> None:
    store = dynamo_store
    for user_id, name in (("alice", "Alice"), ("bob", "Bob")):
        store.add_connection(LiveConnection(f"c-{user_id}", 4_000_000_000), Identity(user_id, name, 0), CREATED_AT, 0)
    store.remove_connection("c-bob", 1, CREATED_AT)  # bob is away
    room = store.create_room(RoomRecord("r_launch", "Launch", True, CREATED_AT, admin_ids=("alice",)), ["alice", "bob"])
    phone, dropped = Browser(f"{push_service.url}/push/bob-phone"), Browser(f"{push_service.url}/gone/bob-old")
    for browser in (phone, dropped):
        store.add_push_subscription("bob", browser.subscription, keep=10)
    sent = [
        store.append_message(
            MessageDraft(
                f"m{n}",
                room.id,
                "alice",
                "Alice",
                f"launch at {n}",
                CREATED_AT,
                f"{n:08}-0000-4000-8000-000000000000",
                None,
            )
        ).message
        for n in range(2)
    ]
    key = vapid_key_from_secret("a secret of the test's own")

    report = Notifications(store, WebPushSender(key, "mailto:ops@chat.test"), lambda: 10.0).notify(sent)

    (delivery,) = push_service.to("/push/bob-phone")
    assert phone.decrypt(delivery.body) == {
        "title": "Launch",
        "body": "Alice: launch at 1 (+1 more)",
        "roomId": room.id,
        "seq": 2,
        "messageId": sent[-1].id,
        "url": f"/?room={room.id}&seq=2",
    }
    assert delivery.headers["content-encoding"] == "aes128gcm"
    assert delivery.headers["topic"] == topic_of(room.id) and int(delivery.headers["ttl"]) > 0
    scheme, _, params = delivery.headers["authorization"].partition(" ")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == vapid_public_key(key)
    claims = jwt.decode(
        fields["t"],
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"])),
        algorithms=["ES256"],
        audience=push_service.url,
    )
    assert claims["sub"] == "mailto:ops@chat.test"
    assert [d.endpoint for d in store.push_subscriptions(["bob"])["bob"]] == [phone.subscription.endpoint]
    assert (report.delivered, report.gone) == (1, 1)
