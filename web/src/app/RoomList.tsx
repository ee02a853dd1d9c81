import { memo, useEffect, useId, useRef } from "react";
import type { ChatSnapshot, RoomState, UserState } from "../client";
import { Avatar } from "./Avatar";
import { BellOffIcon } from "./icons";
import { formatListTime } from "./format";
import { useNow } from "./hooks";
import { badgeText } from "./reactions";
import { lastMessagePreview, otherMemberId, roomDisplayName } from "./rooms";

interface Props {
  snapshot: ChatSnapshot;
  meId: string;
  selectedId: string | null;
  /** Focus this room's entry (coming back from its conversation on a phone). */
  focusRoomId: string | null;
  onSelect: (roomId: string) => void;
  onNewGroup: () => void;
  onNewDirect: () => void;
  /** Showing the chats saved on this device (no connection yet): nothing can be created. */
  readOnly?: boolean;
}

const READ_ONLY_REASON = "Not connected: chats can be started once the connection is back.";

export function RoomList({ snapshot, meId, selectedId, focusRoomId, onSelect, onNewGroup, onNewDirect, readOnly = false }: Props) {
  const now = useNow(60_000);
  const listRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (!focusRoomId) return;
    listRef.current?.querySelector<HTMLElement>(`[data-room-id="${CSS.escape(focusRoomId)}"]`)?.focus();
  }, [focusRoomId]);

  return (
    <section className="rooms-pane" aria-labelledby="rooms-title">
      <div className="pane-header">
        <h2 id="rooms-title" className="pane-title">
          Chats
        </h2>
        <div className="pane-actions">
          <button type="button" className="button subtle small" onClick={onNewDirect} disabled={readOnly} title={readOnly ? READ_ONLY_REASON : undefined}>
            New direct chat
          </button>
          <button type="button" className="button subtle small" onClick={onNewGroup} disabled={readOnly} title={readOnly ? READ_ONLY_REASON : undefined}>
            New group
          </button>
        </div>
      </div>
      <nav aria-label="Rooms" className="rooms-nav">
        {!snapshot.roomsLoaded && snapshot.rooms.length === 0 ? (
          <p className="rooms-empty muted" aria-busy="true">
            {snapshot.connection.status === "online" || snapshot.connection.status === "connecting"
              ? "Loading chats…"
              : "Your chats appear once the connection is back."}
          </p>
        ) : snapshot.rooms.length === 0 ? (
          <p className="rooms-empty muted">No chats yet. Start a direct chat, or create a group.</p>
        ) : (
          <ul className="rooms" ref={listRef}>
            {snapshot.rooms.map((state) => (
              <RoomItem
                key={state.room.id}
                state={state}
                users={snapshot.users}
                meId={meId}
                selected={state.room.id === selectedId}
                now={now}
                onSelect={onSelect}
              />
            ))}
          </ul>
        )}
      </nav>
    </section>
  );
}

const RoomItem = memo(function RoomItem({
  state,
  users,
  meId,
  selected,
  now,
  onSelect,
}: {
  state: RoomState;
  users: Record<string, UserState>;
  meId: string;
  selected: boolean;
  now: number;
  onSelect: (roomId: string) => void;
}) {
  const { room, unreadCount } = state;
  const id = useId();
  const name = roomDisplayName(room, users, meId);
  const otherId = room.isGroup ? null : otherMemberId(room, meId);
  const other = otherId ? users[otherId] : undefined;
  const last = room.lastMessage;
  // The button's name is what it shows: "Bob, online, 10:24 AM, 3 unread" (starting with the room's name). The
  // preview is laid over the button but kept out of it, so that it does not make every room whose last message
  // mentions Bob answer to "Bob"; it describes the button instead.
  return (
    <li className={`room-item${unreadCount > 0 ? " has-unread" : ""}`}>
      <button
        type="button"
        className="room"
        aria-current={selected ? "true" : undefined}
        aria-describedby={`${id}-preview`}
        data-room-id={room.id}
        onClick={() => onSelect(room.id)}
      >
        <span className="room-avatar">
          <Avatar id={room.isGroup ? room.id : (otherId ?? room.id)} name={name} />
          {!room.isGroup && <span className={`presence-dot${other?.online ? " online" : ""}`} aria-hidden="true" />}
        </span>
        <span className="room-main">
          <span className="room-top">
            <span className="room-name">{name}</span>
            {room.muted && (
              <span className="room-muted" title="Notifications muted">
                <BellOffIcon size={14} />
                <span className="visually-hidden">, muted</span>
              </span>
            )}
            {!room.isGroup && <span className="visually-hidden">, {other?.online ? "online" : "offline"}</span>}
            {last && (
              <time className="room-time" dateTime={last.createdAt}>
                <span className="visually-hidden">, </span>
                {formatListTime(new Date(last.createdAt), new Date(now))}
              </time>
            )}
          </span>
          <span className="room-bottom">
            {unreadCount > 0 && (
              <span className="badge">
                <span className="visually-hidden">, </span>
                {badgeText(unreadCount)}
                <span className="visually-hidden"> unread</span>
              </span>
            )}
          </span>
        </span>
      </button>
      <span className="room-preview" id={`${id}-preview`} aria-hidden="true">
        {lastMessagePreview(room, meId)}
      </span>
    </li>
  );
});
