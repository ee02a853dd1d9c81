/* The socket lifecycle: connect with a token, reconnect with backoff, heartbeat, renew before the 2-hour limit.
 * Knows nothing of chat frames but `ping`; the client (client.ts) gets frames, opens and closes as callbacks. */
import type { ConnectionState, WebSocketLike } from "./types";

/** Full jitter: a uniform delay in [0, min(cap, base * 2^attempt)), so that clients dropped together spread out. */
export function backoffDelay(attempt: number, random: () => number, baseMs = 500, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

export interface ConnectionOptions {
  url: string;
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
  createSocket(url: string): WebSocketLike;
  random(): number;
  now(): number;
  backoffBaseMs: number;
  backoffCapMs: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxConnectionAgeMs: number;
  stableAfterMs: number;
  /** How long a replaced socket stays open for the replies still due on it. */
  drainMs: number;
  onState(state: ConnectionState): void;
  /** A socket became the one in use. `resumed`: it replaced an open one, so no push was missed. */
  onOpen(info: { resumed: boolean }): void;
  onFrame(frame: unknown, socketId: number): void;
  /** A socket is gone: requests sent on it will get no reply. */
  onSocketClosed(socketId: number): void;
}

interface Socket {
  id: number;
  ws: WebSocketLike | null; // null while its token is being fetched
  opened: boolean;
  closed: boolean;
  timers: ReturnType<typeof setTimeout>[];
  pingTimer: ReturnType<typeof setInterval> | null;
  pongTimer: ReturnType<typeof setTimeout> | null;
}

export class Connection {
  private running = false;
  private networkOnline = true;
  /** The socket that carries traffic once open (it may still be opening). */
  private active: Socket | null = null;
  /** A planned replacement opening while `active` stays in use (make before break: no presence flicker). */
  private successor: Socket | null = null;
  private readonly draining = new Set<Socket>();
  private attempt = 0;
  private forceRefresh = false;
  /** When a forced token refresh last succeeded in this failing streak: a server that is down also closes before
   * opening, so refreshing again is limited to once a minute (a server restarted meanwhile may want a new token). */
  private refreshedAt: number | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private nextSocketId = 1;
  private pingCount = 0;
  state: ConnectionState = { status: "offline", reason: "not started" };

  constructor(private readonly options: ConnectionOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.refreshedAt = null;
    if (this.networkOnline) this.connectNow();
    else this.setState({ status: "offline", reason: "network" });
  }

  stop(reason = "stopped"): void {
    this.running = false;
    this.teardown();
    this.setState({ status: "offline", reason });
  }

  /** The runtime's online/offline hint: offline stops retrying; back online reconnects at once. */
  setNetworkOnline(online: boolean): void {
    if (online === this.networkOnline) return;
    this.networkOnline = online;
    if (!this.running) return;
    if (!online) {
      this.teardown();
      this.setState({ status: "offline", reason: "network" });
    } else {
      this.attempt = 0;
      this.connectNow();
    }
  }

  /**
   * Reconnect on purpose (a refreshed token, the 2-hour limit, `unauthorized`): an open socket is kept until its
   * replacement opens; a socket still opening, or a pending retry, is replaced at once.
   */
  renew(options: { forceRefresh?: boolean } = {}): void {
    if (!this.running || !this.networkOnline) return;
    if (options.forceRefresh) this.forceRefresh = true;
    const active = this.active;
    if (active?.opened) {
      if (this.successor && !options.forceRefresh) return; // one is already on its way
      if (this.successor) this.abandon(this.successor);
      this.successor = this.open();
      return;
    }
    if (active) this.abandon(active);
    this.attempt = 0;
    this.connectNow();
  }

  /** Sends on the socket in use; returns its id (to match the reply's fate), or null when none is open. */
  send(frame: object): number | null {
    const socket = this.active;
    if (!socket?.opened || !socket.ws) return null;
    try {
      socket.ws.send(JSON.stringify(frame));
    } catch {
      return null;
    }
    return socket.id;
  }

  /** A reply never came: the socket is dead even if the browser has not noticed (no close for minutes). */
  declareDead(socketId: number, reason = "no reply"): void {
    if (this.active?.id === socketId) this.drop(this.active, reason);
  }

  get isOpen(): boolean {
    return this.active?.opened === true;
  }

  private connectNow(): void {
    this.clearRetry();
    this.setState({ status: "connecting", attempt: this.attempt });
    this.active = this.open();
  }

  private open(): Socket {
    const socket: Socket = { id: this.nextSocketId++, ws: null, opened: false, closed: false, timers: [], pingTimer: null, pongTimer: null };
    const force = this.forceRefresh;
    this.forceRefresh = false;
    this.options.getToken(force ? { forceRefresh: true } : undefined).then(
      (token) => {
        if (force) this.refreshedAt = this.options.now();
        if (!this.isCurrent(socket)) return;
        const separator = this.options.url.includes("?") ? "&" : "?";
        try {
          socket.ws = this.options.createSocket(`${this.options.url}${separator}token=${encodeURIComponent(token)}`);
        } catch {
          this.handleClose(socket, "cannot open a socket");
          return;
        }
        socket.ws.onopen = () => this.handleOpen(socket);
        socket.ws.onmessage = (event: { data?: unknown }) => this.handleMessage(socket, event.data);
        socket.ws.onclose = (event: { code?: number }) => this.handleClose(socket, `closed (${event?.code ?? "?"})`);
        // Browsers follow an error with a close, but Node's WebSocket (undici) fires only the error when the
        // upgrade is refused: treat the error as the close.
        socket.ws.onerror = () => this.drop(socket, "connection failed");
      },
      (error: unknown) => {
        if (!this.isCurrent(socket)) return;
        const reason = error instanceof Error ? error.message : String(error);
        if (!isSignedOut(error)) {
          // The identity provider is unreachable or failing for now: the session may well still be good.
          if (force) this.forceRefresh = true; // the refresh did not happen: ask again next time
          this.handleClose(socket, `could not get a token: ${reason}`);
          return;
        }
        // The session is over (refresh refused): retrying cannot help.
        this.running = false;
        this.teardown();
        this.setState({ status: "signedOut", reason });
      },
    );
    return socket;
  }

  private isCurrent(socket: Socket): boolean {
    return this.running && this.networkOnline && (socket === this.active || socket === this.successor);
  }

  private handleOpen(socket: Socket): void {
    socket.opened = true;
    if (socket === this.successor) {
      const previous = this.active;
      this.successor = null;
      this.active = socket;
      if (previous) this.retire(previous);
      this.startTimers(socket);
      if (this.state.status !== "online") this.setState({ status: "online", since: this.options.now() });
      this.options.onOpen({ resumed: previous?.opened === true });
    } else if (socket === this.active) {
      this.startTimers(socket);
      this.setState({ status: "online", since: this.options.now() });
      this.options.onOpen({ resumed: false });
    }
  }

  private handleMessage(socket: Socket, data: unknown): void {
    if (socket.pongTimer) {
      clearTimeout(socket.pongTimer); // any frame proves the socket alive
      socket.pongTimer = null;
    }
    if (typeof data !== "string") return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    this.options.onFrame(frame, socket.id);
  }

  private handleClose(socket: Socket, reason: string): void {
    if (socket.closed) return;
    socket.closed = true;
    this.forget(socket);
    this.options.onSocketClosed(socket.id);
    if (socket === this.successor) {
      // The replacement failed; the socket in use still works. Try again later, with a fresh token if it never opened.
      this.successor = null;
      if (!socket.opened && this.mayForceRefresh()) this.forceRefresh = true;
      this.schedule(() => this.renew(), this.nextDelay());
      return;
    }
    if (socket !== this.active) return;
    this.active = null;
    if (!this.running || !this.networkOnline) return;
    if (this.successor) {
      // A replacement is already opening: it becomes the socket in use.
      this.active = this.successor;
      this.successor = null;
      this.setState({ status: "connecting", attempt: this.attempt });
      return;
    }
    // Closed without ever opening: most likely HTTP 401 at the upgrade (the browser sees only 1006).
    if (!socket.opened && this.mayForceRefresh()) this.forceRefresh = true;
    const delay = this.nextDelay();
    const retryAt = this.options.now() + delay;
    this.setState({ status: "reconnecting", attempt: this.attempt, retryAt, reason });
    this.schedule(() => this.connectNow(), delay);
  }

  private mayForceRefresh(): boolean {
    return this.refreshedAt === null || this.options.now() - this.refreshedAt >= FORCED_REFRESH_INTERVAL_MS;
  }

  private schedule(action: () => void, delay: number): void {
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      action();
    }, delay);
  }

  private nextDelay(): number {
    const delay = backoffDelay(this.attempt, this.options.random, this.options.backoffBaseMs, this.options.backoffCapMs);
    this.attempt += 1;
    return delay;
  }

  private startTimers(socket: Socket): void {
    socket.pingTimer = setInterval(() => {
      if (!socket.ws) return;
      try {
        socket.ws.send(JSON.stringify({ action: "ping", requestId: `ping-${++this.pingCount}` }));
      } catch {
        /* the close event follows */
      }
      socket.pongTimer ??= setTimeout(() => this.drop(socket, "no pong"), this.options.pongTimeoutMs);
    }, this.options.pingIntervalMs);
    socket.timers.push(
      setTimeout(() => this.renew(), this.options.maxConnectionAgeMs),
      setTimeout(() => {
        this.attempt = 0; // stable: the next drop starts the backoff over
        this.refreshedAt = null;
      }, this.options.stableAfterMs),
    );
  }

  /** Give up on a socket now, without waiting for a close event that a dead network may never deliver. */
  private drop(socket: Socket, reason: string): void {
    this.detach(socket);
    this.handleClose(socket, reason);
  }

  /** A replaced socket: no new frames go on it; replies still due on it are read for a while. */
  private retire(socket: Socket): void {
    this.clearTimers(socket);
    this.draining.add(socket);
    socket.timers.push(setTimeout(() => this.abandon(socket), this.options.drainMs));
  }

  /** Close a socket that is no longer wanted; requests sent on it fail at once. */
  private abandon(socket: Socket): void {
    if (socket.closed) return;
    socket.closed = true;
    this.detach(socket);
    this.forget(socket);
    if (socket === this.active) this.active = null;
    if (socket === this.successor) this.successor = null;
    this.options.onSocketClosed(socket.id);
  }

  private detach(socket: Socket): void {
    const ws = socket.ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(1000, "client closed");
    } catch {
      /* already closing */
    }
  }

  private forget(socket: Socket): void {
    this.clearTimers(socket);
    this.draining.delete(socket);
  }

  private clearTimers(socket: Socket): void {
    socket.timers.forEach(clearTimeout);
    socket.timers = [];
    if (socket.pingTimer) clearInterval(socket.pingTimer);
    if (socket.pongTimer) clearTimeout(socket.pongTimer);
    socket.pingTimer = socket.pongTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private teardown(): void {
    this.clearRetry();
    for (const socket of [this.active, this.successor, ...this.draining]) if (socket) this.abandon(socket);
    this.active = this.successor = null;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.options.onState(state);
  }
}

/** The auth module's way of saying the session is over: an error named `SignedOutError` (any other failure to
 * get a token is temporary). */
const FORCED_REFRESH_INTERVAL_MS = 60_000;

export function isSignedOut(error: unknown): boolean {
  return error instanceof Error && error.name === "SignedOutError";
}
