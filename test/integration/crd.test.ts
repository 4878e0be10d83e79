// The LeakWatch CRD in a real API server: accepted, examples apply, bad specs are refused with the
// intended message, and the status subresource is separate from the spec.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { clients, freshNamespace, kubectl } from "../harness/kube.ts";

const EXAMPLES = join(REPO_ROOT, "examples");

function leakWatch(spec: Record<string, unknown>, name = "lw"): string {
  return JSON.stringify({
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    metadata: { name },
    spec,
  });
}

async function applyError(ns: string, manifest: string): Promise<string> {
  try {
    await kubectl(["apply", "-n", ns, "-f", "-"], manifest);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("the API server accepted a spec it should refuse");
}

describe("LeakWatch CRD", () => {
  it("is established with its short name and printer columns", async () => {
    const out = await kubectl(["get", "crd", "leakwatches.leakwatch.dev", "-o", "json"]);
    const crd = JSON.parse(out) as {
      spec: { names: { shortNames: string[] }; versions: { additionalPrinterColumns: { name: string }[] }[] };
      status: { conditions: { type: string; status: string }[] };
    };
    expect(crd.spec.names.shortNames).toEqual(["lw"]);
    expect(crd.status.conditions).toContainEqual(
      expect.objectContaining({ type: "Established", status: "True" }),
    );
    expect(crd.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual(
      expect.arrayContaining(["Watched", "Leaking", "Mode", "Ready", "Age"]),
    );
  });

  it("applies every example as is, with defaults filled in", async () => {
    const ns = await freshNamespace("examples");
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThanOrEqual(2);
    await kubectl(["apply", "-n", ns, "-f", EXAMPLES]);
    await kubectl(["apply", "-n", ns, "-f", join(EXAMPLES, "leaky-app", "deployment.yaml")]);

    const names = files.flatMap((f) =>
      parseAllDocuments(readFileSync(join(EXAMPLES, f), "utf8")).map(
        (d) => (d.toJS() as { metadata: { name: string } }).metadata.name,
      ),
    );
    const table = await kubectl(["get", "lw", "-n", ns]);
    for (const name of names) expect(table).toContain(name);

    const record = JSON.parse(await kubectl(["get", "lw", "checkout", "-n", ns, "-o", "json"])) as {
      spec: {
        interval: string;
        target: { heapPath: string; via: string };
        action: { mode: string; restart?: unknown };
      };
    };
    expect(record.spec.target.heapPath).toBe("/debug/pprof/heap");
    expect(record.spec.target.via).toBe("Direct");
    expect(record.spec.action).toEqual({ mode: "Record" });

    const restart = JSON.parse(await kubectl(["get", "lw", "ledger", "-n", ns, "-o", "json"])) as {
      spec: { action: { restart: { strategy: string; maxUnavailable: number; dryRun: boolean } } };
    };
    expect(restart.spec.action.restart).toMatchObject({
      strategy: "Evict",
      maxUnavailable: 1,
      dryRun: false,
    });
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    [
      "restart settings without Restart mode",
      { selector: {}, action: { restart: {} } },
      "action.restart is only allowed when action.mode is Restart",
    ],
    [
      "Restart mode without restart settings",
      { selector: {}, action: { mode: "Restart" } },
      "action.restart is required when action.mode is Restart",
    ],
    [
      "BeforeOOM without a horizon",
      { selector: {}, action: { mode: "Restart", restart: { trigger: "BeforeOOM" } } },
      "action.restart.oomHorizon is required when trigger is BeforeOOM",
    ],
    [
      "a horizon without BeforeOOM",
      { selector: {}, action: { mode: "Restart", restart: { oomHorizon: "1h" } } },
      "action.restart.oomHorizon is only allowed with trigger BeforeOOM",
    ],
    [
      "a window shorter than 10 intervals",
      { selector: {}, interval: "60s", detection: { window: "5m" } },
      "detection.window must be at least 10 times interval",
    ],
    [
      "a zero restart budget",
      { selector: {}, action: { mode: "Restart", restart: { budget: { restarts: 0 } } } },
      "action.restart.budget.restarts must be greater than 0",
    ],
    [
      "a duration in days",
      { selector: {}, interval: "1d" },
      "interval must be a duration such as 90s, 15m or 1h30m",
    ],
    ["an interval under a second", { selector: {}, interval: "500ms" }, "interval must be between 1s and 1h"],
    [
      "a port out of range",
      { selector: {}, target: { port: 70000 } },
      "target.port must be a port number (1-65535) or a container port name",
    ],
    [
      "a heap path outside pprof",
      { selector: {}, target: { heapPath: "/metrics" } },
      "target.heapPath must be under /debug/pprof/",
    ],
    [
      "credentials through the API server proxy",
      {
        selector: {},
        target: { via: "APIServerProxy", auth: { bearerTokenSecret: { name: "t", key: "k" } } },
      },
      "target.auth cannot be used with via APIServerProxy",
    ],
    [
      "a CA for plain http",
      { selector: {}, target: { auth: { caSecret: { name: "ca", key: "ca.crt" } } } },
      "target.auth.caSecret and serverName need scheme https",
    ],
    [
      "a huge capture size",
      { selector: {}, captures: { maxBytes: "1Gi" } },
      "captures.maxBytes must be between 64Ki and 64Mi",
    ],
    [
      "an empty restart window",
      { selector: {}, action: { mode: "Restart", restart: { windows: [{ start: "09:00", end: "09:00" }] } } },
      "a restart window's start and end must differ",
    ],
    [
      "In without values",
      { selector: { matchExpressions: [{ key: "app", operator: "In" }] } },
      "matchExpressions with In or NotIn need values",
    ],
    [
      "maxUnavailable of zero",
      { selector: {}, action: { mode: "Restart", restart: { maxUnavailable: 0 } } },
      "action.restart.maxUnavailable must be between 1 and 100",
    ],
  ];

  it.each(invalid)("refuses %s with a readable message", async (_what, spec, message) => {
    const ns = await freshNamespace("invalid");
    expect(await applyError(ns, leakWatch(spec))).toContain(message);
  });

  it("updates status through the subresource without bumping generation", async () => {
    const ns = await freshNamespace("status");
    const { custom } = clients();
    const created = (await custom.createNamespacedCustomObject({
      group: "leakwatch.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "leakwatches",
      body: JSON.parse(leakWatch({ selector: {} })) as object,
    })) as { metadata: { generation: number; resourceVersion: string } };
    const status = { observedGeneration: created.metadata.generation, watched: 3, leaking: 1 };
    const updated = (await custom.replaceNamespacedCustomObjectStatus({
      group: "leakwatch.dev",
      version: "v1alpha1",
      namespace: ns,
      plural: "leakwatches",
      name: "lw",
      body: {
        ...(JSON.parse(leakWatch({ selector: {} })) as object),
        metadata: { name: "lw", resourceVersion: created.metadata.resourceVersion },
        status,
      },
    })) as { metadata: { generation: number }; status: typeof status };
    expect(updated.metadata.generation).toBe(created.metadata.generation);
    expect(updated.status).toEqual(status);
    const table = await kubectl(["get", "lw", "lw", "-n", ns]);
    expect(table).toMatch(/lw\s+3\s+1\s+Record/);
  });
});
