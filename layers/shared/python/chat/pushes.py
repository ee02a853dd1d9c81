"""Pushes: who gets a frame, and how it reaches them, at a cost that follows who is online.

A room's pushes go to its live-connection index (`ChatStore.room_connections`): inline for a room of up to
INLINE_PUSH_MAX_MEMBERS, else through the fan-out queue after the caller's reply, a page of the index per job
(`fan_out`, the fan-out function's work). Presence and profile changes go only to rooms of up to
PRESENCE_PUSH_MAX_MEMBERS. Every push is best effort: the change it follows is already stored, and clients that
missed one catch up with `history afterSeq` and `listRooms`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Protocol

from chat import protocol as p
from chat.ports import ChatStore, FanoutJob, FanoutQueue, LiveConnection, Notifier, RoomConnection, RoomRecord, User

# API Gateway waits at most 29 s for `$connect`, and a connection is registered during it: a push to a connection
# younger than this may answer 410 only because it is still opening, so that 410 must not unregister it.
CONNECT_WINDOW_SECONDS = 30
# Rooms up to this many members push inline, before the reply; bigger ones hand the push to the fan-out queue and
# reply at once (a room of 10,000 would not fit API Gateway's 29 s, and the sender's ack would wait for it).
INLINE_PUSH_MAX_MEMBERS = 100
# Presence (online/offline, profile changes) is pushed to rooms up to this size; members of bigger rooms ask for
# it (`presence`): a reconnect storm in a room of n online members would otherwise cost n² posts.
PRESENCE_PUSH_MAX_MEMBERS = 100
# A fan-out job posts to one page of a room's live connections; the next page is the next job.
FANOUT_PAGE_SIZE = 1000
# Jobs per invocation of the fan-out function (the event source mapping's batch size, and the local poller's):
# one, so that the pages of a big room post in parallel on separate instances. Posting is CPU-bound (about 2 ms
# of CPU a post in botocore): ten pages in one invocation would post one after another, ten times slower.
FANOUT_JOBS_PER_INVOCATION = 1
# Connections a job could not reach (not gone, failing: throttling beyond retries, timeouts) are tried again by a
# later job, this many attempts in all.
MAX_FANOUT_ATTEMPTS = 4

# A push target: the room whose index it came from (None: not from an index), and the connection.
Target = tuple[str | None, RoomConnection]

_log = logging.getLogger(__name__)


class MetricsSink(Protocol):
    def count(self, name: str, value: float = 1) -> None: ...

    def milliseconds(self, name: str, value: float) -> None: ...


class NoMetrics:
    def count(self, name: str, value: float = 1) -> None:
        pass

    def milliseconds(self, name: str, value: float) -> None:
        pass


class Pushes:
    def __init__(
        self,
        store: ChatStore,
        notifier: Notifier,
        queue: FanoutQueue | None,
        metrics: MetricsSink,
        clock: Callable[[], float],
        connection_lifetime_seconds: int,
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._queue = queue
        self._metrics = metrics
        self._clock = clock
        self._connection_lifetime = connection_lifetime_seconds

    def to_room(
        self,
        room: RoomRecord,
        frame: p.ServerFrame,
        *,
        skip_connection: str | None = None,
        skip_user: str | None = None,
    ) -> None:
        """Every live connection of the room: inline for a small room, through the fan-out queue for a big one."""
        job = FanoutJob(room.id, p.encode(frame).decode(), skip_connection_id=skip_connection, skip_user_id=skip_user)
        with self.best_effort(_kind(frame)):
            if room.member_count > INLINE_PUSH_MAX_MEMBERS and self._queue is not None:
                self._queue.enqueue([job])
                self._metrics.count("FanoutsQueued")
                return
            entries = self._store.room_connections(room.id).connections
            self._deliver(_targets(job, entries), job.payload.encode())

    def to_contacts(
        self,
        user: User,
        frame: p.ServerFrame,
        *,
        room_ids: Sequence[str] | None = None,
        skip: str | None = None,
        including_self: bool = False,
    ) -> None:
        """The online members of the user's rooms up to PRESENCE_PUSH_MAX_MEMBERS (and the user's own connections,
        if asked): one read of the rooms, one of each small room's live connections."""
        with self.best_effort(_kind(frame)):
            rooms = (
                self._store.get_rooms(room_ids)
                if room_ids is not None
                else [member_room.room for member_room in self._store.rooms_of(user.user_id)]
            )
            targets: dict[str, Target] = {}
            for room in rooms:
                if room.member_count <= PRESENCE_PUSH_MAX_MEMBERS:
                    for entry in self._store.room_connections(room.id).connections:
                        targets.setdefault(entry.connection_id, (room.id, entry))
            if including_self:
                for connection in user.live_connections(self._clock()):
                    targets.setdefault(connection.connection_id, (None, RoomConnection(user.user_id, connection)))
            self._deliver(
                [
                    target
                    for cid, target in targets.items()
                    if cid != skip and (including_self or target[1].user_id != user.user_id)
                ],
                p.encode(frame),
            )

    def to_user(self, user: User, frame: p.ServerFrame, *, skip: str | None = None) -> None:
        """The user's own live connections (but `skip`)."""
        with self.best_effort(_kind(frame)):
            targets: list[Target] = [
                (None, RoomConnection(user.user_id, c))
                for c in user.live_connections(self._clock())
                if c.connection_id != skip
            ]
            self._deliver(targets, p.encode(frame))

    def fan_out(self, job: FanoutJob) -> None:
        """One job of a big room's fan-out (the fan-out function's work). The next page's job is queued before
        this page is posted, so pages go out in parallel; connections that failed are queued again, with a
        delay. Raises when it cannot queue: the job is then retried whole (a page may be pushed twice; clients
        drop a message they have by its seq)."""
        if job.retry:
            entries = list(job.retry)
        else:
            page = self._store.room_connections(job.room_id, after=job.after_connection_id, limit=FANOUT_PAGE_SIZE)
            if page.next_after is not None:
                self._enqueue(replace(job, after_connection_id=page.next_after))
            entries = page.connections
        failed = self._deliver(_targets(job, entries), job.payload.encode())
        if not failed:
            return
        if job.attempt + 1 < MAX_FANOUT_ATTEMPTS:
            self._enqueue(replace(job, after_connection_id=None, retry=tuple(failed), attempt=job.attempt + 1))
        else:
            self._metrics.count("PushesAbandoned", len(failed))
            _log.warning("%d push(es) abandoned after %d attempts", len(failed), MAX_FANOUT_ATTEMPTS)

    @contextmanager
    def best_effort(self, what: str) -> Iterator[None]:
        """A push never fails the action it follows, whose change (a message, a room, a connection) is already
        stored: its failure is logged and counted, never the caller's error."""
        try:
            yield
        except Exception as exc:
            self._metrics.count("PushFailures")
            _log.warning("%s push failed; the action stands: %s", what, type(exc).__name__)

    def _enqueue(self, job: FanoutJob) -> None:
        if self._queue is None:
            raise RuntimeError("fan_out needs the fan-out queue")
        self._queue.enqueue([job])

    def _deliver(self, targets: Sequence[Target], payload: bytes) -> list[RoomConnection]:
        """Post `payload` to every target, forget the gone ones; the ones that failed (to try again later)."""
        now = self._clock()
        live = {
            entry.connection_id: (room_id, entry) for room_id, entry in targets if entry.connection.expires_at > now
        }
        if not live:
            return []
        started = time.monotonic()
        delivery = self._notifier.post(list(live), payload)
        self._metrics.milliseconds("FanoutDuration", (time.monotonic() - started) * 1000)
        self._metrics.count("Recipients", delivery.delivered)
        if delivery.failed:
            self._metrics.count("FailedDeliveries", len(delivery.failed))
        opening = [cid for cid in delivery.gone if self._may_be_opening(live[cid][1].connection, now)]
        if opening:
            # 410 from a connection whose $connect may still be running: it opens right after, so keep it.
            self._metrics.count("PushesDroppedWhileOpening", len(opening))
            _log.info("%d push(es) dropped: connection still opening", len(opening))
        gone_by_room: dict[str | None, list[RoomConnection]] = {}
        for cid in delivery.gone:
            if cid not in opening:
                room_id, entry = live[cid]
                gone_by_room.setdefault(room_id, []).append(entry)
        if gone_by_room:
            self._metrics.count("GoneConnections", sum(len(entries) for entries in gone_by_room.values()))
            for room_id, entries in gone_by_room.items():
                self._store.forget_connections(room_id, entries)
        return [live[cid][1] for cid in delivery.failed]

    def _may_be_opening(self, connection: LiveConnection, now: float) -> bool:
        opened_at = connection.expires_at - self._connection_lifetime
        return now - opened_at < CONNECT_WINDOW_SECONDS


def _targets(job: FanoutJob, entries: Iterable[RoomConnection]) -> list[Target]:
    return [
        (job.room_id, entry)
        for entry in entries
        if entry.connection_id != job.skip_connection_id and entry.user_id != job.skip_user_id
    ]


def _kind(frame: p.ServerFrame) -> str:
    return str(type(frame).model_fields["type"].default)
