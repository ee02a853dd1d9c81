"""The ChatStore contract of notification settings: a user's devices (bounded, replaced by endpoint), per-room mute
and the preview setting. Tests taking `store` run against every store (see conftest.STORE_FACTORIES)."""

from __future__ import annotations

import pytest

from chat.errors import Forbidden, NotFound
from chat.ports import ChatStore, PushSubscription
from tests.integration.test_dynamo_store import connect, draft, group


def device(n: int, created_at: str = "2027-01-15T08:00:00.000Z") -> PushSubscription:
    return PushSubscription(f"https://push.test/endpoint/{n}", f"key{n}", f"auth{n}", created_at)


def test_a_device_registered_again_is_replaced_and_the_oldest_go_past_the_limit(store: ChatStore) -> None:
    for n in range(4):
        store.add_push_subscription("alice", device(n, f"2027-01-15T08:00:0{n}.000Z"), keep=3)
    again = PushSubscription(device(2).endpoint, "newkey", "newauth", "2027-01-15T08:00:09.000Z")
    store.add_push_subscription("alice", again, keep=3)

    found = store.push_subscriptions(["alice", "bob"])

    assert set(found) == {"alice"}
    assert sorted(d.endpoint for d in found["alice"]) == [device(n).endpoint for n in (1, 2, 3)]
    assert next(d for d in found["alice"] if d.endpoint == again.endpoint).p256dh == "newkey"


def test_a_device_is_removed_once(store: ChatStore) -> None:
    store.add_push_subscription("alice", device(1), keep=10)

    assert store.remove_push_subscription("alice", device(1).endpoint) is True
    assert store.remove_push_subscription("alice", device(1).endpoint) is False
    assert store.push_subscriptions(["alice"]) == {}


def test_a_member_mutes_and_unmutes_a_room_for_themselves_only(store: ChatStore) -> None:
    room = group(store, "alice", "bob")

    store.set_muted(room.id, "bob", True)
    assert [(r.room.id, r.muted) for r in store.rooms_of("bob")] == [(room.id, True)]
    assert [r.muted for r in store.rooms_of("alice")] == [False]

    store.set_muted(room.id, "bob", False)
    assert [r.muted for r in store.rooms_of("bob")] == [False]
    with pytest.raises(Forbidden):
        store.set_muted(room.id, "eve", True)


def test_the_preview_setting_is_kept_on_the_profile(store: ChatStore) -> None:
    connect(store, "alice", "c1")
    assert store.get_users(["alice"])["alice"].show_previews is True

    assert store.set_show_previews("alice", False).show_previews is False
    assert store.get_users(["alice"])["alice"].show_previews is False
    assert store.set_show_previews("alice", True).show_previews is True
    with pytest.raises(NotFound):
        store.set_show_previews("nobody", False)


def test_member_settings_give_each_members_read_marker_and_mute(store: ChatStore) -> None:
    room = group(store, "alice", "bob", "carol")
    store.append_message(draft(room.id))
    store.mark_read(room.id, "bob", 1)
    store.set_muted(room.id, "carol", True)

    assert store.member_settings(room.id, ["alice", "bob", "carol", "eve"]) == {
        "alice": (0, False),
        "bob": (1, False),
        "carol": (0, True),
    }
