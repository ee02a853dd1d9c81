"""`chat.ports.PushSender` over Web Push (RFC 8030) with VAPID (RFC 8292) and message encryption (RFC 8291,
aes128gcm), through pywebpush: the payload is encrypted for the device's keys, so the push service relays what it
cannot read.

The VAPID key is a P-256 private key derived from a secret string (the stack's Secrets Manager secret, or the
local stack's random one): any string gives a valid key. Its public key, base64url of the uncompressed point, is
what browsers subscribe with (`applicationServerKey`), handed to clients in the `settings` frame.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat.ports import PushOutcome, PushSubscription

if TYPE_CHECKING:
    import requests

_log = logging.getLogger(__name__)
PUSH_TIMEOUT_SECONDS = 5.0


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_key_from_secret(secret: str) -> str:
    """The VAPID private key (base64url of the P-256 private value) derived from `secret`: a scalar in [1, n-1]."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256's group order n
    scalar = int.from_bytes(hashlib.sha256(secret.encode()).digest(), "big") % (order - 1) + 1
    return _b64(scalar.to_bytes(32, "big"))


def vapid_private_key(encoded: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(_unb64(encoded), "big"), ec.SECP256R1())


def vapid_public_key(encoded: str) -> str:
    """The `applicationServerKey` browsers subscribe with: base64url of the uncompressed public point."""
    point = (
        vapid_private_key(encoded)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return _b64(point)


class WebPushSender:
    """One POST per notification to the device's push service, signed with the VAPID key."""

    def __init__(
        self,
        private_key: str,
        subject: str,
        session: requests.Session | None = None,
        *,
        endpoint_rewrite: tuple[str, str] | None = None,
    ) -> None:
        """`endpoint_rewrite` (prefix, replacement): the local stack's stand-in push service takes the endpoints
        under a made-up https origin, so that subscriptions stay https-only as on AWS."""
        from py_vapid import Vapid02  # the notifier's imports only: no other function loads them

        self._vapid = Vapid02.from_raw(private_key.encode())
        self._subject = subject  # a mailto: or https: contact for the push service's operators
        self._session = session
        self._rewrite = endpoint_rewrite

    def send(self, subscription: PushSubscription, payload: bytes, *, topic: str, ttl_seconds: int) -> PushOutcome:
        from pywebpush import WebPushException, webpush

        if subscription.platform != "webpush":
            return "failed"  # a mobile app's token: its sender (FCM, APNs) is not built yet
        endpoint = subscription.endpoint
        if self._rewrite is not None and endpoint.startswith(self._rewrite[0]):
            endpoint = self._rewrite[1] + endpoint.removeprefix(self._rewrite[0])
        try:
            webpush(
                {"endpoint": endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}},
                payload.decode(),
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self._subject},
                ttl=ttl_seconds,
                headers={"Topic": topic, "Urgency": "normal"},
                timeout=PUSH_TIMEOUT_SECONDS,
                requests_session=self._session,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                return "gone"
            _log.warning("push not delivered: status %s", status)  # never the endpoint: it identifies a device
            return "failed"
        except OSError:
            _log.warning("push service unreachable")
            return "failed"
        return "delivered"
