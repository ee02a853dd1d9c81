import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { subscriptionInfo } from "./notifications";
import { harness, ME, room, settle } from "./testing";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2025-01-02T00:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

const DEVICE = { endpoint: "https://push.example/a", keys: { p256dh: "BPub", auth: "au" } };

describe("notification settings", () => {
  it("asks the settings on every open and keeps them (and their pushes) in the snapshot", async () => {
    const h = harness();
    h.client.start(ME);
    await settle();
    const socket = h.socket();
    socket.open();
    await settle();
    expect(h.client.getSnapshot().notifications).toBeNull();
    socket.answer("getSettings", { type: "settings", showPreviews: true, pushPublicKey: "BKey" });
    await settle();
    expect(h.client.getSnapshot().notifications).toEqual({ showPreviews: true, pushPublicKey: "BKey" });
    socket.push({ type: "settings", showPreviews: false, pushPublicKey: "BKey" }); // another device changed it
    await settle();
    expect(h.client.getSnapshot().notifications?.showPreviews).toBe(false);
  });

  it("updates previews with updateSettings, the reply applied", async () => {
    const h = harness();
    const socket = await h.connect();
    const done = h.client.setShowPreviews(false);
    await settle();
    expect(socket.pending("updateSettings")).toMatchObject({ showPreviews: false });
    socket.answer("updateSettings", { type: "settings", showPreviews: false, pushPublicKey: null });
    await done;
    expect(h.client.getSnapshot().notifications).toEqual({ showPreviews: false, pushPublicKey: null });
  });

  it("keeps muted per room from the listing, muteRoom replies and roomMuted pushes", async () => {
    const h = harness();
    const socket = await h.connect([room("a", { muted: true }), room("b")]);
    const muted = () => Object.fromEntries(h.client.getSnapshot().rooms.map((state) => [state.room.id, state.room.muted]));
    expect(muted()).toEqual({ a: true, b: false });
    const done = h.client.muteRoom("b", true);
    await settle();
    expect(socket.pending("muteRoom")).toMatchObject({ roomId: "b", muted: true });
    socket.answer("muteRoom", { type: "roomMuted", roomId: "b", muted: true });
    await done;
    expect(muted()).toEqual({ a: true, b: true });
    socket.push({ type: "roomMuted", roomId: "a", muted: false });
    await settle();
    expect(muted()).toEqual({ a: false, b: true });
  });
});

describe("push subscription", () => {
  it("registers the device now and again on every open, and unregisters it when turned off", async () => {
    const h = harness();
    const socket = await h.connect();
    const on = h.client.setPushSubscription(DEVICE);
    await settle();
    expect(socket.pending("registerPush")).toMatchObject({
      subscription: { endpoint: DEVICE.endpoint, keys: { p256dh: "BPub", auth: "au" } },
    });
    socket.answer("registerPush", { type: "pushRegistered", endpoint: DEVICE.endpoint, registered: true });
    await on;

    socket.drop(); // the connection drops: the next one registers again
    await vi.advanceTimersByTimeAsync(60_000);
    const next = await h.reopen();
    expect(next).not.toBe(socket);
    expect(next.frames("registerPush")).toHaveLength(1);

    const off = h.client.setPushSubscription(null);
    await settle();
    expect(next.pending("unregisterPush")).toMatchObject({ endpoint: DEVICE.endpoint });
    next.answer("unregisterPush", { type: "pushRegistered", endpoint: DEVICE.endpoint, registered: false });
    await off;
  });

  it("reads the browser's subscription JSON, and refuses one without keys", () => {
    expect(subscriptionInfo(DEVICE)).toEqual({ endpoint: DEVICE.endpoint, keys: { p256dh: "BPub", auth: "au" } });
    expect(subscriptionInfo({ endpoint: "https://push.example/a" })).toBeNull();
  });
});
