"""Notifications on the local stack: a member who is offline gets exactly one encrypted push for a burst of
messages, at the stand-in push service, that decrypts with the subscription's keys to the notification; a member
online gets none."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from local.push_service import LOCAL_PUSH_ORIGIN
from tests.local.chat_client import StackProcess, get
from tests.local.test_chat_end_to_end import group, online, run, send

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Browser:
    def __init__(self, device: str) -> None:
        self.device = device
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {
            "endpoint": LOCAL_PUSH_ORIGIN + device,
            "keys": {"p256dh": b64(public), "auth": b64(self.auth)},
        }

    def decrypt(self, delivery: dict[str, Any]) -> dict[str, Any]:
        body = base64.b64decode(str(delivery["body"]))
        return dict(
            json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))
        )


async def deliveries(stack: StackProcess, device: str) -> list[dict[str, Any]]:
    status, _, text = await get(f"{stack.url}/push-service/{device}")
    assert status == 200, text
    return list(json.loads(text))


def test_an_offline_member_gets_exactly_one_encrypted_push_for_a_burst(chat_stack: StackProcess) -> None:
    async def scenario() -> None:
        (_alice, a), (bob, b), (_carol, c) = await online(chat_stack, "alice", "bob", "carol")
        room = await group(a, bob, _carol)
        bob_phone = Browser(f"bob-{uuid.uuid4().hex[:8]}")
        carol_phone = Browser(f"carol-{uuid.uuid4().hex[:8]}")
        assert (await b.request({"action": "registerPush", "subscription": bob_phone.subscription}))["registered"]
        assert (await c.request({"action": "registerPush", "subscription": carol_phone.subscription}))["registered"]
        await b.close()  # bob is away; carol stays online
        await asyncio.sleep(0.5)

        acks = [await a.request(send(room["id"], f"launch at {n}")) for n in range(3)]

        found: list[dict[str, Any]] = []
        for _ in range(60):  # the stream's batching window (5 s), then the push
            found = await deliveries(chat_stack, bob_phone.device)
            if found:
                break
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)  # nothing more comes for the same burst
        found = await deliveries(chat_stack, bob_phone.device)
        assert len(found) == 1, found
        assert bob_phone.decrypt(found[0]) == {
            "title": "team",
            "body": f"{acks[-1]['message']['senderName']}: launch at 2 (+2 more)",
            "roomId": room["id"],
            "seq": 3,
            "messageId": acks[-1]["message"]["id"],
            "url": f"/?room={room['id']}&seq=3",
        }
        headers = {k.lower(): v for k, v in found[0]["headers"].items()}
        assert headers["content-encoding"] == "aes128gcm" and headers["authorization"].startswith("vapid t=")
        assert await deliveries(chat_stack, carol_phone.device) == []  # online: the message reached her socket
        await a.close()
        await c.close()

    run(scenario(), timeout=90)
