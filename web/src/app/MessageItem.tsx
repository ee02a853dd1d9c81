/* One message. Content is always React text (never HTML); line breaks are kept by CSS (white-space: pre-wrap). */

import { memo } from "react";
import type { ChatMessage } from "../client";
import { Avatar } from "./Avatar";
import { describeError, formatFullDateTime, formatTime, secondsUntil } from "./format";
import { useNow } from "./hooks";
import { CheckIcon, ReplyIcon } from "./icons";

interface Props {
  message: ChatMessage;
  groupStart: boolean;
  own: boolean;
  /** The message this one replies to, when loaded. */
  parent: ChatMessage | undefined;
  highlighted: boolean;
  onReply: (message: ChatMessage) => void;
  onJumpToParent: (message: ChatMessage) => void;
  onRetry: (message: ChatMessage) => void;
  onDiscard: (message: ChatMessage) => void;
}

export const MessageItem = memo(function MessageItem({
  message,
  groupStart,
  own,
  parent,
  highlighted,
  onReply,
  onJumpToParent,
  onRetry,
  onDiscard,
}: Props) {
  const date = new Date(message.createdAt);
  const time = (
    <time dateTime={message.createdAt} title={formatFullDateTime(date)}>
      {formatTime(date)}
    </time>
  );
  const classes = ["message", groupStart ? "group-start" : "continued", own ? "own" : "", message.status, highlighted ? "highlighted" : ""];
  return (
    <article className={classes.filter(Boolean).join(" ")} data-message-id={message.id ?? undefined} tabIndex={-1}>
      <div className="message-gutter">
        {groupStart ? <Avatar id={message.senderId} name={message.senderName} /> : <span className="gutter-time" aria-hidden="true">{formatTime(date)}</span>}
      </div>
      <div className="message-body">
        {/* Every message says who wrote it and when; in a group only the first shows it. */}
        <div className={groupStart ? "message-meta" : "message-meta visually-hidden"}>
          <span className="sender">{message.senderName}</span> {time}
        </div>
        {message.replyToId && <ReplyQuote parent={parent} onClick={() => onJumpToParent(message)} />}
        <div className="content-row">
          <p className="content">{message.content}</p>
          {own && message.status === "sent" && (
            <span className="status status-sent">
              <CheckIcon />
              <span className="visually-hidden">Sent</span>
            </span>
          )}
        </div>
        {own && message.status !== "sent" && <DeliveryStatus message={message} onRetry={onRetry} onDiscard={onDiscard} />}
      </div>
      <div className="message-actions">
        <button type="button" className="button subtle small" onClick={() => onReply(message)} disabled={message.id === null}>
          <ReplyIcon /> <span className="button-label">Reply</span>
        </button>
      </div>
    </article>
  );
});

/** The quoted parent of a reply; choosing it jumps to the parent (loading older pages if needed). */
function ReplyQuote({ parent, onClick }: { parent: ChatMessage | undefined; onClick: () => void }) {
  return (
    <button type="button" className="quote" onClick={onClick} title="Show the original message">
      {parent ? (
        <>
          <span className="visually-hidden">Original message from </span>
          <span className="quote-sender">{parent.senderName}</span>
          <span className="visually-hidden">: </span>
          <span className="quote-text">{parent.content}</span>
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
