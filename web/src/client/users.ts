/* Everyone the client has seen: members, search results, presence. Names come from profiles, searches and the
 * `presence` reply (which names every member of a room), else from the senderName of messages. */
import type { MemberPresence, Message, PresencePush, UserInfo } from "./protocol";
import type { UserState } from "./types";

export function toUserState(user: UserInfo): UserState {
  return { id: user.id, name: user.name, avatarUrl: user.avatarUrl ?? null, online: user.online, lastSeen: user.lastSeen ?? null };
}

export class Users {
  private users = new Map<string, UserState>();
  private view: Record<string, UserState> | null = null;

  /** `onChange` runs after every real change (not for a frame that repeats what is known). */
  constructor(private readonly onChange: () => void) {}

  get(id: string): UserState | undefined {
    return this.users.get(id);
  }

  /** The snapshot's record: the same object until a user changes. */
  record(): Record<string, UserState> {
    this.view ??= Object.fromEntries(this.users);
    return this.view;
  }

  clear(): void {
    this.users = new Map();
    this.view = null;
  }

  /** A profile (profile frame, search result): the most current name and avatar. */
  applyProfile(user: UserInfo): UserState {
    this.set(toUserState(user));
    return this.users.get(user.id) ?? toUserState(user);
  }

  /** Returns the user when their presence changed. */
  applyPresence(presence: MemberPresence | PresencePush): UserState | null {
    const known = this.users.get(presence.userId);
    // A presence reply names the member; a presence push does not (the name is known from elsewhere).
    const named = "name" in presence ? presence : null;
    const user: UserState = {
      id: presence.userId,
      name: named?.name || known?.name || "",
      avatarUrl: named ? (named.avatarUrl ?? null) : (known?.avatarUrl ?? null),
      online: presence.online,
      lastSeen: presence.lastSeen ?? null,
    };
    return this.set(user) ? user : null;
  }

  /** Names a user from a message unless a profile or a search already did (those are more current). */
  learnSender(message: Message): void {
    const known = this.users.get(message.senderId);
    if (known?.name) return;
    const base = known ?? { id: message.senderId, avatarUrl: null, online: false, lastSeen: null };
    this.set({ ...base, name: message.senderName });
  }

  private set(user: UserState): boolean {
    const known = this.users.get(user.id);
    if (known && sameUser(known, user)) return false;
    this.users.set(user.id, user);
    this.view = null;
    this.onChange();
    return true;
  }
}

function sameUser(a: UserState, b: UserState): boolean {
  return a.name === b.name && a.avatarUrl === b.avatarUrl && a.online === b.online && a.lastSeen === b.lastSeen;
}
