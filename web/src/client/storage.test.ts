import { describe, expect, it } from "vitest";
import { ForwardMarkers, localStorageStore, memoryStore, type StorageLike } from "./storage";

function fakeLocalStorage(): StorageLike & { values: Map<string, string>; full: boolean } {
  const values = new Map<string, string>();
  const storage = {
    values,
    full: false,
    getItem: (key: string) => values.get(key) ?? null,
    setItem(key: string, value: string) {
      if (storage.full) throw new Error("QuotaExceededError");
      values.set(key, value);
    },
    removeItem: (key: string) => void values.delete(key),
  };
  return storage;
}

describe("localStorageStore", () => {
  it("prefixes keys, and keeps values in memory when the storage refuses them", () => {
    const local = fakeLocalStorage();
    const store = localStorageStore(local, "app:");
    store.set("a", "1");
    expect(local.values.get("app:a")).toBe("1");
    local.full = true;
    store.set("a", "2");
    expect(store.get("a")).toBe("2");
    expect(local.values.get("app:a")).toBe("1");
    store.remove("a");
    expect(store.get("a")).toBeNull();
  });
});

describe("ForwardMarkers", () => {
  it("only moves forward, and a save keeps what another tab saved further", async () => {
    const store = memoryStore();
    const tab1 = new ForwardMarkers(store, "read");
    const tab2 = new ForwardMarkers(store, "read");
    expect(tab1.existed).toBe(false);
    tab1.advance("r1", 5);
    tab2.advance("r1", 9);
    tab2.advance("r2", 1);
    expect(tab1.advance("r1", 4)).toBe(false);
    await Promise.resolve();
    expect(JSON.parse(store.get("read") ?? "{}")).toEqual({ r1: 9, r2: 1 });
    expect(new ForwardMarkers(store, "read")).toMatchObject({ existed: true });
  });

  it("ignores a stored value it cannot read", () => {
    const store = memoryStore();
    store.set("read", "{not json");
    expect(new ForwardMarkers(store, "read").get("r1")).toBeUndefined();
    store.set("read", JSON.stringify({ r1: "five" }));
    expect(new ForwardMarkers(store, "read").get("r1")).toBeUndefined();
  });
});
