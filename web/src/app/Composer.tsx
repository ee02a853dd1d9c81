/* Writing a message: Enter sends, Shift+Enter starts a new line; typing is reported (the client throttles it)
 * and stopped on send, blur or an empty box; drafts survive switching rooms. */

import { useEffect, useId, useImperativeHandle, useRef, useState, type KeyboardEvent, type Ref } from "react";
import { LIMITS, type ChatMessage } from "../client";
import { useClient } from "./hooks";
import { CloseIcon } from "./icons";

export interface ComposerHandle {
  focus(): void;
}

interface Props {
  roomId: string;
  roomName: string;
  replyTo: ChatMessage | null;
  onCancelReply: () => void;
  onSent: () => void;
  /** Shown under the box while not connected: messages wait in the outbox. */
  offlineHint: boolean;
  /** Read-only (the saved copy shown offline): the composer is off, and says why. */
  disabledReason?: string | null;
  handle: Ref<ComposerHandle>;
}

const drafts = new Map<string, string>();

/** What gets sent: no blank lines before the text, no trailing spaces after it. */
export function cleanContent(text: string): string {
  return text.replace(/^(\s*\n)+/, "").trimEnd();
}

export function Composer({ roomId, roomName, replyTo, onCancelReply, onSent, offlineHint, disabledReason = null, handle }: Props) {
  const client = useClient();
  const [text, setText] = useState(() => drafts.get(roomId) ?? "");
  const typing = useRef(false);
  const box = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const content = cleanContent(text);
  const length = Array.from(content).length; // the server counts code points
  const tooLong = length > LIMITS.maxContentChars;

  useImperativeHandle(handle, () => ({ focus: () => box.current?.focus() }), []);

  const setTyping = (isTyping: boolean) => {
    if (typing.current === isTyping && !isTyping) return;
    typing.current = isTyping;
    client.setTyping(roomId, isTyping);
  };

  // Leaving the room (or the app) stops typing there.
  useEffect(
    () => () => {
      if (typing.current) client.setTyping(roomId, false);
    },
    [client, roomId],
  );

  useEffect(() => {
    if (replyTo) box.current?.focus();
  }, [replyTo]);

  // Grow with the text, up to the CSS max-height.
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    element.style.height = "auto";
    element.style.height = `${element.scrollHeight + 2}px`;
  }, [text]);

  const change = (value: string) => {
    setText(value);
    drafts.set(roomId, value);
    setTyping(value.trim().length > 0);
  };

  const send = () => {
    if (!content || tooLong || disabledReason) return;
    client.send(roomId, content, replyTo?.id ? { replyToId: replyTo.id } : undefined);
    change("");
    drafts.delete(roomId);
    setTyping(false);
    onSent();
  };

  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape" && replyTo) {
      event.preventDefault();
      onCancelReply();
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      {replyTo && (
        <div className="composer-reply">
          <div className="composer-reply-text">
            <span className="muted">Replying to </span>
            <strong>{replyTo.senderName}</strong>
            <span className="composer-reply-quote">{replyTo.content}</span>
          </div>
          <button type="button" className="icon-button" aria-label="Cancel reply" title="Cancel reply" onClick={onCancelReply}>
            <CloseIcon />
          </button>
        </div>
      )}
      <div className="composer-row">
        <label htmlFor={id} className="visually-hidden">
          Message
        </label>
        <textarea
          id={id}
          ref={box}
          className="composer-input"
          rows={1}
          value={text}
          placeholder={`Message ${roomName}`}
          onChange={(event) => change(event.target.value)}
          onKeyDown={keyDown}
          onBlur={() => setTyping(false)}
          aria-describedby={`${id}-hint`}
          aria-invalid={tooLong || undefined}
          disabled={disabledReason !== null}
        />
        <button type="submit" className="button primary send" disabled={!content || tooLong || disabledReason !== null}>
          Send
        </button>
      </div>
      <p className="composer-hint" id={`${id}-hint`}>
        {disabledReason ? (
          disabledReason
        ) : tooLong ? (
          <span className="form-error">
            {length - LIMITS.maxContentChars} characters too long (at most {LIMITS.maxContentChars}).
          </span>
        ) : offlineHint ? (
          "Not connected: messages are sent once the connection is back."
        ) : length > LIMITS.maxContentChars - 200 ? (
          `${LIMITS.maxContentChars - length} characters left.`
        ) : (
          <span className="visually-hidden">Enter sends, Shift+Enter starts a new line.</span>
        )}
      </p>
    </form>
  );
}
