/* How reactions and counts read. */

/** A reaction chip's accessible name: "👍 2". */
export function reactionLabel(emoji: string, count: number): string {
  return `${emoji} ${count}`;
}

/** An unread badge: the count, "99+" past 99. */
export function badgeText(count: number): string {
  return count > 99 ? "99+" : String(count);
}
