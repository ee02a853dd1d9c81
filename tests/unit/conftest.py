from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

import pytest

from chat import protocol as p
from chat.moderation import Moderator
from chat.ports import Identity
from chat.service import Caller, ChatService, Limits
from tests.fakes import InMemoryChatStore, RecordingNotifier, RecordingQueue


@pytest.fixture(autouse=True)
def _no_network(socket_disabled: None) -> None:
    """Unit tests never touch the network (pytest-socket)."""


T0 = 1_800_000_000.0


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class Chat:
    """The service wired to in-memory fakes, with a clock the test moves."""

    store: InMemoryChatStore = field(default_factory=InMemoryChatStore)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    queue: RecordingQueue = field(default_factory=RecordingQueue)
    clock: Clock = field(default_factory=Clock)
    moderation: str = "mask"
    limits: Limits = field(default_factory=lambda: Limits(rate_limit_frames=1000))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.service = ChatService(
            self.store,
            self.notifier,
            Moderator(self.moderation),  # type: ignore[arg-type]
            queue=self.queue,
            limits=self.limits,
            clock=self.clock,
        )

    def connect(self, name: str, user_id: str | None = None) -> Caller:
        identity = Identity(user_id or name.lower(), name, int(self.clock.now) + 3600)
        caller = Caller(f"conn-{next(self._ids)}", identity)
        self.service.connect(caller.connection_id, identity)
        return caller

    def send(self, caller: Caller, room_id: str, content: str = "hello", client_msg_id: str | None = None) -> p.Ack:
        frame = p.SendMessage(
            action="sendMessage",
            room_id=room_id,
            content=content,
            client_msg_id=client_msg_id or str(uuid.uuid4()),
        )
        reply = self.service.handle(caller, frame)
        assert isinstance(reply, p.Ack)
        return reply

    def group(self, owner: Caller, *members: Caller, name: str = "team") -> p.Room:
        reply = self.service.handle(
            owner, p.CreateRoom(action="createRoom", name=name, member_ids=[m.user_id for m in members])
        )
        assert isinstance(reply, p.RoomFrame)
        return reply.room


@pytest.fixture
def chat() -> Chat:
    return Chat()
