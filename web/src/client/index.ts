/* The chat's protocol client: framework-free TypeScript, usable from any JavaScript app (React Native too).
 * The app reads `getSnapshot()` / `subscribe()` (React's useSyncExternalStore) and listens to `on(...)` events. */
export * from "./protocol"; // generated types
export type {
  ChatEvent, ChatMessage, ChatSnapshot, ClientErrorCode, ClientOptions, ConnectionState, Emoji, MessageStatus, RoomState,
  TypingUser, UserState, WebSocketLike,
} from "./types";
export type { KeyValueStore, StorageLike } from "./storage";
export { localStorageStore, memoryStore } from "./storage";
export { ChatRequestError } from "./errors";
export { ChatClient } from "./client";
export { backoffDelay } from "./connection";
export { contentProblem } from "./outbox";
export { subscriptionInfo, type NotificationSettings, type PushSubscriptionJson } from "./notifications";
export { OfflineSnapshots, type OfflineView } from "./offline";
