import { describe, expect, it } from "vitest";
import { KubeApiError, KubeWatchError } from "../../../src/kube/errors.ts";
import { LineSplitter, parseWatchEvent } from "../../../src/kube/watch.ts";

describe("LineSplitter", () => {
  it("joins lines split across chunks and splits several lines in one chunk", () => {
    const splitter = new LineSplitter(100);
    expect(splitter.push(Buffer.from('{"a":'))).toEqual([]);
    expect(splitter.pendingBytes).toBe(5);
    expect(splitter.push(Buffer.from('1}\n{"b":2}\n{"c"'))).toEqual(['{"a":1}', '{"b":2}']);
    expect(splitter.push(Buffer.from(":3}\n"))).toEqual(['{"c":3}']);
    expect(splitter.pendingBytes).toBe(0);
  });

  it("keeps multi-byte characters whole across chunk boundaries", () => {
    const bytes = Buffer.from('{"name":"café"}\n');
    const splitter = new LineSplitter(100);
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    expect([...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))]).toEqual([
      '{"name":"café"}',
    ]);
  });

  it("refuses a line longer than the limit, even before its newline arrives", () => {
    const splitter = new LineSplitter(10);
    expect(splitter.push(Buffer.from("0123456789\n"))).toEqual(["0123456789"]);
    splitter.push(Buffer.from("01234"));
    expect(() => splitter.push(Buffer.from("567890"))).toThrow(
      expect.objectContaining({ failure: "EventTooLarge" }),
    );
    expect(() => new LineSplitter(10).push(Buffer.from("0123456789A\n"))).toThrow(KubeWatchError);
  });
});

describe("parseWatchEvent", () => {
  it("reads object events and bookmarks", () => {
    const event = parseWatchEvent(
      '{"type":"ADDED","object":{"metadata":{"name":"a","namespace":"ns","resourceVersion":"5"}}}',
      "/p",
    );
    expect(event).toEqual({
      type: "ADDED",
      object: { metadata: { name: "a", namespace: "ns", resourceVersion: "5" } },
    });
    expect(
      parseWatchEvent('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}', "/p")?.type,
    ).toBe("BOOKMARK");
    expect(parseWatchEvent("  ", "/p")).toBeUndefined();
  });

  it("turns an ERROR event into the API error it describes (410 = expired)", () => {
    const event = parseWatchEvent(
      '{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 2 (9)"}}',
      "/p",
    );
    if (event?.type !== "ERROR") throw new Error("expected an ERROR event");
    expect(event.error).toBeInstanceOf(KubeApiError);
    expect(event.error.expired).toBe(true);
    expect(event.error.message).toContain("too old resource version");
  });

  it("rejects what it cannot read", () => {
    for (const line of [
      "not json",
      '{"type":"ADDED"}',
      '{"type":"WHAT","object":{"metadata":{"resourceVersion":"1"}}}',
      '{"type":"MODIFIED","object":{"metadata":{}}}',
      "[1,2]",
    ]) {
      expect(() => parseWatchEvent(line, "/p"), line).toThrow(
        expect.objectContaining({ failure: "Malformed" }),
      );
    }
  });
});
