import { describe, expect, it } from "vitest";
import { ControllerMetrics } from "../../../src/controller/metrics.ts";

const labels = { namespace: "shop", leakwatch: "lw", pod: "checkout-1", container: "app" };

async function verdictLines(m: ControllerMetrics): Promise<string[]> {
  const text = await m.registry.metrics();
  return text.split("\n").filter((line) => line.startsWith("leakwatch_target_verdict{"));
}

describe("ControllerMetrics per-target verdict", () => {
  it("keeps one series per container, labelled with its current verdict", async () => {
    const m = new ControllerMetrics({ processMetrics: false });
    m.setTarget(labels, { heapBytes: 1, verdict: "Healthy" });
    m.setTarget(labels, { heapBytes: 2, verdict: "Leaking" });
    m.setTarget(labels, { heapBytes: 3, verdict: "Leaking" });
    const lines = await verdictLines(m);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('verdict="Leaking"');
    expect(lines[0]?.endsWith(" 1")).toBe(true);
  });

  it("drops the series when the container stops being watched", async () => {
    const m = new ControllerMetrics({ processMetrics: false });
    m.setTarget(labels, { verdict: "Suspected" });
    m.setTarget({ ...labels, pod: "checkout-2" }, { verdict: "Healthy" });
    m.removeTarget(labels);
    const lines = await verdictLines(m);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('pod="checkout-2"');
  });
});
