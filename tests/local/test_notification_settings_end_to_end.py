"""Notification settings on the local stack: the stack's own VAPID key for browsers to subscribe with, a device
registered, a room muted and previews turned off on one device, seen on the other."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.local.chat_client import StackProcess
from tests.local.test_chat_end_to_end import group, online, run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_settings_follow_the_user_and_give_the_stacks_push_key(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (alice, laptop), (_bob, b) = await online(chat_stack, "alice", "bob")
        phone = await alice.connect()
        room = await group(b, alice)

        settings = await laptop.request({"action": "getSettings"})
        key = settings["pushPublicKey"]
        point = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # a P-256 point, as browsers need
        assert settings["showPreviews"] is True

        subscription = {"endpoint": "https://push.test/alice-laptop", "keys": {"p256dh": "BPk3", "auth": "q7xQ"}}
        registered = await laptop.request({"action": "registerPush", "subscription": subscription})
        assert registered["registered"] is True
        muted = await laptop.request({"action": "muteRoom", "roomId": room["id"], "muted": True})
        assert muted["muted"] is True
        assert (await phone.expect(type="roomMuted"))["roomId"] == room["id"]
        await laptop.request({"action": "updateSettings", "showPreviews": False})
        assert (await phone.expect(type="settings"))["showPreviews"] is False

        listed = await phone.request({"action": "listRooms"})
        assert [r["muted"] for r in listed["rooms"]] == [True]
        refused = await laptop.request(
            {"action": "registerPush", "subscription": {**subscription, "endpoint": "http://x"}}
        )
        assert refused["type"] == "error" and refused["code"] == "bad_request"
        for client in (laptop, phone, b):
            await client.close()

    run(scenario())
