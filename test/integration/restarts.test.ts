// Controlled restarts against the real API server, with real leaking Go services: a disruption
// budget blocks the eviction (429) until it allows one, dry run changes nothing, opt-out and snooze
// hold, and budget and cooldown survive an operator restart because they live in status.
// The shared control plane runs no controller-manager: workloads are written by hand
// (restarts-workloads.ts) and nothing recreates an evicted pod, which these tests do not need.
// The four scenarios run at once, so the file waits for leak detection only once.
import { describe, it } from "vitest";
import type { LeakWatchSpec, RestartSpec } from "../../src/api/types.ts";
import { eventually, freshNamespace } from "../harness/kube.ts";
import { startLeakyApp, type LeakyApp } from "../harness/goapps.ts";
import { createLeakWatch, fastSpec, status } from "../harness/leakwatch.ts";
import { startOperator, type OperatorProcess } from "../harness/operator.ts";
import {
  createBudget,
  createHandWorkload,
  eventsWith,
  podExists,
  setBudgetStatus,
} from "../harness/workloads.ts";

/** Long enough for leak detection at test speed (typically 1–2 min), and then some. */
const DETECTION = { timeoutMs: 240_000, intervalMs: 1_000 };

const leaky = async (): Promise<LeakyApp> => startLeakyApp({ behaviour: "slice", rate: "512KiB" });
const idle = async (): Promise<LeakyApp> => startLeakyApp({ behaviour: "idle" });

function restartSpec(restart: RestartSpec): LeakWatchSpec {
  return fastSpec({ action: { mode: "Restart", restart } });
}

async function operatorFor(namespaces: string[], name?: string): Promise<OperatorProcess> {
  return startOperator({
    args: ["--leader-elect=false", "--status-min-interval=1", `--namespaces=${namespaces.join(",")}`],
    ...(name === undefined ? {} : { name }),
  });
}

/** Waits until the operator has scraped `count` more times: time enough to have acted, if it would. */
async function moreScrapes(operator: OperatorProcess, count: number): Promise<void> {
  const scrapes = async (): Promise<number> =>
    Number(
      /leakwatch_scrapes_total\{kind="heap",result="ok"\} (\d+)/.exec(await operator.metrics())?.[1] ?? 0,
    );
  const from = await scrapes();
  await eventually(
    `${count} more scrapes`,
    async () => ((await scrapes()) >= from + count ? true : undefined),
    {
      timeoutMs: 60_000,
    },
  );
}

describe.concurrent("controlled restarts", () => {
  it("an eviction a PodDisruptionBudget refuses is RestartBlocked, naming it, and goes through once it allows", async ({
    expect,
  }) => {
    const ns = await freshNamespace("rs-pdb");
    const web = await createHandWorkload(ns, "web", [{ app: await leaky() }, { app: await idle() }]);
    const [victim = "", sibling = ""] = web.pods;
    const healthy = { currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 };
    await createBudget(ns, "web-pdb", "web", { disruptionsAllowed: 0, ...healthy });
    await createLeakWatch(ns, "lw", restartSpec({ strategy: "Evict", cooldown: "0s" }));
    const operator = await operatorFor([ns]);

    const blocked = await eventually(
      "RestartBlocked on the leaking pod",
      async () => (await eventsWith(ns, "RestartBlocked")).find((e) => e.regarding?.kind === "Pod"),
      DETECTION,
    );
    expect(blocked).toMatchObject({ type: "Warning", regarding: { name: victim } });
    expect(blocked.note).toContain("PodDisruptionBudget web-pdb allows no disruption now");
    expect(blocked.note).toMatch(/needs 2 healthy pods/);
    expect(await podExists(ns, victim)).toBe(true);
    const held = await eventually("the Blocked record in status", async () => {
      const s = await status(ns, "lw");
      return s.restarts?.[0]?.result === "Blocked" ? s : undefined;
    });
    expect(held.restarts).toEqual([
      expect.objectContaining({
        pod: victim,
        workload: "Deployment/web",
        strategy: "Evict",
        result: "Blocked",
      }),
    ]);

    // The budget frees one disruption: the next attempt (with backoff) evicts the pod.
    await setBudgetStatus(ns, "web-pdb", 1, { disruptionsAllowed: 1, ...healthy });
    await eventually(
      "the leaking pod evicted",
      async () => ((await podExists(ns, victim)) ? undefined : true),
      {
        timeoutMs: 90_000,
      },
    );
    const done = await eventually("the record says Restarted", async () => {
      const s = await status(ns, "lw");
      return s.restarts?.[0]?.result === "Restarted" ? s : undefined;
    });
    expect(done.restarts).toHaveLength(1);
    const capture = done.restarts?.[0]?.capture;
    expect(capture).toBeDefined();
    expect(done.captures?.map((c) => c.name)).toContain(capture);
    const restarted = await eventually("LeakRestarted on pod, Deployment and LeakWatch", async () => {
      const list = await eventsWith(ns, "LeakRestarted");
      return list.length >= 3 ? list : undefined;
    });
    expect(restarted.map((e) => e.regarding?.kind).sort()).toEqual(["Deployment", "LeakWatch", "Pod"]);
    expect(restarted[0]?.note).toMatch(new RegExp(`evicted ${victim} at .*strategy Evict\\): heap leaking`));
    expect(restarted[0]?.note).toContain(`Evidence: capture ${capture ?? "?"}`);
    expect(await podExists(ns, sibling)).toBe(true);
    await operator.stop();
  });

  it("dry run records WouldRestart and changes nothing", async ({ expect }) => {
    const ns = await freshNamespace("rs-dry");
    const web = await createHandWorkload(ns, "web", [{ app: await leaky() }, { app: await idle() }]);
    const [victim = ""] = web.pods;
    await createLeakWatch(ns, "lw", restartSpec({ strategy: "Evict", dryRun: true, cooldown: "0s" }));
    const operator = await operatorFor([ns]);

    const would = await eventually(
      "WouldRestart on the leaking pod",
      async () => (await eventsWith(ns, "WouldRestart")).find((e) => e.regarding?.kind === "Pod"),
      DETECTION,
    );
    expect(would).toMatchObject({ type: "Normal", regarding: { name: victim } });
    expect(would.note).toMatch(new RegExp(`\\(dryRun\\) would evict ${victim}.*Nothing was changed`));
    await moreScrapes(operator, 10);
    expect(await podExists(ns, victim)).toBe(true);
    expect(await eventsWith(ns, "LeakRestarted")).toEqual([]);
    const s = await status(ns, "lw");
    expect(s.restarts).toEqual([
      expect.objectContaining({ pod: victim, result: "DryRun", dryRun: true, workload: "Deployment/web" }),
    ]);
    expect((await eventsWith(ns, "WouldRestart")).filter((e) => e.regarding?.kind === "Pod")).toHaveLength(1);
    await operator.stop();
  });

  it("a pod that opted out, and one that is snoozed, are left alone and say why", async ({ expect }) => {
    const ns = await freshNamespace("rs-opt");
    const snoozeUntil = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const web = await createHandWorkload(ns, "web", [
      { app: await leaky(), annotations: { "leakwatch.dev/restart": "false" } },
      { app: await leaky(), annotations: { "leakwatch.dev/snooze-until": snoozeUntil } },
      { app: await idle() },
    ]);
    const [optedOut = "", snoozed = ""] = web.pods;
    await createLeakWatch(ns, "lw", restartSpec({ strategy: "Evict", cooldown: "0s", maxUnavailable: 2 }));
    const operator = await operatorFor([ns]);

    const skipped = await eventually(
      "RestartSkipped for both pods",
      async () => {
        const list = (await eventsWith(ns, "RestartSkipped")).filter((e) => e.regarding?.kind === "Pod");
        return list.length >= 2 ? list : undefined;
      },
      DETECTION,
    );
    const about = (pod: string) => skipped.find((e) => e.regarding?.name === pod);
    expect(about(optedOut)?.note).toContain('opted out of restarts (leakwatch.dev/restart: "false")');
    expect(about(snoozed)?.note).toContain(`is snoozed until ${snoozeUntil.slice(0, 16)}`);
    expect(about(optedOut)?.type).toBe("Normal");
    await moreScrapes(operator, 10);
    expect(await podExists(ns, optedOut)).toBe(true);
    expect(await podExists(ns, snoozed)).toBe(true);
    expect((await status(ns, "lw")).restarts ?? []).toEqual([]);
    expect(await eventsWith(ns, "LeakRestarted")).toEqual([]);
    await operator.stop();
  });

  it("budget and cooldown hold across an operator restart: they are read back from status", async ({
    expect,
  }) => {
    const [nsBudget, nsCooldown] = await Promise.all([
      freshNamespace("rs-budget"),
      freshNamespace("rs-cool"),
    ]);
    const a = await createHandWorkload(nsBudget, "a", [{ app: await leaky() }, { app: await idle() }]);
    const b = await createHandWorkload(nsBudget, "b", [{ app: await leaky() }, { app: await idle() }]);
    await createLeakWatch(
      nsBudget,
      "lw",
      restartSpec({ budget: { restarts: 1, per: "24h" }, cooldown: "0s" }),
    );
    const web = await createHandWorkload(nsCooldown, "web", [
      { app: await leaky() },
      { app: await leaky() },
      { app: await idle() },
    ]);
    await createLeakWatch(nsCooldown, "lw", restartSpec({ budget: { restarts: 5 }, cooldown: "1h" }));
    const first = await operatorFor([nsBudget, nsCooldown], "restarts-first");

    const restartedIn = async (ns: string): Promise<string> =>
      eventually(
        `a restart recorded in ${ns}`,
        async () => (await status(ns, "lw")).restarts?.find((r) => r.result === "Restarted")?.pod,
        DETECTION,
      );
    const [budgetVictim, cooldownVictim] = await Promise.all([
      restartedIn(nsBudget),
      restartedIn(nsCooldown),
    ]);
    await first.stop();

    const second = await operatorFor([nsBudget, nsCooldown], "restarts-second");
    const survivor = [a.pods[0], b.pods[0]].find((p) => p !== budgetVictim) ?? "";
    const exhausted = await eventually(
      "the new operator refuses with RestartBudgetExhausted",
      async () =>
        (await eventsWith(nsBudget, "RestartBudgetExhausted")).find(
          (e) => e.regarding?.kind === "Pod" && e.reportingInstance?.startsWith("restarts-second_") === true,
        ),
      DETECTION,
    );
    expect(exhausted).toMatchObject({ type: "Warning", regarding: { name: survivor } });
    expect(exhausted.note).toMatch(/restart budget used up: 1 of 1 restarts in 1d.*needs a human/);
    const other = web.pods.slice(0, 2).find((p) => p !== cooldownVictim) ?? "";
    const cooling = await eventually(
      "the new operator waits out the cooldown",
      async () =>
        (await eventsWith(nsCooldown, "RestartWaiting")).find(
          (e) =>
            e.regarding?.name === other &&
            e.reportingInstance?.startsWith("restarts-second_") === true &&
            e.note?.includes("cooldown 1h") === true,
        ),
      DETECTION,
    );
    expect(cooling.note).toContain("Deployment/web was restarted");
    await moreScrapes(second, 10);
    expect(await podExists(nsBudget, survivor)).toBe(true);
    expect(await podExists(nsCooldown, other)).toBe(true);
    for (const ns of [nsBudget, nsCooldown]) {
      expect((await status(ns, "lw")).restarts?.filter((r) => r.result === "Restarted")).toHaveLength(1);
    }
    await second.stop();
  });
});
