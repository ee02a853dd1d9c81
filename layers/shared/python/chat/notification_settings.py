"""A user's notification settings and devices: Web Push subscriptions, per-room mute, previews on or off.

Stored server-side and told to the user's other connections, so every device shows the same settings. The
notifications themselves go out after a send commits, off its path (see the issue 11 design in
docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from chat import protocol as p
from chat.errors import NotFound
from chat.ports import ChatStore, PushSubscription, User
from chat.pushes import Pushes

if TYPE_CHECKING:
    from chat.service import Caller


class NotificationSettings:
    def __init__(
        self, store: ChatStore, pushes: Pushes, now: Callable[[], str], push_public_key: Callable[[], str | None]
    ) -> None:
        self._store = store
        self._pushes = pushes
        self._now = now
        self._push_public_key = push_public_key

    def get(self, caller: Caller) -> p.SettingsFrame:
        return self._settings(self._me(caller))

    def update(self, caller: Caller, frame: p.UpdateSettings) -> p.SettingsFrame:
        reply = self._settings(self._store.set_show_previews(caller.user_id, frame.show_previews))
        self._to_other_devices(caller, reply)
        return reply

    def register(self, caller: Caller, frame: p.RegisterPush) -> p.PushRegistered:
        subscription = frame.subscription
        self._store.add_push_subscription(
            caller.user_id,
            PushSubscription(subscription.endpoint, subscription.keys.p256dh, subscription.keys.auth, self._now()),
            keep=p.MAX_PUSH_SUBSCRIPTIONS,
        )
        return p.PushRegistered(endpoint=subscription.endpoint, registered=True)

    def unregister(self, caller: Caller, frame: p.UnregisterPush) -> p.PushRegistered:
        self._store.remove_push_subscription(caller.user_id, frame.endpoint)
        return p.PushRegistered(endpoint=frame.endpoint, registered=False)

    def mute(self, caller: Caller, frame: p.MuteRoom) -> p.RoomMuted:
        self._store.set_muted(frame.room_id, caller.user_id, frame.muted)
        reply = p.RoomMuted(room_id=frame.room_id, muted=frame.muted)
        self._to_other_devices(caller, reply)
        return reply

    def _settings(self, user: User) -> p.SettingsFrame:
        return p.SettingsFrame(show_previews=user.show_previews, push_public_key=self._push_public_key())

    def _me(self, caller: Caller) -> User:
        me = self._store.get_users([caller.user_id]).get(caller.user_id)
        if me is None:
            raise NotFound("connect before reading your settings")
        return me

    def _to_other_devices(self, caller: Caller, frame: p.ServerFrame) -> None:
        me = self._store.get_users([caller.user_id]).get(caller.user_id)
        if me is not None:
            self._pushes.to_user(me, frame, skip=caller.connection_id)
