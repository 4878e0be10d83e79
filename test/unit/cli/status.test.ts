import { describe, expect, it } from "vitest";
import type { LeakWatch, LeakWatchStatus } from "../../../src/api/types.ts";
import { UsageError } from "../../../src/cli/command.ts";
import {
  emptyMessage,
  parseStatusArgs,
  renderStatusView,
  statusJSON,
  statusView,
} from "../../../src/cli/status.ts";
import { ALL_NAMESPACES } from "../../../src/kube/leakwatches.ts";

const NOW = Date.parse("2026-05-01T12:00:00Z");

function leakWatch(
  status: LeakWatchStatus | undefined,
  extra: Partial<LeakWatch["spec"]> = {},
  generation = 1,
): LeakWatch {
  return {
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    metadata: { name: "checkout", namespace: "shop", generation },
    spec: { selector: {}, ...extra },
    ...(status === undefined ? {} : { status }),
  };
}

const ready = {
  type: "Ready",
  status: "True" as const,
  reason: "Watching",
  message: "watching 4 container(s)",
  lastTransitionTime: "2026-05-01T10:00:00Z",
};

const reported: LeakWatchStatus = {
  observedGeneration: 1,
  conditions: [ready],
  watched: 4,
  healthy: 2,
  leaking: 1,
  suspected: 1,
  failing: 0,
  collecting: 0,
  pods: [
    {
      pod: "checkout-a",
      container: "app",
      workload: "Deployment/checkout",
      verdict: "Leaking",
      tier: "fast",
      heap: "152Mi",
      growthPerHour: "38Mi/h",
      growthPercentPerHour: 41,
      goroutines: 120,
      goroutineVerdict: "Leaking",
      timeToLimit: "5h",
      restarts: 2,
      lastTerminationReason: "OOMKilled",
    },
    {
      pod: "checkout-b",
      verdict: "Suspected",
      heap: "61Mi",
      growthPerHour: "-1.2Mi/h",
      growthPercentPerHour: -2,
    },
  ],
  captures: [
    {
      name: "lw-old",
      pod: "checkout-a",
      time: "2026-05-01T09:00:00Z",
      headline: "old",
      bytes: 10,
      complete: true,
    },
    {
      name: "lw-new",
      pod: "checkout-a",
      time: "2026-05-01T11:56:00Z",
      headline: "main.appendChunk (leaks.go:18) +38.2 MiB in-use (+1300%)",
      bytes: 10,
      complete: true,
    },
  ],
  restarts: [
    {
      pod: "checkout-z",
      workload: "Deployment/checkout",
      time: "2026-05-01T10:00:00Z",
      strategy: "Evict",
      reason: "heap leaking",
      result: "Restarted",
    },
  ],
};

describe("parseStatusArgs", () => {
  it("defaults to the context's namespace and a table", () => {
    expect(parseStatusArgs([])).toEqual({
      kubeconfig: undefined,
      context: undefined,
      scope: { all: false, namespace: undefined },
      name: undefined,
      format: "table",
    });
  });

  it("takes kubectl's flags", () => {
    expect(
      parseStatusArgs(["checkout", "-n", "shop", "-o", "wide", "--kubeconfig", "/k", "--context", "prod"]),
    ).toEqual({
      kubeconfig: "/k",
      context: "prod",
      scope: { all: false, namespace: "shop" },
      name: "checkout",
      format: "wide",
    });
    expect(parseStatusArgs(["-A", "--output=json"])).toMatchObject({ scope: { all: true }, format: "json" });
    expect(parseStatusArgs(["--namespace=shop"])).toMatchObject({ scope: { all: false, namespace: "shop" } });
    expect(parseStatusArgs(["-h"])).toBe("help");
  });

  it.each([
    [["-n", "shop", "-A"], /use -n NAMESPACE or -A, not both/],
    [["-A", "checkout"], /use -n NAMESPACE, not -A/],
    [["-o", "yaml"], /--output must be one of table, wide, json/],
    [["a", "b"], /at most one LeakWatch NAME/],
    [["--watch"], /Unknown option '--watch'/],
    [["-n"], /argument missing/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseStatusArgs(argv)).toThrow(UsageError);
    expect(() => parseStatusArgs(argv)).toThrow(message);
  });
});

describe("statusView", () => {
  it("joins each row with its pod's newest capture and counts what is not listed", () => {
    const v = statusView(leakWatch(reported));
    expect(v.pods[0]?.lastCapture?.name).toBe("lw-new");
    expect(v.pods[1]?.lastCapture).toBeUndefined();
    expect(v.notListed).toBe(2);
    expect(v.reported).toBe(true);
    expect(v.stale).toBe(false);
    expect(v.mode).toBe("Record");
    expect(v.captures.map((c) => c.name)).toEqual(["lw-new", "lw-old"]);
  });

  it("knows an unreported and a stale status", () => {
    expect(statusView(leakWatch(undefined))).toMatchObject({ reported: false, ready: null, pods: [] });
    expect(statusView(leakWatch(reported, {}, 3)).stale).toBe(true);
  });
});

describe("renderStatusView", () => {
  it("prints a heading, the counts and a table with growth, time to limit and last capture", () => {
    const out = renderStatusView(statusView(leakWatch(reported)), { wide: false, now: NOW });
    expect(out).toBe(
      [
        "LeakWatch shop/checkout (mode Record): ready: watching 4 container(s)",
        "  pods: 4 watched: 1 leaking, 1 suspected, 2 healthy",
        "",
        "POD              VERDICT     HEAP    GROWTH     GROWTH%   TO LIMIT   LAST CAPTURE      HEADLINE",
        "checkout-a/app   Leaking     152Mi   +38Mi/h    +41%/h    5h         lw-new (4m ago)   main.appendChunk (leaks.go:18) +38.2 MiB in-use (+1300%)",
        "checkout-b       Suspected   61Mi    -1.2Mi/h   -2%/h     -          -",
        "(2 more pod(s) not listed: healthy, or past the status's 20 rows)",
        "next: kubectl leakwatch captures get lw-new -n shop -o ./lw-new",
        "",
      ].join("\n"),
    );
  });

  it("adds tier, goroutines, restarts, workload and last error in wide, and LeakWatch's restarts", () => {
    const withError: LeakWatchStatus = {
      ...reported,
      pods: [
        ...(reported.pods ?? []),
        { pod: "checkout-c", verdict: "Failing", lastError: "GET …: connect ECONNREFUSED" },
      ],
    };
    const out = renderStatusView(statusView(leakWatch(withError)), { wide: true, now: NOW });
    const lines = out.split("\n");
    expect(lines[3]).toMatch(
      /^POD\s+VERDICT\s+TIER\s+HEAP\s+GROWTH\s+GROWTH%\s+GOROUTINES\s+TO LIMIT\s+RESTARTS\s+WORKLOAD\s+LAST CAPTURE\s+HEADLINE\s+LAST ERROR$/,
    );
    expect(lines[4]).toMatch(
      /^checkout-a\/app\s+Leaking\s+fast\s+152Mi\s+\+38Mi\/h\s+\+41%\/h\s+120 \(Leaking\)\s+5h\s+2 \(OOMKilled\)\s+Deployment\/checkout\s+lw-new \(4m ago\)\s+main\.appendChunk/,
    );
    expect(lines[6]).toMatch(
      /^checkout-c\s+Failing\s+-\s+-\s+-\s+-\s+-\s+-\s+0\s+-\s+-\s+-\s+GET …: connect ECONNREFUSED$/,
    );
    expect(out).toContain(
      "restarts by LeakWatch: 1 recorded; last checkout-z (Deployment/checkout, Evict, Restarted) 120m ago: heap leaking\n",
    );
  });

  it("says what to do when nothing is reported, nothing is watched, or everything is healthy", () => {
    expect(renderStatusView(statusView(leakWatch(undefined)), { wide: false, now: NOW })).toBe(
      "LeakWatch shop/checkout (mode Record): no status yet: the operator has not reported on it (is it running? helm status leakwatch)\n",
    );
    const none = renderStatusView(
      statusView(
        leakWatch({
          observedGeneration: 1,
          watched: 0,
          conditions: [
            { ...ready, reason: "NoTargets", message: "no opted-in running pod matches the selector" },
          ],
        }),
      ),
      { wide: false, now: NOW },
    );
    expect(none).toContain("ready: no opted-in running pod matches the selector\n  pods: 0 watched\n");
    expect(none).toContain('opt pods in: annotate them leakwatch.dev/scrape: "true" and leakwatch.dev/port');
    const healthy = renderStatusView(
      statusView(leakWatch({ observedGeneration: 1, conditions: [ready], watched: 3, healthy: 3 })),
      { wide: false, now: NOW },
    );
    expect(healthy).toContain("  pods: 3 watched: 3 healthy\n  all 3 watched pod(s) are healthy\n");
  });

  it("shows a suspended, a not-ready and a stale LeakWatch as such", () => {
    const suspended = renderStatusView(statusView(leakWatch(reported, { suspend: true })), {
      wide: false,
      now: NOW,
    });
    expect(suspended.split("\n")[0]).toBe(
      "LeakWatch shop/checkout (mode Record): suspended (spec.suspend: true): no scraping, no actions",
    );
    const invalid = renderStatusView(
      statusView(
        leakWatch(
          {
            observedGeneration: 1,
            conditions: [{ ...ready, status: "False", reason: "InvalidSpec", message: "spec.interval: bad" }],
          },
          { action: { mode: "Restart" } },
          2,
        ),
      ),
      { wide: false, now: NOW },
    );
    expect(invalid).toContain(
      "LeakWatch shop/checkout (mode Restart): not ready (InvalidSpec): spec.interval: bad\n  (the status describes an earlier spec",
    );
  });
});

describe("empty states and JSON", () => {
  it("says how to create a LeakWatch", () => {
    expect(emptyMessage("shop")).toBe(
      "no LeakWatch in namespace shop: kubectl apply -n shop -f examples/leakwatch-record.yaml",
    );
    expect(emptyMessage(ALL_NAMESPACES)).toBe(
      "no LeakWatch in any namespace: kubectl apply -n NAMESPACE -f examples/leakwatch-record.yaml",
    );
  });

  it("prints every LeakWatch's view as JSON", () => {
    const parsed = JSON.parse(statusJSON([statusView(leakWatch(reported))])) as {
      kind: string;
      items: { namespace: string; counts: { watched: number }; pods: { lastCapture?: { name: string } }[] }[];
    };
    expect(parsed.kind).toBe("LeakWatchStatusList");
    expect(parsed.items[0]?.counts.watched).toBe(4);
    expect(parsed.items[0]?.pods[0]?.lastCapture?.name).toBe("lw-new");
    expect(JSON.parse(statusJSON([]))).toEqual({ kind: "LeakWatchStatusList", items: [] });
  });
});
