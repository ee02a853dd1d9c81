/* Matches replies to requests by `requestId`: the server handles one connection's frames concurrently, so
 * replies come in any order. Each request remembers its socket: when that socket goes, the request fails. */
import { ChatRequestError } from "./errors";
import type {
  Ack, ChangesPage, ClientFrame, ErrorFrame, HistoryPage, MessageFrame, MessageUpdated, ProfileFrame, ReactionFrame,
  PushRegistered, ReadFrame, RoomFrame, RoomMuted, RoomPresence, RoomsFrame, ServerFrame, SettingsFrame, SyncPage,
  UsersFrame,
} from "./protocol";

interface PendingRequest {
  socketId: number;
  action: string;
  resolve(frame: ServerFrame): void;
  reject(error: ChatRequestError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Requests {
  private readonly pending = new Map<string, PendingRequest>();
  private counter = 0;

  /** `onTimeout` is told which socket stayed silent: the client treats it as dead. */
  constructor(private readonly onTimeout: (socketId: number) => void) {}

  nextId(): string {
    this.counter += 1;
    return `r${this.counter}`;
  }

  track(requestId: string, socketId: number, action: string, timeoutMs: number): Promise<ServerFrame> {
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new ChatRequestError("timeout", `No reply to ${action} in ${Math.round(timeoutMs / 1000)} s`, { action }));
        this.onTimeout(socketId);
      }, timeoutMs);
      this.pending.set(requestId, { socketId, action, resolve, reject, timer });
    });
  }

  /** Settles the request a reply answers; false when the frame answers no request of ours. */
  settle(frame: ServerFrame): boolean {
    const requestId = frame.requestId;
    if (typeof requestId !== "string") return false;
    const request = this.pending.get(requestId);
    if (!request) return false;
    this.pending.delete(requestId);
    clearTimeout(request.timer);
    if (frame.type === "error") request.reject(ChatRequestError.fromFrame(frame as ErrorFrame));
    else request.resolve(frame);
    return true;
  }

  /** The socket closed: its replies will never come. */
  failSocket(socketId: number): void {
    for (const [requestId, request] of this.pending) {
      if (request.socketId !== socketId) continue;
      this.pending.delete(requestId);
      clearTimeout(request.timer);
      request.reject(new ChatRequestError("offline", "The connection closed before the reply", { action: request.action }));
    }
  }
}

/** Frames that get a reply (`typing` gets none when it works; `ping` is the connection's). */
export type RequestFrame = Exclude<ClientFrame, { action: "typing" } | { action: "ping" }>;

interface Replies {
  sendMessage: Ack;
  history: HistoryPage;
  createRoom: RoomFrame;
  openDirect: RoomFrame;
  addMembers: RoomFrame;
  leaveRoom: RoomFrame;
  listRooms: RoomsFrame;
  listUsers: UsersFrame;
  presence: RoomPresence;
  updateProfile: ProfileFrame;
  markRead: ReadFrame;
  editMessage: MessageUpdated;
  deleteMessage: MessageUpdated;
  addReaction: ReactionFrame;
  removeReaction: ReactionFrame;
  getMessage: MessageFrame;
  changes: ChangesPage;
  sync: SyncPage;
  removeMember: RoomFrame;
  renameRoom: RoomFrame;
  registerPush: PushRegistered;
  unregisterPush: PushRegistered;
  muteRoom: RoomMuted;
  updateSettings: SettingsFrame;
  getSettings: SettingsFrame;
}
export type ReplyTo<F extends RequestFrame> = Replies[F["action"]];

/** The `type` of the reply each action expects. */
export const replyTypes: { [A in RequestFrame["action"]]: Replies[A]["type"] } = {
  sendMessage: "ack",
  history: "history",
  createRoom: "room",
  openDirect: "room",
  addMembers: "room",
  leaveRoom: "room",
  listRooms: "rooms",
  listUsers: "users",
  presence: "presence",
  updateProfile: "profile",
  markRead: "read",
  editMessage: "messageUpdated",
  deleteMessage: "messageUpdated",
  addReaction: "reaction",
  removeReaction: "reaction",
  getMessage: "messageFound",
  changes: "changes",
  sync: "sync",
  removeMember: "room",
  renameRoom: "room",
  registerPush: "pushRegistered",
  unregisterPush: "pushRegistered",
  muteRoom: "roomMuted",
  updateSettings: "settings",
  getSettings: "settings",
};
