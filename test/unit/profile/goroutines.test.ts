import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Frame } from "../../../src/profile/index.ts";
import {
  decodeProfileBytes,
  describeGroup,
  goroutineGroups,
  MissingSampleTypeError,
  parseGoroutineSummary,
  summarizeGoroutines,
} from "../../../src/profile/index.ts";
import { blockingSite, isApplicationFrame } from "../../../src/profile/goroutines.ts";
import { FIXTURES } from "./helpers/go.ts";

const summarize = (name: string, maxGroups?: number) =>
  summarizeGoroutines(decodeProfileBytes(readFileSync(path.join(FIXTURES, name))), { maxGroups });

const frame = (fn: string, line = 1, file = "x.go"): Frame => ({
  function: fn,
  file,
  line,
  inline: false,
  symbolized: true,
});

describe("summarizeGoroutines", () => {
  it("groups a real goroutine profile by where application code blocks", () => {
    const s = summarize("go-goroutine.pb.gz");
    expect(s.profileType).toBe("goroutine");
    const lines = goroutineGroups(s).map(describeGroup);
    expect(lines[0]).toBe("100 goroutines parked at main.worker (main.go:27) in chan receive");
    expect(lines[1]).toBe("7 goroutines parked at main.sleeper (main.go:33) in sleep");
    expect(lines).toContain("1 goroutine parked at main.main (main.go:57) in IO wait");
    expect(s.total).toBe(goroutineGroups(s).reduce((a, g) => a + g.count, 0));
    expect(s.total).toBeGreaterThanOrEqual(109);
  });

  it("reads goroutineleak profiles the same way: only the goroutines that can never wake", () => {
    const s = summarize("go-goroutineleak.pb.gz");
    expect(s.profileType).toBe("goroutineleak");
    expect(s.total).toBe(100);
    expect(goroutineGroups(s).map(describeGroup)).toEqual([
      "100 goroutines parked at main.worker (main.go:27) in chan receive",
    ]);
  });

  it("bounds the groups and counts the rest", () => {
    const s = summarize("go-goroutine.pb.gz", 2);
    expect(goroutineGroups(s)).toHaveLength(2);
    expect(s.other.count).toBe(s.total - 107);
    expect(parseGoroutineSummary(JSON.stringify(s))).toEqual(s);
  });

  it("needs a goroutine count sample type", () => {
    const heap = decodeProfileBytes(readFileSync(path.join(FIXTURES, "go-heap.pb.gz")));
    expect(() => summarizeGoroutines(heap)).toThrow(MissingSampleTypeError);
  });
});

describe("blockingSite", () => {
  const park = [frame("runtime.gopark", 462), frame("runtime.selectgo", 351)];

  it("names the first application frame and the operation it waits in", () => {
    expect(
      blockingSite([...park, frame("github.com/acme/svc/queue.(*Q).loop", 88), frame("main.main")]),
    ).toEqual({
      function: "github.com/acme/svc/queue.(*Q).loop",
      file: "x.go",
      line: 88,
      state: "select",
    });
    const cond = [
      frame("runtime.gopark"),
      frame("runtime.goparkunlock"),
      frame("sync.runtime_notifyListWait"),
      frame("sync.(*Cond).Wait"),
      frame("main.consume", 12),
    ];
    expect(blockingSite(cond)).toMatchObject({ function: "main.consume", state: "sync.Cond.Wait" });
    const mutex = [
      frame("runtime.gopark"),
      frame("runtime.semacquire1"),
      frame("internal/sync.(*Mutex).lockSlow"),
      frame("sync.(*Mutex).Lock"),
      frame("main.update", 5),
    ];
    expect(blockingSite(mutex)).toMatchObject({ function: "main.update", state: "sync.Mutex.Lock" });
  });

  it("falls back to the first non-runtime frame, then to the outermost", () => {
    const httpRead = [
      frame("runtime.gopark"),
      frame("internal/poll.runtime_pollWait"),
      frame("net.(*conn).Read"),
      frame("net/http.(*connReader).backgroundRead", 702),
      frame("runtime.goexit"),
    ];
    expect(blockingSite(httpRead)).toMatchObject({
      function: "net/http.(*connReader).backgroundRead",
      state: "IO wait",
    });
    expect(blockingSite([frame("runtime.gopark"), frame("runtime.gcBgMarkWorker")])).toMatchObject({
      function: "runtime.gcBgMarkWorker",
      state: "parked",
    });
    expect(blockingSite([frame("main.spin", 3)])).toMatchObject({ function: "main.spin", state: "running" });
    expect(blockingSite([])).toMatchObject({ function: "<no stack>" });
  });

  it("tells application code from the standard library", () => {
    expect(isApplicationFrame("main.worker")).toBe(true);
    expect(isApplicationFrame("github.com/a/b.(*T).m")).toBe(true);
    expect(isApplicationFrame("example.com/x/y.f.func1")).toBe(true);
    expect(isApplicationFrame("net/http.(*Server).Serve")).toBe(false);
    expect(isApplicationFrame("runtime.gopark")).toBe(false);
    expect(isApplicationFrame("encoding/json.Unmarshal")).toBe(false);
  });
});
