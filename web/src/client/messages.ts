/* A stored message as the app sees it, and how later states of it (an edit, a deletion, a reaction) replace
 * it: a higher `version` is always the newer state, an older one is ignored. `myReactions` is null in pushes: the
 * one known is kept. */
import type { Message, ReactionFrame } from "./protocol";
import type { ChatMessage, Emoji } from "./types";

export function toChatMessage(message: Message, meId: string | null): ChatMessage {
  const own = message.senderId === meId;
  return {
    key: own ? message.clientMsgId : message.id, // own: the key the pending copy had, so React keeps the row
    id: message.id,
    roomId: message.roomId,
    seq: message.seq,
    senderId: message.senderId,
    senderName: message.senderName,
    content: message.content,
    createdAt: message.createdAt,
    clientMsgId: message.clientMsgId,
    replyToId: message.replyToId ?? null,
    replyTo: message.replyTo ?? null,
    version: message.version ?? 0,
    editedAt: message.editedAt ?? null,
    deletedAt: message.deletedAt ?? null,
    reactions: message.deletedAt ? [] : (message.reactions ?? []),
    myReactions: message.deletedAt ? [] : (message.myReactions ?? []),
    status: "sent",
  };
}

/**
 * `current` after `incoming`, another copy of the same message: null when it changes nothing (an older or the
 * same version, without own reactions to learn).
 */
export function mergeMessage(current: ChatMessage, incoming: Message): ChatMessage | null {
  const version = incoming.version ?? 0;
  const mine = incoming.myReactions ?? null;
  if (version < current.version) return null;
  if (version === current.version) {
    // The same state; a reply may still tell the user's own reactions that a push could not.
    if (mine === null || current.deletedAt || sameEmoji(mine, current.myReactions)) return null;
    return { ...current, myReactions: [...mine] };
  }
  const deleted = incoming.deletedAt ?? null;
  return {
    ...current,
    content: incoming.content,
    version,
    editedAt: incoming.editedAt ?? null,
    deletedAt: deleted,
    reactions: deleted ? [] : (incoming.reactions ?? []),
    myReactions: deleted ? [] : (mine ?? current.myReactions),
    replyTo: incoming.replyTo ?? current.replyTo,
  };
}

/** `current` after a reaction frame: the counts of a newer version, and the user's own reaction when it is theirs. */
export function applyReaction(current: ChatMessage, frame: ReactionFrame, meId: string | null): ChatMessage | null {
  if (current.deletedAt || frame.version < current.version) return null;
  const newer = frame.version > current.version;
  let myReactions = current.myReactions;
  if (frame.userId === meId) {
    const has = myReactions.includes(frame.emoji);
    if (frame.added && !has) myReactions = [...myReactions, frame.emoji];
    if (!frame.added && has) myReactions = myReactions.filter((emoji) => emoji !== frame.emoji);
  }
  if (!newer && myReactions === current.myReactions) return null;
  return { ...current, version: frame.version, reactions: newer ? frame.reactions : current.reactions, myReactions };
}

function sameEmoji(a: readonly Emoji[], b: readonly Emoji[]): boolean {
  return a.length === b.length && a.every((emoji) => b.includes(emoji));
}
