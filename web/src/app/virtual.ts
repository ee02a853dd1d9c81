/* The arithmetic of the windowed message list: where each row starts (measured heights, estimates for rows not
 * yet measured), which rows to render for a scroll position, and how far to scroll so the row the reader was
 * looking at stays put when rows are prepended or change height. Pure, so it is unit-tested. */

/** Start offset of every row, plus the total height at the end (length = heights.length + 1). */
export function computeOffsets(heights: readonly number[]): Float64Array {
  const offsets = new Float64Array(heights.length + 1);
  for (let i = 0; i < heights.length; i++) offsets[i + 1] = offsets[i]! + heights[i]!;
  return offsets;
}

/** The index of the row that covers `y` (clamped to the rows). */
export function rowAt(offsets: Float64Array, y: number): number {
  const count = offsets.length - 1;
  if (count <= 0) return 0;
  let low = 0;
  let high = count - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (offsets[mid]! <= y) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The rows to render, [start, end), for a viewport over the rows with `overscan` pixels above and below. */
export function visibleRange(
  offsets: Float64Array,
  viewportTop: number,
  viewportHeight: number,
  overscan: number,
): { start: number; end: number } {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const start = rowAt(offsets, Math.max(0, viewportTop - overscan));
  const end = rowAt(offsets, viewportTop + viewportHeight + overscan) + 1;
  return { start, end: Math.min(count, end) };
}

/** Which row the reader is looking at: the first whose bottom is below the viewport's top, and where it sits. */
export interface Anchor {
  key: string;
  /** The row's top minus the viewport's top (negative when the row starts above it). */
  offset: number;
}

/** The anchor for a viewport top: the first row at or below it that `canAnchor` accepts (messages, not day
 * separators: a day separator moves up when older messages of that day are prepended). */
export function findAnchor(
  offsets: Float64Array,
  keys: readonly string[],
  viewportTop: number,
  canAnchor: (index: number) => boolean = () => true,
): Anchor | null {
  for (let index = rowAt(offsets, Math.max(0, viewportTop)); index < keys.length; index++) {
    if (canAnchor(index)) return { key: keys[index]!, offset: offsets[index]! - viewportTop };
  }
  return null;
}

/** The viewport top that puts the anchor row back where it was, after the rows above it changed. */
export function anchoredScrollTop(rowTop: number, anchor: Anchor): number {
  return Math.max(0, rowTop - anchor.offset);
}

/** Keeping the view still across a prepend measured by the scroll height before and after it. */
export function scrollTopAfterPrepend(scrollTopBefore: number, scrollHeightBefore: number, scrollHeightAfter: number): number {
  return scrollTopBefore + (scrollHeightAfter - scrollHeightBefore);
}

/** Whether the viewport shows the end of the content (within `slack` pixels). */
export function isAtBottom(scrollTop: number, clientHeight: number, scrollHeight: number, slack = 24): boolean {
  return scrollHeight - scrollTop - clientHeight <= slack;
}
