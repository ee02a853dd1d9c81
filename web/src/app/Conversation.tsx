/* One open room: its header (name, presence, members), the messages, who is typing and the composer.
 * Mounted per room (keyed by id), so every piece of view state starts fresh when another room opens. */

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { ChatClient, ChatMessage, Emoji, RoomState, UserState } from "../client";
import { Composer, type ComposerHandle } from "./Composer";
import { AddMembersDialog } from "./dialogs/AddMembersDialog";
import { ConfirmDialog } from "./dialogs/ConfirmDialog";
import { MembersDialog } from "./dialogs/MembersDialog";
import { describeRequestError, errorMessage, formatDay, formatPresence, formatTyping } from "./format";
import { useClient, useDocumentVisible, useNow } from "./hooks";
import { BackIcon, BellIcon, BellOffIcon, DownIcon } from "./icons";
import { MessageItem } from "./MessageItem";
import { MessageList, type MessageListHandle } from "./MessageList";
import { otherMemberId, roomDisplayName } from "./rooms";
import { buildRows, NEW_MESSAGES_KEY, type Row } from "./timeline";
import { useToast } from "./Toasts";
import type { ChatRequestError } from "../client";

interface Props {
  state: RoomState;
  users: Record<string, UserState>;
  me: { id: string; name: string };
  narrow: boolean;
  /** Opened by the user just now (not restored on reload): focus moves into the conversation. */
  focusOnOpen: boolean;
  online: boolean;
  /** Showing the copy saved on this device (no connection yet): read-only until the client has loaded the room. */
  readOnly?: boolean;
  /** Opened from a notification: show (and highlight) the message of this seq once the room is loaded. */
  showSeq?: number | null;
  onBack: () => void;
}

/** Why the composer and the actions are off in a read-only (saved) conversation. */
export const READ_ONLY_REASON = "Offline: showing the messages saved on this device. Sending works again once connected.";

const HIGHLIGHT_MS = 2000;
/** A reply's parent at most this many messages before the oldest loaded is loaded in place; further, fetched alone. */
const MAX_JUMP_BACK = 500;

export function Conversation({ state, users, me, narrow, focusOnOpen, online, readOnly = false, showSeq = null, onBack }: Props) {
  const client = useClient();
  const toast = useToast();
  const { room, messages, isAdmin } = state;
  const roomId = room.id;
  const name = roomDisplayName(room, users, me.id);
  const list = useRef<MessageListHandle>(null);
  const composer = useRef<ComposerHandle>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [highlightId, setHighlightId] = useState<string | null>(null);
  const [atBottom, setAtBottom] = useState(false); // until the list has placed itself
  const [addingMembers, setAddingMembers] = useState(false);
  const [showingMembers, setShowingMembers] = useState(false);
  const [editingKey, setEditingKey] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const [leaving, setLeaving] = useState(false);
  const visible = useDocumentVisible();

  // What was unread when the room opened: the "New messages" separator stays there while the room is open.
  const [unreadAfterSeq] = useState(() => (state.unreadCount > 0 ? state.readSeq : null));
  const rows = useMemo(() => buildRows(messages, { unreadAfterSeq, meId: me.id }), [messages, unreadAfterSeq, me.id]);
  const byId = useMemo(() => new Map(messages.flatMap((m) => (m.id ? [[m.id, m] as const] : []))), [messages]);

  // The list shows once the latest page is there, so it can open at the first unread message.
  const [ready, setReady] = useState(false);
  useEffect(() => {
    // The saved copy is all there is until the client has the rooms: it loads the room then.
    if (readOnly) {
      setReady(true);
      return;
    }
    // Back from the saved copy: "Loading messages…" until the client has them, not an empty room.
    if (!client.getSnapshot().rooms.some((s) => s.room.id === roomId && s.messages.length > 0)) setReady(false);
    client
      .openRoom(roomId)
      .catch((error: unknown) => toast(`Could not load the messages: ${describe(error)}`))
      .finally(() => setReady(true));
    client.refreshPresence(roomId).catch(() => {
      // Presence is a nicety: the header shows what is known.
    });
  }, [client, roomId, toast, readOnly]);

  // On a phone the room list disappears: focus moves to the conversation's heading (not the composer: that
  // would pop the keyboard up over the messages). With a keyboard, to the composer, so typing starts at once.
  useEffect(() => {
    if (narrow) heading.current?.focus();
    else if (focusOnOpen && window.matchMedia("(pointer: fine)").matches) composer.current?.focus();
    // Only when the room opens.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Read up to the newest loaded message while the end of the list is on screen and the tab is visible.
  const newestSeq = useMemo(() => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const seq = messages[i]?.seq;
      if (seq !== null && seq !== undefined) return seq;
    }
    return 0;
  }, [messages]);
  useEffect(() => {
    if (!readOnly && atBottom && visible && newestSeq > state.readSeq) client.markRead(roomId, newestSeq);
  }, [readOnly, atBottom, visible, newestSeq, state.readSeq, client, roomId]);

  // A read receipt under the user's newest message: "Seen" in a direct chat, "Seen by N" in a group.
  const seen = useMemo(() => {
    const last = [...messages].reverse().find((m) => m.senderId === me.id && m.seq !== null && m.deletedAt === null);
    const seq = last?.seq;
    if (!last || seq === null || seq === undefined) return null;
    const readers = Object.entries(state.readBy).filter(([id, read]) => id !== me.id && read >= seq).length;
    if (readers === 0) return null;
    return { key: last.key, label: room.isGroup ? `Seen by ${readers}` : "Seen" };
  }, [messages, state.readBy, me.id, room.isGroup]);

  const loadOlder = useCallback(() => {
    if (readOnly) return;
    client.loadOlder(roomId).catch((error: unknown) => toast(`Could not load older messages: ${describe(error)}`));
  }, [client, roomId, toast, readOnly]);

  const highlight = useCallback((id: string) => {
    setHighlightId(id);
    window.setTimeout(() => setHighlightId((current) => (current === id ? null : current)), HIGHLIGHT_MS);
  }, []);

  // Opened from a notification: to its message (loading older pages back to it when a few are missing).
  useEffect(() => {
    if (!ready || readOnly || showSeq === null) return;
    let cancelled = false;
    const find = () => client.getSnapshot().rooms.find((s) => s.room.id === roomId)?.messages.find((m) => m.seq === showSeq);
    const oldest = client.getSnapshot().rooms.find((s) => s.room.id === roomId)?.messages.find((m) => m.seq !== null)?.seq ?? null;
    void (async () => {
      if (oldest !== null && oldest - showSeq <= MAX_JUMP_BACK) await loadOlderUntil(client, roomId, () => find() !== undefined).catch(() => undefined);
      const target = find();
      if (cancelled || !target?.id) return;
      list.current?.scrollToRow(target.key);
      highlight(target.id);
    })();
    return () => {
      cancelled = true;
    };
  }, [ready, readOnly, showSeq, client, roomId, highlight]);

  // Jump to a reply's parent: load older pages back to it (its seq is in the reply's preview), else fetch it alone.
  const jumpToParent = useCallback(
    async (message: ChatMessage) => {
      const parentId = message.replyToId;
      if (!parentId) return;
      const loaded = () =>
        client.getSnapshot().rooms.find((s) => s.room.id === roomId)?.messages.some((m) => m.id === parentId) ?? false;
      try {
        const parentSeq = message.replyTo?.seq;
        const oldest = client.getSnapshot().rooms.find((s) => s.room.id === roomId)?.messages.find((m) => m.seq !== null)?.seq ?? null;
        // Near enough (a few pages): load the pages between, so the parent shows in place.
        if (parentSeq === undefined || oldest === null || oldest - parentSeq <= MAX_JUMP_BACK) {
          await loadOlderUntil(client, roomId, loaded);
        }
        if (!loaded() && !client.getMessage(roomId, parentId)) await client.fetchMessage(roomId, parentId);
      } catch (error) {
        toast(`Could not load the original message: ${describe(error)}`);
        return;
      }
      const parent = client.getMessage(roomId, parentId);
      if (!parent) {
        toast("The original message could not be found.");
        return;
      }
      if (!loaded()) {
        // Too far back to load every page between: say what it was.
        toast(`${parent.senderName} wrote: ${parent.deletedAt ? "(deleted)" : parent.content.slice(0, 200)}`);
        return;
      }
      list.current?.scrollToRow(parent.key);
      highlight(parentId);
      // Focus follows for keyboard and screen-reader users, once the row is rendered.
      requestAnimationFrame(() =>
        requestAnimationFrame(() =>
          document.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(parentId)}"]`)?.focus({ preventScroll: true }),
        ),
      );
    },
    [client, roomId, toast, highlight],
  );

  const startEdit = useCallback((message: ChatMessage | null) => setEditingKey(message?.key ?? null), []);
  const saveEdit = useCallback(
    (message: ChatMessage, content: string) => {
      if (!message.id) return;
      client
        .editMessage(roomId, message.id, content)
        .then(() => setEditingKey((current) => (current === message.key ? null : current)))
        .catch((error: unknown) => toast(`Could not edit the message: ${describe(error)}`));
    },
    [client, roomId, toast],
  );
  const react = useCallback(
    (message: ChatMessage, emoji: Emoji) => {
      if (!message.id) return;
      client.toggleReaction(roomId, message.id, emoji).catch((error: unknown) => toast(`Could not react: ${describe(error)}`));
    },
    [client, roomId, toast],
  );

  const reply = useCallback((message: ChatMessage) => setReplyTo(message), []);
  const retry = useCallback((message: ChatMessage) => client.retry(message.clientMsgId), [client]);
  const discard = useCallback((message: ChatMessage) => client.discard(message.clientMsgId), [client]);
  const jump = useCallback((message: ChatMessage) => void jumpToParent(message), [jumpToParent]);

  const now = useNow(60_000);
  const renderRow = useCallback(
    (row: Row) => {
      if (row.kind === "day") {
        return (
          <div className="day-separator" role="separator" aria-label={formatDay(row.date, new Date(now))}>
            <span aria-hidden="true">{formatDay(row.date, new Date(now))}</span>
          </div>
        );
      }
      if (row.kind === "new") {
        return (
          <div className="new-separator" role="separator" aria-label="New messages">
            <span aria-hidden="true">New messages</span>
          </div>
        );
      }
      const message = row.message;
      const own = message.senderId === me.id;
      return (
        <MessageItem
          message={message}
          groupStart={row.groupStart}
          own={own}
          parent={message.replyToId ? (byId.get(message.replyToId) ?? client.getMessage(roomId, message.replyToId)) : undefined}
          highlighted={message.id !== null && message.id === highlightId}
          canDelete={own || isAdmin}
          editing={message.key === editingKey}
          seenLabel={seen?.key === message.key ? seen.label : undefined}
          readOnly={readOnly}
          onReply={reply}
          onJumpToParent={jump}
          onRetry={retry}
          onDiscard={discard}
          onEdit={startEdit}
          onSaveEdit={saveEdit}
          onDelete={setDeleting}
          onReact={react}
        />
      );
    },
    [now, me.id, byId, highlightId, reply, jump, retry, discard, client, roomId, isAdmin, editingKey, startEdit, saveEdit, react, seen, readOnly],
  );

  const leave = async () => {
    setLeaving(true);
    try {
      await client.leaveRoom(roomId);
      // The room disappears from the snapshot; ChatScreen closes it.
    } catch (error) {
      toast(`Could not leave ${name}: ${describe(error)}`);
      setLeaving(false);
    }
  };

  const sent = useCallback(() => {
    setReplyTo(null);
    list.current?.scrollToBottom();
  }, []);

  const typingNames = state.typing.filter((user) => user.userId !== me.id).map((user) => user.userName);
  const initialRow = rows.some((row) => row.key === NEW_MESSAGES_KEY) ? NEW_MESSAGES_KEY : null;

  return (
    <section className="conversation" aria-labelledby={`${roomId}-title`}>
      <header className="conversation-header">
        {narrow && (
          <button type="button" className="icon-button back" onClick={onBack} aria-label="Back to chats" title="Back to chats">
            <BackIcon />
          </button>
        )}
        <div className="conversation-title">
          <h2 id={`${roomId}-title`} ref={heading} tabIndex={-1}>
            {name}
          </h2>
          <RoomSubtitle state={state} users={users} meId={me.id} />
        </div>
        <div className="conversation-actions">
          {!readOnly && (
            <button
              type="button"
              className={`button subtle small mute-toggle${room.muted ? " is-muted" : ""}`}
              aria-pressed={room.muted}
              aria-label="Mute notifications"
              onClick={() => void client.muteRoom(roomId, !room.muted).catch((error: unknown) => toast(`Could not change the notifications: ${describe(error)}`))}
              title={room.muted ? "No notifications from this chat: click to unmute" : "Mute this chat's notifications"}
            >
              {room.muted ? <BellOffIcon size={14} /> : <BellIcon size={14} />}
              {!narrow && <span aria-hidden="true">{room.muted ? "Muted" : "Mute"}</span>}
            </button>
          )}
          {room.isGroup && (
            <>
            <button type="button" className="button subtle small" onClick={() => setShowingMembers(true)} disabled={readOnly} title={readOnly ? READ_ONLY_REASON : undefined}>
              Members
            </button>
            {isAdmin && !narrow && !readOnly && (
              <button type="button" className="button subtle small" onClick={() => setAddingMembers(true)}>
                Add members
              </button>
            )}
            <button type="button" className="button subtle small danger" onClick={() => void leave()} disabled={leaving || readOnly} title={readOnly ? READ_ONLY_REASON : undefined}>
              Leave
            </button>
            </>
          )}
        </div>
      </header>
      <div className="conversation-body">
        {ready && (
        <MessageList
          handle={list}
          rows={rows}
          renderRow={renderRow}
          hasOlder={state.hasOlder}
          loadingOlder={state.loadingOlder}
          onLoadOlder={loadOlder}
          onAtBottomChange={setAtBottom}
          initialRow={initialRow}
        />
        )}
        {(!ready || rows.length === 0) && (
          <p className="conversation-empty muted">
            {!ready ? "Loading messages…" : room.lastSeq > 0 ? "The messages load once you are connected." : "No messages yet. Say hello!"}
          </p>
        )}
        {!atBottom && (
          <button type="button" className="button jump-latest" onClick={() => list.current?.scrollToBottom()}>
            Jump to latest <DownIcon />
          </button>
        )}
      </div>
      <div className="typing" role="status" aria-label="Typing">
        {formatTyping(typingNames)}
      </div>
      <Composer
        key={roomId}
        handle={composer}
        roomId={roomId}
        roomName={name}
        replyTo={replyTo}
        onCancelReply={() => {
          setReplyTo(null);
          composer.current?.focus();
        }}
        onSent={sent}
        offlineHint={!online}
        disabledReason={readOnly ? READ_ONLY_REASON : null}
      />
      {addingMembers && <AddMembersDialog room={room} meId={me.id} onClose={() => setAddingMembers(false)} />}
      {showingMembers && (
        <MembersDialog
          room={room}
          users={users}
          meId={me.id}
          isAdmin={isAdmin}
          onClose={() => setShowingMembers(false)}
          onAddMembers={() => {
            setShowingMembers(false);
            setAddingMembers(true);
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title="Delete message?"
          quote={deleting.content}
          text={
            deleting.senderId === me.id
              ? "It is deleted for everyone in the chat. This cannot be undone."
              : `This deletes ${deleting.senderName}'s message for everyone in the chat. This cannot be undone.`
          }
          confirmLabel="Delete"
          onConfirm={() => (deleting.id ? client.deleteMessage(roomId, deleting.id) : Promise.resolve())}
          onClose={() => setDeleting(null)}
        />
      )}
    </section>
  );
}

/** Loads older pages until `found()` or the start of the room (or ~10 s without progress: a load already under
 * way makes loadOlder return at once, so wait for it rather than spin). */
async function loadOlderUntil(client: ChatClient, roomId: string, found: () => boolean): Promise<void> {
  const loaded = () => client.getSnapshot().rooms.find((state) => state.room.id === roomId);
  let idle = 0;
  while (!found()) {
    const before = loaded();
    if (!before?.hasOlder) return;
    await client.loadOlder(roomId);
    if ((loaded()?.messages.length ?? 0) > before.messages.length) {
      idle = 0;
    } else {
      if (++idle > 100) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** "Online" / "Last seen …" for a direct room; the member count for a group. */
function RoomSubtitle({ state, users, meId }: { state: RoomState; users: Record<string, UserState>; meId: string }) {
  const now = useNow(30_000);
  const { room } = state;
  if (room.isGroup) {
    const names = room.memberIds
      .filter((id) => id !== meId)
      .map((id) => users[id]?.name)
      .filter(Boolean)
      .slice(0, 5);
    const count = `${room.memberCount} member${room.memberCount === 1 ? "" : "s"}`;
    return (
      <p className="conversation-subtitle muted" title={names.join(", ")}>
        {count}
        {names.length > 0 && ` · You, ${names.join(", ")}${room.memberCount > names.length + 1 ? "…" : ""}`}
      </p>
    );
  }
  const otherId = otherMemberId(room, meId);
  const other = otherId ? users[otherId] : undefined;
  if (!other) return null;
  return (
    <p className={`conversation-subtitle presence-text${other.online ? " online" : ""}`}>
      {formatPresence(other.online, other.lastSeen, new Date(now))}
    </p>
  );
}

function describe(error: unknown): string {
  const code = (error as Partial<ChatRequestError>)?.code;
  return code ? describeRequestError(error as ChatRequestError) : errorMessage(error);
}
