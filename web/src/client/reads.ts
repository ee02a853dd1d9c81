/* Telling the server how far the user has read: `markRead` per room, at most one per interval (the latest marker
 * wins), only when the marker moves past what the server already has. A frame that could not go (offline) goes
 * again on the next open. The reply (`read`) and the pushes of the user's other devices say what the server has. */

export interface ReadSenderOptions {
  /** Sends `markRead`; false when no socket is open. */
  send(roomId: string, seq: number): boolean;
  now(): number;
  intervalMs: number;
}

interface RoomReads {
  /** The server's marker as last heard (or sent: a frame on its way counts as there). */
  sent: number;
  /** The marker the user reached. */
  wanted: number;
  lastSentAt: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export class ReadSender {
  private readonly rooms = new Map<string, RoomReads>();

  constructor(private readonly options: ReadSenderOptions) {}

  /** The server has the marker at `seq` (listing, sync, a `read` frame of this user): nothing up to it is sent. */
  known(roomId: string, seq: number): void {
    const room = this.room(roomId);
    room.sent = Math.max(room.sent, seq);
  }

  /** The server's marker as a listing gives it: a frame lost with a closed socket is sent again (by resume()). */
  listed(roomId: string, seq: number): void {
    this.room(roomId).sent = seq;
  }

  /** The user has read up to `seq`: sent now, or once the interval since the last frame of this room is over. */
  read(roomId: string, seq: number): void {
    const room = this.room(roomId);
    room.wanted = Math.max(room.wanted, seq);
    if (room.wanted <= room.sent || room.timer !== null) return;
    const wait = room.lastSentAt + this.options.intervalMs - this.options.now();
    if (wait <= 0) this.fire(roomId, room);
    else room.timer = setTimeout(() => this.fire(roomId, room), wait);
  }

  /** A socket opened: what could not be sent goes now. */
  resume(): void {
    for (const [roomId, room] of this.rooms) if (room.wanted > room.sent && room.timer === null) this.read(roomId, room.wanted);
  }

  /** Whether a marker waits to be sent (for tests and the app's state). */
  pending(roomId: string): boolean {
    const room = this.rooms.get(roomId);
    return room !== undefined && room.wanted > room.sent;
  }

  forget(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (room?.timer) clearTimeout(room.timer);
    this.rooms.delete(roomId);
  }

  clear(): void {
    for (const roomId of [...this.rooms.keys()]) this.forget(roomId);
  }

  private fire(roomId: string, room: RoomReads): void {
    room.timer = null;
    if (this.rooms.get(roomId) !== room || room.wanted <= room.sent) return;
    if (!this.options.send(roomId, room.wanted)) return; // offline: resume() sends it
    room.sent = room.wanted;
    room.lastSentAt = this.options.now();
  }

  private room(roomId: string): RoomReads {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = { sent: 0, wanted: 0, lastSentAt: -Infinity, timer: null };
      this.rooms.set(roomId, room);
    }
    return room;
  }
}
