/* The signed-in app: one ChatClient for the session, the room list beside the open conversation (one or the
 * other on a phone), dialogs, error toasts and the screen-reader announcer. */

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { AppConfig, Auth, SignedInUser } from "../auth";
import { ChatClient, type ChatSnapshot, type OfflineSnapshots } from "../client";
import { Announcer, useAnnouncer } from "./Announcer";
import { Conversation } from "./Conversation";
import { NewDirectDialog } from "./dialogs/NewDirectDialog";
import { NewGroupDialog } from "./dialogs/NewGroupDialog";
import { NotificationsDialog } from "./dialogs/NotificationsDialog";
import { describeRequestError } from "./format";
import { ClientContext, useChatSnapshot, useClient, useMediaQuery } from "./hooks";
import { mayKeepOffline, offlineSnapshots, userStore } from "./offline";
import { currentSubscription } from "./push";
import { RoomList } from "./RoomList";
import { roomDisplayName } from "./rooms";
import { ToastProvider, useToast } from "./Toasts";
import { TopBar } from "./TopBar";

interface Props {
  config: AppConfig;
  auth: Auth;
  user: SignedInUser;
  onSignOut: () => void;
  onSessionEnded: (reason: string) => void;
}

/** Narrow screens show the room list or the conversation, not both. */
const NARROW = "(max-width: 760px)";
const SELECTED_ROOM_KEY = "chat.openRoom";

export function ChatScreen({ config, auth, user, onSignOut, onSessionEnded }: Props) {
  const [client, setClient] = useState<ChatClient | null>(null);

  useEffect(() => {
    const chat = new ChatClient({
      url: config.websocketUrl,
      getToken: (options) => auth.getAccessToken(options),
      storage: userStore(user.id),
    });
    chat.start({ id: user.id, name: user.name });
    const stopTokenWatch = auth.onTokenChanged(() => chat.tokenRefreshed());
    // The browser knows before the socket does that the network is gone (or back): tell the client.
    const networkChanged = () => chat.setNetworkOnline(navigator.onLine);
    window.addEventListener("online", networkChanged);
    window.addEventListener("offline", networkChanged);
    if (!navigator.onLine) networkChanged();
    // Subscribed before (this session or an earlier one): the client registers the device on every open.
    void currentSubscription().then((subscription) => {
      if (subscription) chat.setPushSubscription(subscription.toJSON()).catch(() => undefined); // offline: the open does it
    });
    setClient(chat);
    return () => {
      stopTokenWatch();
      window.removeEventListener("online", networkChanged);
      window.removeEventListener("offline", networkChanged);
      chat.stop();
    };
  }, [config, auth, user.id, user.name]);

  if (!client) return null;
  return (
    <ClientContext.Provider value={client}>
      <ToastProvider>
        <ChatLayout user={user} onSignOut={onSignOut} onSessionEnded={onSessionEnded} />
      </ToastProvider>
    </ClientContext.Provider>
  );
}

function ChatLayout({ user, onSignOut, onSessionEnded }: Omit<Props, "config" | "auth">) {
  const client = useClient();
  const live = useChatSnapshot(client);
  const offline = useOfflineCopy(user.id, live);
  // Until the client has loaded the rooms (no network, or still connecting), the copy saved last time, read-only.
  const readOnly = !live.roomsLoaded && offline.saved !== null;
  const snapshot: ChatSnapshot = readOnly && offline.saved ? { ...offline.saved, connection: live.connection } : live;
  const toast = useToast();
  const narrow = useMediaQuery(NARROW);
  const [fromUrl] = useState(() => roomFromUrl());
  const [selectedId, setSelectedId] = useState<string | null>(() => fromUrl?.roomId ?? readSelectedRoom());
  /** The message a notification pointed at, in the room it opened. */
  const [shown, setShown] = useState<{ roomId: string; seq: number } | null>(() =>
    fromUrl?.seq ? { roomId: fromUrl.roomId, seq: fromUrl.seq } : null,
  );
  const [dialog, setDialog] = useState<"group" | "direct" | "notifications" | null>(null);
  const [focusRoomId, setFocusRoomId] = useState<string | null>(null);
  const [openedByUser, setOpenedByUser] = useState(false);
  const me = snapshot.me ?? user;
  const selected = snapshot.rooms.find((state) => state.room.id === selectedId) ?? null;
  const { announcements, announce } = useAnnouncer();

  const select = useCallback((roomId: string | null, seq: number | null = null) => {
    setSelectedId(roomId);
    setShown(roomId !== null && seq !== null ? { roomId, seq } : null);
    setOpenedByUser(roomId !== null);
    writeSelectedRoom(roomId);
  }, []);

  useWorkerMessages(select, selectedId);

  // Its latest messages are kept for offline use.
  const openedId = selected?.room.id ?? null;
  useEffect(() => {
    if (openedId) offline.snapshots.opened(openedId);
  }, [openedId, offline.snapshots]);

  // A room that is gone (left here or in another tab) closes.
  useEffect(() => {
    if (!readOnly && snapshot.roomsLoaded && selectedId && !selected) select(null);
  }, [readOnly, snapshot.roomsLoaded, selectedId, selected, select]);

  useEffect(() => {
    if (snapshot.connection.status === "signedOut") onSessionEnded(snapshot.connection.reason);
  }, [snapshot.connection, onSessionEnded]);

  useEffect(() => client.on("error", (event) => toast(describeRequestError(event.error))), [client, toast]);

  // Removed by an admin: the room is gone from the list (and closes, below); say so.
  const usersRef = useRef(snapshot.users);
  usersRef.current = snapshot.users;
  useEffect(
    () =>
      client.on("removed", ({ room, byUserId }) => {
        const name = room ? roomDisplayName(room, usersRef.current, user.id) : "a group";
        const by = usersRef.current[byUserId]?.name;
        toast(`You were removed from ${name}${by ? ` by ${by}` : ""}.`);
      }),
    [client, toast, user.id],
  );

  // Announce live messages from others (never loaded history): see Announcer.tsx.
  const latest = useRef({ selectedId, snapshot, meId: me.id });
  latest.current = { selectedId, snapshot, meId: me.id };
  useEffect(
    () =>
      client.on("message", ({ message, live }) => {
        const { selectedId: openId, snapshot: current, meId } = latest.current;
        if (!live || message.senderId === meId) return;
        if (message.roomId === openId) {
          announce(`${message.senderName}: ${message.content}`);
        } else {
          const room = current.rooms.find((state) => state.room.id === message.roomId)?.room;
          const where = room?.isGroup ? ` in ${roomDisplayName(room, current.users, meId)}` : "";
          announce(`New message from ${message.senderName}${where}`, { quiet: true });
        }
      }),
    [client, announce],
  );

  useDocumentTitle(snapshot);
  useDirectPresence(client, snapshot);

  const back = useCallback(() => {
    setFocusRoomId(selectedId);
    select(null);
  }, [selectedId, select]);

  const opened = useCallback(
    (roomId: string) => {
      setDialog(null);
      select(roomId);
    },
    [select],
  );

  const view = narrow && selected ? "conversation" : "list";
  return (
    <div className="app" data-view={view} data-saved-copy={readOnly || undefined}>
      <TopBar me={me} connection={snapshot.connection} onSignOut={onSignOut} onNotifications={readOnly ? undefined : () => setDialog("notifications")} />
      {readOnly && offline.saved && (
        <p className="offline-note" role="note">
          Showing the chats saved on this device{savedWhen(offline.savedAt)}. They update once the connection is back.
        </p>
      )}
      <main className="workspace">
        <div className="sidebar">
          <RoomList
            snapshot={snapshot}
            meId={me.id}
            selectedId={selected?.room.id ?? null}
            focusRoomId={focusRoomId}
            onSelect={select}
            onNewGroup={() => setDialog("group")}
            onNewDirect={() => setDialog("direct")}
            readOnly={readOnly}
          />
        </div>
        <div className="main">
          {selected ? (
            <Conversation
              key={selected.room.id}
              state={selected}
              users={snapshot.users}
              me={me}
              narrow={narrow}
              focusOnOpen={openedByUser}
              online={snapshot.connection.status === "online"}
              readOnly={readOnly}
              showSeq={shown?.roomId === selected.room.id ? shown.seq : null}
              onBack={back}
            />
          ) : (
            <div className="empty-state">
              <p className="empty-title">No conversation open</p>
              <p className="muted">Pick a chat on the left, start a direct chat or create a group.</p>
            </div>
          )}
        </div>
      </main>
      {dialog === "group" && <NewGroupDialog meId={me.id} onClose={() => setDialog(null)} onCreated={opened} />}
      {dialog === "direct" && <NewDirectDialog meId={me.id} onClose={() => setDialog(null)} onOpened={opened} />}
      {dialog === "notifications" && <NotificationsDialog settings={snapshot.notifications} onClose={() => setDialog(null)} />}
      <Announcer announcements={announcements} />
    </div>
  );
}

/** Keeps a bounded copy of the chats for offline use (saved a second after they change, and when the page
 * goes away); `saved` is the copy found when the screen opened. */
const OFFLINE_SAVE_DELAY_MS = 1000;

function useOfflineCopy(userId: string, live: ChatSnapshot) {
  const snapshots = useMemo<OfflineSnapshots>(() => offlineSnapshots(userId), [userId]);
  const [found] = useState(() => snapshots.load(userId));
  const latest = useRef(live);
  latest.current = live;
  useEffect(() => {
    if (!live.roomsLoaded) return;
    const timer = window.setTimeout(() => mayKeepOffline(userId) && snapshots.save(live), OFFLINE_SAVE_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [live, snapshots, userId]);
  useEffect(() => {
    const flush = () => mayKeepOffline(userId) && snapshots.save(latest.current);
    window.addEventListener("pagehide", flush);
    return () => window.removeEventListener("pagehide", flush);
  }, [snapshots, userId]);
  return { snapshots, saved: found?.snapshot ?? null, savedAt: found?.savedAt ?? null };
}

function savedWhen(savedAt: number | null): string {
  if (savedAt === null) return "";
  const date = new Date(savedAt);
  return ` at ${date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`;
}

/** Presence dots of the direct chats in the list: presence pushes only tell changes, so after each connect the
 * most recent direct rooms ask once (a few, one after the other: every frame counts against the flood budget). */
const DIRECT_PRESENCE_ROOMS = 8;

function useDirectPresence(client: ChatClient, snapshot: ChatSnapshot) {
  const online = snapshot.connection.status === "online";
  const since = snapshot.connection.status === "online" ? snapshot.connection.since : 0;
  const directIds = snapshot.roomsLoaded
    ? snapshot.rooms
        .filter((state) => !state.room.isGroup)
        .slice(0, DIRECT_PRESENCE_ROOMS)
        .map((state) => state.room.id)
        .join(" ")
    : "";
  const asked = useRef(new Map<string, number>()); // room id -> connection it was asked on
  useEffect(() => {
    if (!online || !directIds) return;
    let cancelled = false;
    (async () => {
      for (const roomId of directIds.split(" ")) {
        if (cancelled) return;
        if (asked.current.get(roomId) === since) continue;
        asked.current.set(roomId, since);
        await client.refreshPresence(roomId).catch(() => {
          // A dot left grey is better than an error toast for a nicety.
        });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [client, online, since, directIds]);
}

/** "(3) Chat" while messages are unread. */
function useDocumentTitle(snapshot: ChatSnapshot) {
  const unread = snapshot.rooms.reduce((sum, state) => sum + state.unreadCount, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Chat` : "Chat";
  }, [unread]);
}

/** A notification opened the app at `/?room=<id>&seq=<seq>`: that room opens at that message (the address is
 * then tidied). */
function roomFromUrl(): { roomId: string; seq: number | null } | null {
  const params = new URLSearchParams(window.location.search);
  const roomId = params.get("room");
  if (!roomId) return null;
  const seq = Number(params.get("seq") ?? NaN);
  params.delete("room");
  params.delete("seq");
  const rest = params.toString();
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${rest ? `?${rest}` : ""}${window.location.hash}`);
  writeSelectedRoom(roomId);
  return { roomId, seq: Number.isInteger(seq) && seq > 0 ? seq : null };
}

/** The service worker asks which room this window shows (no notification for it), and tells it to open the
 * room of a clicked notification. */
function useWorkerMessages(select: (roomId: string | null, seq?: number | null) => void, selectedId: string | null) {
  const shown = useRef(selectedId);
  shown.current = selectedId;
  useEffect(() => {
    if (!("serviceWorker" in navigator)) return;
    const container = navigator.serviceWorker;
    const received = (event: MessageEvent) => {
      const data = (event.data ?? {}) as { type?: string; roomId?: string; seq?: unknown };
      if (data.type === "openRoom" && typeof data.roomId === "string") select(data.roomId, typeof data.seq === "number" ? data.seq : null);
      if (data.type === "whichRoom") {
        event.ports[0]?.postMessage({ roomId: document.visibilityState === "visible" ? shown.current : null });
      }
    };
    container.addEventListener("message", received);
    return () => container.removeEventListener("message", received);
  }, [select]);
}

function readSelectedRoom(): string | null {
  try {
    return sessionStorage.getItem(SELECTED_ROOM_KEY);
  } catch {
    return null;
  }
}

function writeSelectedRoom(roomId: string | null) {
  try {
    if (roomId) sessionStorage.setItem(SELECTED_ROOM_KEY, roomId);
    else sessionStorage.removeItem(SELECTED_ROOM_KEY);
  } catch {
    // Storage refused: the open room is simply not remembered across reloads.
  }
}
