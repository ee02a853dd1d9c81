/* One message. Content is always React text (never HTML); line breaks are kept by CSS (white-space: pre-wrap).
 * Its actions (react, reply, edit, delete) show on hover or focus; on a touch screen behind a "Message actions"
 * button. A deleted message is a tombstone: "Message deleted", no reactions, no actions. */

import { memo, useEffect, useRef, useState, type KeyboardEvent } from "react";
import { LIMITS, type ChatMessage, type Emoji, type ReplyPreview } from "../client";
import { Avatar } from "./Avatar";
import { describeError, formatFullDateTime, formatTime, secondsUntil } from "./format";
import { useNow } from "./hooks";
import { CheckIcon, EditIcon, MoreIcon, ReplyIcon, SmileIcon, TrashIcon } from "./icons";
import { reactionLabel } from "./reactions";

interface Props {
  message: ChatMessage;
  groupStart: boolean;
  own: boolean;
  /** The message this one replies to, when loaded (else the preview the server sent is shown). */
  parent: ChatMessage | undefined;
  highlighted: boolean;
  /** Whether the user may delete it (their own, or any for a room admin). */
  canDelete: boolean;
  editing: boolean;
  /** A read receipt shown under it ("Seen", "Seen by 2"). */
  seenLabel?: string;
  onReply: (message: ChatMessage) => void;
  onJumpToParent: (message: ChatMessage) => void;
  onRetry: (message: ChatMessage) => void;
  onDiscard: (message: ChatMessage) => void;
  onEdit: (message: ChatMessage | null) => void;
  onSaveEdit: (message: ChatMessage, content: string) => void;
  onDelete: (message: ChatMessage) => void;
  onReact: (message: ChatMessage, emoji: Emoji) => void;
  /** The saved copy shown offline: no actions, reactions shown but not clickable. */
  readOnly?: boolean;
}

export const MessageItem = memo(function MessageItem({
  message,
  groupStart,
  own,
  parent,
  highlighted,
  canDelete,
  editing,
  seenLabel,
  onReply,
  onJumpToParent,
  onRetry,
  onDiscard,
  onEdit,
  onSaveEdit,
  onDelete,
  onReact,
  readOnly = false,
}: Props) {
  const [actionsOpen, setActionsOpen] = useState(false);
  const [picking, setPicking] = useState(false);
  const date = new Date(message.createdAt);
  const deleted = message.deletedAt !== null;
  const stored = message.id !== null && message.status === "sent";
  const time = (
    <time dateTime={message.createdAt} title={formatFullDateTime(date)}>
      {formatTime(date)}
    </time>
  );
  const classes = [
    "message",
    groupStart ? "group-start" : "continued",
    own ? "own" : "",
    message.status,
    highlighted ? "highlighted" : "",
    deleted ? "deleted" : "",
    actionsOpen || picking ? "actions-open" : "",
  ];
  const addReaction = useRef<HTMLButtonElement>(null);
  /** Choosing an action closes the touch toolbar. */
  const then = (action: () => void) => () => {
    setActionsOpen(false);
    action();
  };
  const react = (emoji: Emoji) => {
    setPicking(false);
    setActionsOpen(false);
    onReact(message, emoji);
  };
  return (
    <article
      className={classes.filter(Boolean).join(" ")}
      data-message-id={message.id ?? undefined}
      tabIndex={-1}
      onBlur={(event) => {
        if (actionsOpen && !event.currentTarget.contains(event.relatedTarget as Node | null)) setActionsOpen(false);
      }}
    >
      <div className="message-gutter">
        {groupStart ? <Avatar id={message.senderId} name={message.senderName} /> : <span className="gutter-time" aria-hidden="true">{formatTime(date)}</span>}
      </div>
      <div className="message-body">
        {/* Every message says who wrote it and when; in a group only the first shows it. */}
        <div className={groupStart ? "message-meta" : "message-meta visually-hidden"}>
          <span className="sender">{message.senderName}</span> {time}
        </div>
        {message.replyToId && !deleted && (
          <ReplyQuote parent={parent} preview={message.replyTo} onClick={() => onJumpToParent(message)} />
        )}
        {editing && !deleted ? (
          <MessageEditor initial={message.content} onSave={(content) => onSaveEdit(message, content)} onCancel={() => onEdit(null)} />
        ) : (
          <div className="content-row">
            {deleted ? (
              <p className="content deleted-text">Message deleted</p>
            ) : (
              <p className="content">
                {message.content}
                {message.editedAt && (
                  <span className="edited" title={`Edited ${formatFullDateTime(new Date(message.editedAt))}`}>
                    {" "}(edited)
                  </span>
                )}
              </p>
            )}
            {own && message.status === "sent" && !deleted && (
              <span className="status status-sent">
                <CheckIcon />
                <span className="visually-hidden">Sent</span>
              </span>
            )}
          </div>
        )}
        {!deleted && message.reactions.length > 0 && (
          <div className="reactions" role="group" aria-label="Reactions">
            {message.reactions.map(({ emoji, count }) => {
              const mine = message.myReactions.includes(emoji);
              return (
                <button
                  key={emoji}
                  type="button"
                  className={`reaction-chip${mine ? " mine" : ""}`}
                  aria-pressed={mine}
                  aria-label={reactionLabel(emoji, count)}
                  title={mine ? `You reacted with ${emoji}: choose to take it back` : `React with ${emoji}`}
                  onClick={() => onReact(message, emoji)}
                  disabled={readOnly}
                >
                  <span aria-hidden="true">{emoji}</span> <span aria-hidden="true">{count}</span>
                </button>
              );
            })}
          </div>
        )}
        {seenLabel && <p className="seen-label">{seenLabel}</p>}
        {own && message.status !== "sent" && <DeliveryStatus message={message} onRetry={onRetry} onDiscard={onDiscard} />}
      </div>
      {!deleted && !editing && !readOnly && (
        <>
          <button
            type="button"
            className="icon-button actions-toggle"
            aria-label="Message actions"
            aria-expanded={actionsOpen}
            onClick={() => setActionsOpen((open) => !open)}
          >
            <MoreIcon />
          </button>
          <div className="message-actions" role="group" aria-label="Message actions">
            <button
              ref={addReaction}
              type="button"
              className="button subtle small"
              onClick={() => setPicking((open) => !open)}
              disabled={!stored}
              aria-expanded={picking}
              aria-label="Add reaction"
              title="Add reaction"
            >
              <SmileIcon />
            </button>
            <button type="button" className="button subtle small" onClick={then(() => onReply(message))} disabled={!stored}>
              <ReplyIcon /> <span className="button-label">Reply</span>
            </button>
            {own && stored && (
              <button type="button" className="button subtle small" onClick={then(() => onEdit(message))} aria-label="Edit" title="Edit">
                <EditIcon />
              </button>
            )}
            {canDelete && stored && (
              <button type="button" className="button subtle small danger" onClick={then(() => onDelete(message))} aria-label="Delete" title="Delete">
                <TrashIcon />
              </button>
            )}
          </div>
          {picking && (
            <ReactionPicker
              onPick={react}
              onClose={(byKey) => {
                setPicking(false);
                if (byKey) addReaction.current?.focus();
              }}
            />
          )}
        </>
      )}
    </article>
  );
});

/** The fixed set of emoji, as buttons; Escape or leaving it closes it. */
function ReactionPicker({ onPick, onClose }: { onPick: (emoji: Emoji) => void; onClose: (byKey: boolean) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector("button")?.focus();
  }, []);
  return (
    <div
      ref={ref}
      className="reaction-picker"
      role="group"
      aria-label="Choose a reaction"
      onKeyDown={(event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          onClose(true);
        }
      }}
      onBlur={(event) => {
        if (!ref.current?.contains(event.relatedTarget as Node | null)) onClose(false);
      }}
    >
      {LIMITS.reactionEmojis.map((emoji) => (
        <button key={emoji} type="button" className="reaction-option" aria-label={`React with ${emoji}`} onClick={() => onPick(emoji)}>
          {emoji}
        </button>
      ))}
    </div>
  );
}

/** Editing an own message in place: Enter saves, Shift+Enter starts a new line, Escape cancels. */
function MessageEditor({ initial, onSave, onCancel }: { initial: string; onSave: (content: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, []);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    element.style.height = "auto";
    element.style.height = `${element.scrollHeight + 2}px`;
  }, [text]);
  const content = text.trim() === "" ? "" : text.trimEnd();
  const tooLong = Array.from(content).length > LIMITS.maxContentChars;
  const save = () => {
    if (!content || tooLong) return;
    if (content === initial) onCancel();
    else onSave(content);
  };
  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onCancel();
    }
  };
  return (
    <div className="message-editor">
      <textarea
        ref={box}
        className="composer-input"
        aria-label="Edit message"
        rows={1}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={keyDown}
        aria-invalid={tooLong || undefined}
      />
      <div className="message-editor-actions">
        <span className="muted">Enter to save, Escape to cancel</span>
        <button type="button" className="button subtle small" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button primary small" onClick={save} disabled={!content || tooLong}>
          Save
        </button>
      </div>
    </div>
  );
}

/** The quoted parent of a reply; choosing it jumps to the parent (loading or fetching it if needed). */
function ReplyQuote({ parent, preview, onClick }: { parent: ChatMessage | undefined; preview: ReplyPreview | null; onClick: () => void }) {
  const sender = parent?.senderName ?? preview?.senderName;
  const deleted = parent ? parent.deletedAt !== null : (preview?.deleted ?? false);
  const text = parent?.content ?? preview?.content;
  return (
    <button type="button" className="quote" onClick={onClick} title="Show the original message">
      {sender !== undefined ? (
        <>
          <span className="visually-hidden">Reply to </span>
          <span className="quote-sender">{sender}</span>
          <span className="visually-hidden">: </span>
          {deleted ? <span className="quote-text deleted-text">Message deleted</span> : <span className="quote-text">{text}</span>}
        </>
      ) : (
        <span className="quote-text muted">Original message not loaded</span>
      )}
    </button>
  );
}

/** An own message that is not stored yet, and what can be done about it. */
interface StatusProps {
  message: ChatMessage;
  onRetry: (message: ChatMessage) => void;
  onDiscard: (message: ChatMessage) => void;
}

function DeliveryStatus({ message, onRetry, onDiscard }: StatusProps) {
  if (message.status === "pending") {
    return (
      <p className="status status-pending">
        <span className="spinner" aria-hidden="true" /> Sending…
      </p>
    );
  }
  return <FailedStatus message={message} onRetry={onRetry} onDiscard={onDiscard} />;
}

function FailedStatus({ message, onRetry, onDiscard }: StatusProps) {
  const retryAt = message.error?.retryAt;
  const now = useNow(1000, retryAt !== undefined);
  const seconds = retryAt !== undefined ? secondsUntil(retryAt, now) : 0;
  const reason = message.error ? describeError(message.error.code, message.error.message) : "Not sent.";
  return (
    <div className="status status-failed">
      <p>
        <strong>Failed</strong>: {reason}
        {seconds > 0 && <span> Retrying in {seconds} s.</span>}
      </p>
      <div className="status-actions">
        <button type="button" className="button small" onClick={() => onRetry(message)}>
          Retry
        </button>
        <button type="button" className="button subtle small" onClick={() => onDiscard(message)}>
          Discard
        </button>
      </div>
    </div>
  );
}
