/* The message list, windowed: only the rows near the viewport are in the DOM (a room can hold thousands of
 * loaded messages), each row's height is measured once rendered (estimated before), and the row the reader
 * is looking at stays put when older pages are prepended or rows change height (see virtual.ts).
 *
 * Accessibility: the scroller is the `role="log"` named "Messages", with `aria-live="off"`; new live messages
 * are announced through the Announcer instead (see Announcer.tsx for why). It is focusable so the keyboard can
 * scroll it. */

import {
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
  type Ref,
} from "react";
import type { Row } from "./timeline";
import { anchoredScrollTop, computeOffsets, findAnchor, isAtBottom, visibleRange, type Anchor } from "./virtual";

export interface MessageListHandle {
  /** Scroll a row into view (centered) and keep it there while rows around it are measured. */
  scrollToRow(key: string): void;
  scrollToBottom(): void;
}

interface Props {
  rows: Row[];
  renderRow: (row: Row) => ReactNode;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  /** Whether the end of the list is visible (read markers, "Jump to latest"). */
  onAtBottomChange: (atBottom: boolean) => void;
  /** A row to show first, at the top (the "New messages" separator); the end of the list when null. */
  initialRow: string | null;
  handle: Ref<MessageListHandle>;
}

/** Pixels rendered beyond the viewport, above and below, so fast scrolling shows no blank. */
const OVERSCAN = 800;
/** Start loading the previous page this close to the top. */
const LOAD_OLDER_WITHIN = 400;

function estimateHeight(row: Row): number {
  if (row.kind === "day") return 38;
  if (row.kind === "new") return 30;
  const lines = Math.ceil(row.message.content.length / 80) + (row.message.content.match(/\n/g)?.length ?? 0);
  return (row.groupStart ? 60 : 26) + Math.max(0, lines - 1) * 22 + (row.message.replyToId ? 50 : 0);
}

export function MessageList({ rows, renderRow, hasOlder, loadingOlder, onLoadOlder, onAtBottomChange, initialRow, handle }: Props) {
  const scrollerRef = useRef<HTMLDivElement>(null);
  const rowsRef = useRef<HTMLDivElement>(null);
  const windowRef = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [measured, setMeasured] = useState(0);
  const [viewport, setViewport] = useState({ top: 0, height: 0, rowsTop: 0 });
  // Where to keep the view: at the bottom (following new messages), on a target row, or on the anchor row.
  const stickToBottom = useRef(true);
  const target = useRef<{ key: string; align: "start" | "center" } | null>(
    initialRow ? { key: initialRow, align: "start" } : null,
  );
  const anchor = useRef<Anchor | null>(null);
  const atBottomReported = useRef<boolean | null>(null);

  const keys = useMemo(() => rows.map((row) => row.key), [rows]);
  const indexOf = useMemo(() => new Map(keys.map((key, index) => [key, index])), [keys]);
  const offsets = useMemo(
    () => computeOffsets(rows.map((row) => heights.current.get(row.key) ?? estimateHeight(row))),
    // `measured` changes whenever a measured height does.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rows, measured],
  );
  const total = offsets[offsets.length - 1] ?? 0;
  const { start, end } = visibleRange(offsets, viewport.top - viewport.rowsTop, viewport.height || 1000, OVERSCAN);

  const reportAtBottom = useCallback(
    (atBottom: boolean) => {
      if (atBottomReported.current === atBottom) return;
      atBottomReported.current = atBottom;
      onAtBottomChange(atBottom);
    },
    [onAtBottomChange],
  );

  /** Reads the scroll position: where the reader is, and whether they follow the end. */
  const readPosition = useCallback(() => {
    const scroller = scrollerRef.current;
    const rowsEl = rowsRef.current;
    if (!scroller || !rowsEl) return;
    const rowsTop = rowsEl.offsetTop;
    const atBottom = isAtBottom(scroller.scrollTop, scroller.clientHeight, scroller.scrollHeight);
    stickToBottom.current = atBottom;
    anchor.current = findAnchor(offsets, keys, scroller.scrollTop - rowsTop, (index) => rows[index]?.kind === "message");
    reportAtBottom(atBottom);
    setViewport((current) =>
      current.top === scroller.scrollTop && current.height === scroller.clientHeight && current.rowsTop === rowsTop
        ? current
        : { top: scroller.scrollTop, height: scroller.clientHeight, rowsTop },
    );
  }, [offsets, keys, rows, reportAtBottom]);

  // After every render, before paint: measure the rendered rows; once heights are known, put the view back.
  useLayoutEffect(() => {
    const scroller = scrollerRef.current;
    const windowEl = windowRef.current;
    const rowsEl = rowsRef.current;
    if (!scroller || !windowEl || !rowsEl) return;
    let changed = false;
    for (const element of windowEl.children) {
      const key = (element as HTMLElement).dataset.key;
      if (!key) continue;
      const height = element.getBoundingClientRect().height;
      if (Math.abs((heights.current.get(key) ?? -1) - height) > 0.5) {
        heights.current.set(key, height);
        changed = true;
      }
    }
    if (changed) {
      setMeasured((n) => n + 1); // re-render with the true offsets first
      return;
    }
    const rowsTop = rowsEl.offsetTop;
    const goal = target.current;
    const goalIndex = goal ? indexOf.get(goal.key) : undefined;
    let top = scroller.scrollTop;
    if (goal && goalIndex !== undefined) {
      const rowHeight = (offsets[goalIndex + 1] ?? 0) - (offsets[goalIndex] ?? 0);
      const margin = goal.align === "center" ? Math.max(8, (scroller.clientHeight - rowHeight) / 2) : 8;
      top = Math.max(0, rowsTop + (offsets[goalIndex] ?? 0) - margin);
      // From now on the anchor keeps the row there while the rows around it get measured.
      anchor.current = { key: goal.key, offset: (offsets[goalIndex] ?? 0) - (top - rowsTop) };
      target.current = null;
      stickToBottom.current = false;
    } else if (stickToBottom.current) {
      target.current = null; // a target that is not (or no longer) there
      top = scroller.scrollHeight - scroller.clientHeight;
    } else if (anchor.current) {
      const index = indexOf.get(anchor.current.key);
      if (index !== undefined) top = anchoredScrollTop(rowsTop + (offsets[index] ?? 0), anchor.current);
    }
    if (Math.abs(scroller.scrollTop - top) > 1) scroller.scrollTop = top;
    if (viewport.top !== scroller.scrollTop || viewport.height !== scroller.clientHeight || viewport.rowsTop !== rowsTop) {
      setViewport({ top: scroller.scrollTop, height: scroller.clientHeight, rowsTop });
    }
    reportAtBottom(isAtBottom(scroller.scrollTop, scroller.clientHeight, scroller.scrollHeight));
  });

  // Size changes that no render of ours caused (window resized, fonts) re-measure.
  useEffect(() => {
    const scroller = scrollerRef.current;
    const windowEl = windowRef.current;
    if (!scroller || !windowEl) return;
    const observer = new ResizeObserver(() => setMeasured((n) => n + 1));
    observer.observe(scroller);
    observer.observe(windowEl);
    return () => observer.disconnect();
  }, []);

  // Near the top with more to load: load the previous page (also when the rows do not fill the viewport).
  useEffect(() => {
    if (!hasOlder || loadingOlder || rows.length === 0) return;
    if (viewport.top - viewport.rowsTop < LOAD_OLDER_WITHIN) onLoadOlder();
  }, [hasOlder, loadingOlder, rows.length, viewport, onLoadOlder]);

  useImperativeHandle(
    handle,
    () => ({
      scrollToRow(key) {
        target.current = { key, align: "center" };
        stickToBottom.current = false;
        setMeasured((n) => n + 1);
      },
      scrollToBottom() {
        target.current = null;
        stickToBottom.current = true;
        setMeasured((n) => n + 1);
      },
    }),
    [],
  );

  // The reader scrolling on purpose cancels any pending target (e.g. the "New messages" separator not loaded yet).
  const userScrolled = useCallback(() => {
    target.current = null;
  }, []);

  return (
    <div
      ref={scrollerRef}
      className="message-scroller"
      role="log"
      aria-label="Messages"
      aria-live="off"
      tabIndex={0}
      onScroll={readPosition}
      onWheel={userScrolled}
      onTouchMove={userScrolled}
      onKeyDown={userScrolled}
    >
      <div className="history-start">
        {hasOlder ? (
          <button
            type="button"
            className="button subtle small"
            onClick={onLoadOlder}
            disabled={loadingOlder}
            aria-busy={loadingOlder || undefined}
          >
            {loadingOlder && <span className="spinner" aria-hidden="true" />}
            Load older messages
          </button>
        ) : (
          rows.length > 0 && <p className="muted">This is the beginning of the conversation.</p>
        )}
      </div>
      <div ref={rowsRef} className="rows" style={{ height: total }}>
        <div ref={windowRef} className="rows-window" style={{ transform: `translateY(${offsets[start] ?? 0}px)` }}>
          {rows.slice(start, end).map((row) => (
            <div key={row.key} data-key={row.key} className="row">
              {renderRow(row)}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
