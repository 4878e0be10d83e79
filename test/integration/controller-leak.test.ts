// The whole point: a real Go service that leaks is called Leaking within minutes at test speed,
// with the right events, status and a capture whose diff names the leaking function — while a
// healthy sawtooth service next to it is never called leaking.
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigMapCaptureStore } from "../../src/kube/captures.ts";
import { clients, createRunningPod, eventually, freshNamespace, kubeClient } from "../harness/kube.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { createLeakWatch, fastSpec, podRow, status } from "../harness/leakwatch.ts";
import { startOperator } from "../harness/operator.ts";

const exec = promisify(execFile);

describe("controller: catching a leak", () => {
  it("detects a leaking service, captures the evidence, and leaves the healthy one alone", async () => {
    const ns = await freshNamespace("leak");
    const [leaky, steady, goroutines] = await Promise.all([
      startLeakyApp({ behaviour: "slice", rate: "256KiB" }),
      startLeakyApp({ behaviour: "sawtooth", rate: "256KiB" }),
      startLeakyApp({ behaviour: "goroutine-ticker", goroutineRate: 20 }),
    ]);
    const annotations = (port: number): Record<string, string> => ({
      "leakwatch.dev/scrape": "true",
      "leakwatch.dev/port": String(port),
    });
    await createRunningPod({
      namespace: ns,
      name: "leaky",
      podIP: leaky.host,
      annotations: annotations(leaky.port),
      memoryLimit: "512Mi",
    });
    await createRunningPod({
      namespace: ns,
      name: "steady",
      podIP: steady.host,
      annotations: annotations(steady.port),
      memoryLimit: "512Mi",
    });
    await createRunningPod({
      namespace: ns,
      name: "stuck",
      podIP: goroutines.host,
      annotations: annotations(goroutines.port),
    });
    await createLeakWatch(
      ns,
      "lw",
      fastSpec({ detection: { window: "1m", warmup: "3s", minGoroutineGrowthPerHour: 100 } }),
    );
    const operator = await startOperator({
      args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${ns}`],
    });

    const leaking = await eventually(
      "the leak detected and captured",
      async () => {
        const s = await status(ns, "lw");
        return podRow(s, "leaky")?.verdict === "Leaking" && (s.captures?.length ?? 0) > 0 ? s : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
    const row = podRow(leaking, "leaky");
    expect(row?.growthPerHour).toMatch(/^\d+(\.\d)?[KMG]i\/h$/);
    expect(row?.timeToLimit).toBeDefined();
    expect(leaking.conditions?.find((c) => c.type === "LeakDetected")).toMatchObject({
      status: "True",
      reason: "MemoryLeak",
    });
    expect(podRow(leaking, "steady")?.verdict ?? "Healthy").not.toMatch(/Leaking|Suspected/);

    // The capture: stored whole, named in status, its report names the leaking function.
    const ref = leaking.captures?.[0];
    expect(ref).toMatchObject({ pod: "leaky", complete: true });
    const capture = await new ConfigMapCaptureStore({ client: await kubeClient() }).get(ns, ref?.name ?? "");
    expect(capture.files["report.txt"]).toMatch(/main\.appendChunk \(leaks\.go:\d+\)/);
    expect(ref?.headline).toMatch(/main\.appendChunk/);
    const dir = await mkdtemp(join(tmpdir(), "lw-capture-"));
    await writeFile(join(dir, "heap.pb.gz"), capture.files["heap.pb.gz"]);
    const { stdout } = await exec("go", ["tool", "pprof", "-top", join(dir, "heap.pb.gz")]);
    expect(stdout).toMatch(/main\.appendChunk/);

    // Events: Suspected first (Normal), then Detected (Warning) on the pod and the LeakWatch.
    const events = (await clients().events.listNamespacedEvent({ namespace: ns })).items;
    const about = (reason: string, kind: string, name: string) =>
      events.filter((e) => e.reason === reason && e.regarding?.kind === kind && e.regarding.name === name);
    const detected = about("MemoryLeakDetected", "Pod", "leaky");
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({
      type: "Warning",
      reportingController: "leakwatch.dev/controller",
      action: "Capture",
    });
    expect(Buffer.byteLength(detected[0]?.note ?? "")).toBeLessThanOrEqual(1024);
    expect(detected[0]?.note).toContain(ref?.name);
    expect(detected[0]?.note).toMatch(/main\.appendChunk/);
    expect(about("MemoryLeakDetected", "LeakWatch", "lw")).toHaveLength(1);
    expect(about("MemoryLeakSuspected", "Pod", "leaky")[0]?.type).toBe("Normal");
    expect(about("MemoryLeakDetected", "Pod", "steady")).toHaveLength(0);

    // The goroutine leak is its own alarm.
    await eventually(
      "the goroutine leak detected",
      async () => {
        const list = await clients().events.listNamespacedEvent({ namespace: ns });
        return list.items.some((e) => e.reason === "GoroutineLeakDetected" && e.regarding?.name === "stuck")
          ? true
          : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );
    const final = await status(ns, "lw");
    expect(podRow(final, "steady")?.verdict ?? "Healthy").toBe("Healthy");
    await operator.stop();
  });
});
