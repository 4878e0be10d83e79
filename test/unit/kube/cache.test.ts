import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  applyChange,
  changeForDelete,
  changeForUpsert,
  diffRelist,
  objectKey,
  type CacheEntry,
} from "../../../src/kube/cache.ts";

const entry = (object: string, resourceVersion: string): CacheEntry<string> => ({ object, resourceVersion });

describe("objectKey", () => {
  it("is namespace/name, or name for cluster-scoped objects", () => {
    expect(objectKey({ metadata: { namespace: "ns", name: "a" } })).toBe("ns/a");
    expect(objectKey({ metadata: { name: "node-1" } })).toBe("node-1");
    expect(objectKey({ metadata: { namespace: "", name: "node-1" } })).toBe("node-1");
    expect(objectKey({ metadata: { namespace: "ns" } })).toBeUndefined();
    expect(objectKey({})).toBeUndefined();
  });
});

describe("watch event changes", () => {
  const cache = new Map([["ns/a", entry("a1", "10")]]);

  it("adds unknown objects, from ADDED or MODIFIED alike", () => {
    expect(changeForUpsert(cache, "ns/b", entry("b1", "11"))).toEqual({
      type: "add",
      key: "ns/b",
      entry: entry("b1", "11"),
    });
  });

  it("updates on a new resourceVersion and ignores a replay of the one we hold", () => {
    expect(changeForUpsert(cache, "ns/a", entry("a1", "10"))).toBeUndefined();
    expect(changeForUpsert(cache, "ns/a", entry("a2", "12"))).toEqual({
      type: "update",
      key: "ns/a",
      entry: entry("a2", "12"),
      old: entry("a1", "10"),
      quiet: false,
    });
  });

  it("marks an update quiet when the trimmed object did not change", () => {
    const same = (x: string, y: string): boolean => x === y;
    expect(changeForUpsert(cache, "ns/a", entry("a1", "13"), same)).toMatchObject({
      type: "update",
      quiet: true,
    });
    expect(changeForUpsert(cache, "ns/a", entry("a2", "13"), same)).toMatchObject({
      type: "update",
      quiet: false,
    });
  });

  it("deletes with the last cached state, and ignores deletes of objects never seen", () => {
    expect(changeForDelete(cache, "ns/a")).toEqual({ type: "delete", key: "ns/a", old: entry("a1", "10") });
    expect(changeForDelete(cache, "ns/zzz")).toBeUndefined();
  });
});

describe("diffRelist", () => {
  it("yields adds, updates of changed objects only, and deletes of objects gone while away", () => {
    const cache = new Map([
      ["a", entry("a", "1")],
      ["b", entry("b", "2")],
      ["c", entry("c", "3")],
    ]);
    const listed = new Map([
      ["a", entry("a", "1")],
      ["c", entry("c'", "7")],
      ["d", entry("d", "8")],
    ]);
    const changes = diffRelist(cache, listed);
    expect(changes.map((c) => `${c.type}:${c.key}`)).toEqual(["update:c", "add:d", "delete:b"]);
    expect(changes.find((c) => c.type === "delete")).toMatchObject({ old: entry("b", "2") });
  });

  it("applied to the cache, always gives the listed state (property)", () => {
    const state = fc.dictionary(
      fc.constantFrom("a", "b", "c", "d", "e", "f"),
      fc.constantFrom("1", "2", "3"),
    );
    fc.assert(
      fc.property(state, state, (before, after) => {
        const cache = new Map(Object.entries(before).map(([k, rv]) => [k, entry(`${k}@${rv}`, rv)]));
        const listed = new Map(Object.entries(after).map(([k, rv]) => [k, entry(`${k}@${rv}`, rv)]));
        const changes = diffRelist(cache, listed);
        for (const change of changes) applyChange(cache, change);
        expect(new Map([...cache].sort())).toEqual(new Map([...listed].sort()));
        // Every change is needed: no update without a new resourceVersion.
        for (const change of changes) {
          if (change.type === "update")
            expect(change.old.resourceVersion).not.toBe(change.entry.resourceVersion);
        }
      }),
    );
  });
});
