"""Who is notified of new messages, and with what: members with no live connection, who have not muted the room
and have not read that far, get one notification per room per burst, on each of their devices.

The notifier runs off the send path, on batches of committed messages (a batch is a burst: every message of a
room in it becomes one notification, its last, "and N more"). A device whose push service answers 404 or 410 is
forgotten. Delivery is by the `PushSender` port (Web Push with VAPID in production, a recording stand-in locally);
each notification carries a topic per room, so a device that was offline receives only the newest of a room's.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from chat import protocol as p
from chat.ports import ChatStore, PushSender, RoomRecord, User

# Members read at once from a room's member list (a page of the `members` table and their profiles).
MEMBERS_PAGE = 100
# How long a push service keeps a notification for a device that is offline: a day, then it is stale news.
NOTIFICATION_TTL_SECONDS = 24 * 3600
PREVIEW_CHARS = 100
# The stream's event source mapping (infra/notifications.py; locally local/stream_poller.py): a burst of messages
# within the window is one batch, and so one notification per room and device; a failed batch is retried.
NOTIFY_BATCH_SIZE = 100
NOTIFY_BATCHING_WINDOW_SECONDS = 5
NOTIFY_RETRY_ATTEMPTS = 3


@dataclass
class NotifyReport:
    notifications: int = 0  # (device, room) notifications handed to the push service
    delivered: int = 0
    failed: int = 0
    gone: int = 0  # devices forgotten
    skipped_online: int = 0
    skipped_muted: int = 0
    skipped_read: int = 0
    rooms: list[str] = field(default_factory=list)


def notification_payload(room: RoomRecord, last: p.Message, count: int, *, show_preview: bool) -> bytes:
    """What the service worker shows: a title (the room's name, or the sender's for a direct room), a body (a
    preview, or only how many messages, by the user's setting) and where a click leads."""
    title = room.name if room.is_group and room.name else last.sender_name
    if show_preview:
        text = last.content if len(last.content) <= PREVIEW_CHARS else last.content[:PREVIEW_CHARS] + "…"
        body = f"{last.sender_name}: {text}" if room.is_group else text
        if count > 1:
            body += f" (+{count - 1} more)"
    else:
        body = "New message" if count == 1 else f"{count} new messages"
    data = {
        "title": title,
        "body": body,
        "roomId": room.id,
        "seq": last.seq,
        "messageId": last.id,
        "url": f"/?room={room.id}&seq={last.seq}",
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def topic_of(room_id: str) -> str:
    """A Web Push topic (at most 32 base64url characters) for the room: a newer notification of the room replaces
    an older one the device has not received yet."""
    return hashlib.sha256(room_id.encode()).hexdigest()[:32]


class Notifications:
    def __init__(self, store: ChatStore, sender: PushSender, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock

    def notify(self, messages: Iterable[p.Message]) -> NotifyReport:
        """One notification per room of `messages` (their last), to each member who should have one."""
        report = NotifyReport()
        by_room: dict[str, list[p.Message]] = defaultdict(list)
        for message in messages:
            if message.deleted_at is None:
                by_room[message.room_id].append(message)
        rooms = {room.id: room for room in self._store.get_rooms(by_room)}
        for room_id, burst in by_room.items():
            room = rooms.get(room_id)
            if room is not None:
                report.rooms.append(room_id)
                self._notify_room(room, sorted(burst, key=lambda m: m.seq), report)
        return report

    def _notify_room(self, room: RoomRecord, burst: Sequence[p.Message], report: NotifyReport) -> None:
        last = burst[-1]
        senders = {m.sender_id for m in burst}  # writing is being there: no notification for their own burst
        after: str | None = None
        while True:
            page = self._store.member_ids(room.id, after=after, limit=MEMBERS_PAGE)
            self._notify_members(room, last, len(burst), [u for u in page if u not in senders], report)
            if len(page) < MEMBERS_PAGE:
                return
            after = page[-1]

    def _notify_members(
        self, room: RoomRecord, last: p.Message, count: int, member_ids: list[str], report: NotifyReport
    ) -> None:
        if not member_ids:
            return
        now = self._clock()
        users = self._store.get_users(member_ids)
        offline: list[User] = []
        for user_id in member_ids:
            user = users.get(user_id)
            if user is not None and user.is_online(now):
                report.skipped_online += 1
            elif user is not None:
                offline.append(user)
        settings = self._store.member_settings(room.id, [u.user_id for u in offline])
        recipients: list[User] = []
        for user in offline:
            read_seq, muted = settings.get(user.user_id, (0, True))  # not a member any more: nothing
            if muted:
                report.skipped_muted += 1
            elif read_seq >= last.seq:
                report.skipped_read += 1
            else:
                recipients.append(user)
        devices = self._store.push_subscriptions(u.user_id for u in recipients)
        for user in recipients:
            payload = notification_payload(room, last, count, show_preview=user.show_previews)
            for device in devices.get(user.user_id, []):
                report.notifications += 1
                outcome = self._sender.send(
                    device, payload, topic=topic_of(room.id), ttl_seconds=NOTIFICATION_TTL_SECONDS
                )
                if outcome == "gone":
                    self._store.remove_push_subscription(user.user_id, device.endpoint)
                    report.gone += 1
                elif outcome == "failed":
                    report.failed += 1
                else:
                    report.delivered += 1
