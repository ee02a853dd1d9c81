import type { ErrorFrame } from "./protocol";
import type { ClientErrorCode } from "./types";

const KNOWN_CODES = new Set<string>([
  "bad_request", "too_large", "unauthorized", "forbidden", "not_found",
  "rate_limited", "rejected", "unavailable", "internal", "timeout", "offline",
]);

/** A request that failed: an `error` frame, no reply in time ("timeout"), or no connection ("offline"). */
export class ChatRequestError extends Error {
  readonly code: ClientErrorCode;
  readonly retryAfterMs?: number;
  readonly action?: string;

  constructor(code: ClientErrorCode, message: string, details: { retryAfterMs?: number; action?: string } = {}) {
    super(message);
    this.name = "ChatRequestError";
    this.code = code;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.action !== undefined) this.action = details.action;
  }

  static fromFrame(frame: ErrorFrame): ChatRequestError {
    // The protocol may add codes: an unknown one is treated like `internal`.
    const code = KNOWN_CODES.has(frame.code) ? frame.code : "internal";
    return new ChatRequestError(code, frame.message, {
      ...(typeof frame.retryAfterMs === "number" ? { retryAfterMs: frame.retryAfterMs } : {}),
      ...(typeof frame.action === "string" ? { action: frame.action } : {}),
    });
  }
}
