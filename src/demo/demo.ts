// `npm run demo`: a whole LeakWatch story on one machine. A real control plane, a leaking Go service
// and a healthy one, the operator, and — once the leak is detected and captured — the event as
// on-call sees it, the top growing call sites, and the command that opens the capture.
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pino } from "pino";
import { parse } from "yaml";
import { formatDuration } from "../api/duration.ts";
import type { LeakWatch, LeakWatchSpec } from "../api/types.ts";
import { ConfigMapCaptureStore, captureFileList } from "../kube/captures.ts";
import { KubeClient } from "../kube/client.ts";
import { leaseIdentity } from "../kube/lease.ts";
import { CONFIG_DEFAULTS, validateConfig } from "../controller/config.ts";
import { startManager } from "../controller/manager.ts";
import { captureCommands } from "../controller/report.ts";
import { REPO_ROOT, findBinaries } from "../localcluster/binaries.ts";
import { startControlPlane, type ControlPlane } from "../localcluster/controlplane.ts";
import { run as kubectl } from "../localcluster/kubectl.ts";
import { createNamespace } from "../localcluster/kubelet.ts";
import { ProcessGroup } from "../localcluster/processes.ts";
import { DEMO_NAMESPACE, DemoFleet, type DemoApp } from "./fleet.ts";
import { podLines, type DemoOutput } from "./view.ts";

export interface DemoOptions {
  restart: boolean;
  output: DemoOutput;
  signal: AbortSignal;
  /** Give up (exit 1) if the leak is not captured by then. */
  timeoutMs: number;
  /** Where the capture's files are written, to open after the demo. */
  saveDir: string;
  /** Keep the cluster up after the story until Ctrl-C (interactive runs). */
  stayUp: boolean;
}

const LEAKY: DemoApp = { name: "leaky-app", behaviour: "slice", rate: "64KiB", memoryLimit: "256Mi" };
const STEADY: DemoApp = { name: "steady-app", behaviour: "sawtooth", rate: "256KiB", memoryLimit: "256Mi" };

interface EventItem {
  type?: string;
  reason?: string;
  note?: string;
  regarding?: { kind?: string; name?: string };
  reportingController?: string;
  eventTime?: string;
}

export async function runDemo(o: DemoOptions): Promise<number> {
  const started = Date.now();
  const out = o.output;
  out.progress("LeakWatch demo: a leaking Go service, a healthy one, and the operator watching both.");
  await findBinaries(["etcd", "kube-apiserver", "kubectl", "leaky-app"], process.env, (line) => {
    out.progress(`• ${line} — the first run compiles Kubernetes from source, later runs start in seconds`);
  });
  out.progress("• starting a local control plane (etcd + kube-apiserver)");
  const cp = await startControlPlane();
  const group = new ProcessGroup(join(cp.dir, "apps"));
  const operatorAbort = new AbortController();
  let exitCode = 1;
  try {
    exitCode = await story(o, cp, group, operatorAbort, started);
    if (exitCode === 0 && o.stayUp && !o.signal.aborted) {
      out.print(
        `\nThe cluster stays up for you to look around (Ctrl-C ends the demo):\n  export KUBECONFIG=${cp.kubeconfigPath}\n  ${cp.kubectlPath} get lw,pods,events -n ${DEMO_NAMESPACE}\n  node src/main.ts status -n ${DEMO_NAMESPACE}`,
      );
      await new Promise<void>((resolveStop) => {
        o.signal.addEventListener("abort", () => {
          resolveStop();
        });
      });
    }
  } finally {
    out.progress("• tearing down");
    operatorAbort.abort();
    await group.stopAll(2_000);
    await cp.stop();
  }
  return exitCode;
}

async function story(
  o: DemoOptions,
  cp: ControlPlane,
  group: ProcessGroup,
  operatorAbort: AbortController,
  started: number,
): Promise<number> {
  const out = o.output;
  await kubectl(cp, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
  await kubectl(cp, ["wait", "--for=condition=Established", "crd/leakwatches.leakwatch.dev"]);
  const client = await KubeClient.load({ kubeconfig: cp.kubeconfigPath });
  await createNamespace(client, DEMO_NAMESPACE);
  const { "leaky-app": leakyBinary } = await findBinaries(["leaky-app"]);
  const fleet = new DemoFleet(client, group, leakyBinary);
  out.progress(
    `• starting ${LEAKY.name} (leaks ${LEAKY.rate}/s into a slice that only grows) and ${STEADY.name} (healthy GC sawtooth)`,
  );
  await fleet.createWorkload(LEAKY, o.restart ? 2 : 1);
  await fleet.createWorkload(STEADY, 1);
  for (let i = 0; i < (o.restart ? 2 : 1); i++) await fleet.startReplica(LEAKY);
  await fleet.startReplica(STEADY);

  const spec = demoSpec(o.restart);
  await client.create(`/apis/leakwatch.dev/v1alpha1/namespaces/${DEMO_NAMESPACE}/leakwatches`, {
    apiVersion: "leakwatch.dev/v1alpha1",
    kind: "LeakWatch",
    metadata: { name: "demo" },
    spec,
  });
  out.progress(
    `• applied LeakWatch demo (interval ${spec.interval ?? ""}, window ${spec.detection?.window ?? ""}${o.restart ? ", action Restart with Evict" : ""})`,
  );

  const logFile = join(cp.dir, "operator.log");
  const logger = pino({ level: "debug" }, pino.destination({ dest: logFile, sync: false }));
  const manager = await startManager(
    validateConfig({
      kubeconfig: cp.kubeconfigPath,
      context: undefined,
      namespaces: [DEMO_NAMESPACE],
      metricsHost: "127.0.0.1",
      metricsPort: 0,
      leaderElect: false,
      leaseNamespace: DEMO_NAMESPACE,
      leaseName: CONFIG_DEFAULTS.leaseName,
      identity: leaseIdentity("demo"),
      concurrency: 8,
      maxInflightProfileBytes: CONFIG_DEFAULTS.maxInflightProfileBytes,
      weighSamplingError: CONFIG_DEFAULTS.weighSamplingError,
      reconcileConcurrency: 2,
      statusMinIntervalMs: 2_000,
      persistEveryIntervals: CONFIG_DEFAULTS.persistEveryIntervals,
      logLevel: "debug",
      leaseDurationMs: CONFIG_DEFAULTS.leaseDurationMs,
      renewDeadlineMs: CONFIG_DEFAULTS.renewDeadlineMs,
      retryPeriodMs: CONFIG_DEFAULTS.retryPeriodMs,
    }),
    logger,
    operatorAbort.signal,
  );
  out.progress(
    `• operator running (metrics at http://127.0.0.1:${manager.metricsPort}/metrics, log ${logFile})\n`,
  );

  const deadline = Date.now() + o.timeoutMs;
  let captureName: string | undefined;
  let restarted: { gone: string; replacement: string } | undefined;
  while (!o.signal.aborted && Date.now() < deadline) {
    const lw = await client.get<LeakWatch>(
      `/apis/leakwatch.dev/v1alpha1/namespaces/${DEMO_NAMESPACE}/leakwatches/demo`,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${manager.metricsPort}/metrics`)).text();
    const lines = podLines(metrics);
    const elapsed = formatDuration(Date.now() - started);
    const collecting = lines.filter((l) => l.verdict === "Collecting").length;
    const footer =
      collecting > 0
        ? `collecting: ${collecting} pod(s) still filling the detection window… (${elapsed})`
        : `watching ${lines.length} pods (${elapsed})`;
    out.table(lines, footer);
    captureName ??= lw.status?.captures?.[0]?.name;
    if (o.restart) {
      const replaced = await fleet.replaceDeleted([LEAKY, STEADY]);
      if (replaced[0] !== undefined) {
        restarted = replaced[0];
        out.print(
          `\n↻ LeakWatch evicted ${restarted.gone} (evidence captured first); its replacement ${restarted.replacement} is running with a fresh heap.`,
        );
      }
    }
    if (captureName !== undefined && (!o.restart || restarted !== undefined)) break;
    await sleep(1_000, o.signal);
  }
  if (captureName === undefined || (o.restart && restarted === undefined)) {
    out.print(
      o.signal.aborted
        ? "demo interrupted"
        : `no leak was captured within ${formatDuration(o.timeoutMs)}; see ${logFile}`,
    );
    return 1;
  }
  await explain(o, client, captureName, started);
  return 0;
}

function demoSpec(restart: boolean): LeakWatchSpec {
  const example = parse(readFileSync(join(REPO_ROOT, "examples/leakwatch-demo.yaml"), "utf8")) as {
    spec: LeakWatchSpec;
  };
  if (!restart) return example.spec;
  return {
    ...example.spec,
    action: {
      mode: "Restart",
      restart: {
        strategy: "Evict",
        trigger: "Confirmed",
        maxUnavailable: 1,
        cooldown: "1m",
        budget: { restarts: 3, per: "1h" },
      },
    },
  };
}

async function explain(
  o: DemoOptions,
  client: KubeClient,
  captureName: string,
  started: number,
): Promise<void> {
  const out = o.output;
  out.print(`\n✔ Leak detected and captured ${formatDuration(Date.now() - started)} after start.\n`);
  const events = await client.get<{ items: EventItem[] }>(
    `/apis/events.k8s.io/v1/namespaces/${DEMO_NAMESPACE}/events`,
  );
  const detected = events.items.filter(
    (e) => e.reason === "MemoryLeakDetected" && e.regarding?.kind === "Pod",
  );
  out.print("What on-call sees (kubectl get events -n demo):");
  for (const e of detected.slice(0, 2)) {
    out.print(
      `  ${e.type ?? ""}  ${e.reason ?? ""}  pod/${e.regarding?.name ?? ""}  (${e.reportingController ?? ""})\n    ${e.note ?? ""}`,
    );
  }
  const store = new ConfigMapCaptureStore({ client });
  const capture = await store.get(DEMO_NAMESPACE, captureName);
  const dir = join(o.saveDir, captureName);
  await mkdir(dir, { recursive: true });
  for (const [file, content] of captureFileList(capture)) await writeFile(join(dir, file), content);
  const report = capture.files["report.txt"];
  const grew = report.split("\n");
  const from = grew.findIndex((l) => l.startsWith("What grew"));
  out.print(
    `\nThe capture's report — what grew, at which line:\n${grew
      .slice(from < 0 ? 0 : from, (from < 0 ? 0 : from) + 8)
      .map((l) => `  ${l}`)
      .join("\n")}`,
  );
  const hasBase = capture.files["base-heap.pb.gz"] !== undefined;
  const commands = captureCommands(DEMO_NAMESPACE, captureName, hasBase);
  out.print(
    `\nThe capture is saved in ${dir}. Open it with:\n  go tool pprof -top ${hasBase ? `-base ${join(dir, "base-heap.pb.gz")} ` : ""}${join(dir, "heap.pb.gz")}\n  go tool pprof -http=: ${hasBase ? `-base ${join(dir, "base-heap.pb.gz")} ` : ""}${join(dir, "heap.pb.gz")}\nIn a cluster, on-call fetches it with:\n  ${commands.fetch}`,
  );
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolveSleep) => {
    const timer = setTimeout(resolveSleep, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolveSleep();
    });
  });
}
