// The on-call CLI as a real process against the real control plane: `status` shows the rows a
// LeakWatch's status holds, `captures list` and `captures get` serve a capture of a real Go heap
// profile byte for byte (and go tool pprof opens it), and every failure on-call can meet — unknown,
// incomplete or corrupt capture, no permission, unreachable server, no CRD — is one clear line.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeakWatchStatus } from "../../src/api/types.ts";
import { partName } from "../../src/kube/capture-layout.ts";
import {
  ConfigMapCaptureStore,
  toCaptureRef,
  type CaptureFiles,
  type SavedCapture,
} from "../../src/kube/captures.ts";
import { KubeClient } from "../../src/kube/client.ts";
import type { ConfigMap } from "../../src/kube/configmaps.ts";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { startControlPlane, type ControlPlane } from "../../src/localcluster/controlplane.ts";
import { freePort } from "../../src/localcluster/ports.ts";
import { decodeProfileBytes, diffHeap, renderHeapDiffText, summarizeHeap } from "../../src/profile/index.ts";
import { startLeakyApp } from "../harness/goapps.ts";
import { clients, controlPlane, eventually, freshNamespace } from "../harness/kube.ts";

const execFileP = promisify(execFile);
const NODE = join(REPO_ROOT, "node_modules/.bin/node");
const MAIN = join(REPO_ROOT, "src/main.ts");
const LEAKY_POD = "checkout-7d9f8c6b5-x2k4p";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `leakwatch ARGS` as a separate process; never rejects, the exit code is in the result. */
async function cli(args: readonly string[], options: { cwd?: string } = {}): Promise<Result> {
  return new Promise((resolveRun) => {
    execFile(
      NODE,
      [MAIN, ...args],
      { cwd: options.cwd ?? REPO_ROOT, timeout: 30_000, env: { ...process.env, KUBECONFIG: "" } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolveRun({ code, stdout, stderr });
      },
    );
  });
}

/** A failure is exit code 1 and exactly one line on stderr. */
function oneLineError(r: Result): string {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0] ?? "";
}

async function kubeconfigFile(
  dir: string,
  name: string,
  server: string,
  user: { token: string },
  namespace?: string,
): Promise<string> {
  const path = join(dir, `${name}.kubeconfig`);
  await writeFile(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server, "certificate-authority": controlPlane().caPath } }],
      users: [{ name: "u", user: { token: user.token } }],
      contexts: [
        {
          name: name,
          context: { cluster: "c", user: "u", ...(namespace === undefined ? {} : { namespace }) },
        },
      ],
      "current-context": name,
    }),
    { mode: 0o600 },
  );
  return path;
}

let admin: KubeClient;
let ns: string;
let work: string;
let kubeconfig: string;
let saved: SavedCapture;
let files: CaptureFiles;
/** A second control plane without the LeakWatch CRD (the shared one's CRD stays). */
let bareCp: ControlPlane | undefined;

beforeAll(async () => {
  [bareCp] = await Promise.all([startControlPlane(), setUp()]);
});

afterAll(async () => {
  admin.close();
  await bareCp?.stop();
});

/** A LeakWatch with a hand-written status, a capture of a real leak, and two broken captures. */
async function setUp(): Promise<void> {
  admin = await KubeClient.load({ kubeconfig: controlPlane().kubeconfigPath });
  kubeconfig = controlPlane().kubeconfigPath;
  work = await mkdtemp(join(tmpdir(), "leakwatch-cli-"));
  ns = await freshNamespace("cli");

  // A real leak: the base profile first, then one once the leak's site shows in the heap.
  const app = await startLeakyApp({ behaviour: "slice", rate: "1MiB", tick: "50ms" });
  const pprof = `http://${app.host}:${app.port}/debug/pprof`;
  const get = async (path: string): Promise<Buffer> =>
    Buffer.from(await (await fetch(`${pprof}/${path}`)).arrayBuffer());
  const base = await get("heap?gc=1");
  const baseInuse = summarizeHeap(decodeProfileBytes(base)).totals.inuse_space ?? 0;
  const heap = await eventually("the heap to grow by 4 MiB in main.appendChunk", async () => {
    const bytes = await get("heap?gc=1");
    const inuse = summarizeHeap(decodeProfileBytes(bytes)).totals.inuse_space ?? 0;
    return inuse > baseInuse + 4 * 2 ** 20 && gunzipSync(bytes).includes("main.appendChunk")
      ? bytes
      : undefined;
  });
  const goroutine = await get("goroutine");
  const growth = diffHeap(summarizeHeap(decodeProfileBytes(base)), summarizeHeap(decodeProfileBytes(heap)));

  const created = await admin.create<{ metadata: { uid: string; generation: number } }>(
    `/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches`,
    {
      apiVersion: "leakwatch.dev/v1alpha1",
      kind: "LeakWatch",
      metadata: { name: "checkout" },
      spec: { selector: { matchLabels: { app: "checkout" } } },
    },
  );
  files = {
    "heap.pb.gz": heap,
    "base-heap.pb.gz": base,
    "goroutine.pb.gz": goroutine,
    "report.txt": `LeakWatch report for ${ns}/${LEAKY_POD} container app\n\n${renderHeapDiffText(growth)}`,
    "report.json": JSON.stringify({
      kind: "LeakReport",
      version: 1,
      headline: growth.headline,
      heapDiff: growth,
    }),
  };
  const store = new ConfigMapCaptureStore({ client: admin });
  const meta = {
    leakWatch: { name: "checkout", uid: created.metadata.uid },
    namespace: ns,
    pod: LEAKY_POD,
    container: "app",
    workload: { kind: "Deployment", name: "checkout" },
    createdAt: new Date(Date.now() - 4 * 60_000).toISOString(),
    headline: growth.headline,
    reason: "Leaking",
  };
  saved = await store.save(files, meta, { maxBytes: 4 * 2 ** 20 });
  // Two broken captures: one missing a part, one whose part holds other bytes.
  for (const [name, damage] of [
    ["lw-checkout-incomplete", "delete"],
    ["lw-checkout-corrupt", "alter"],
  ] as const) {
    await store.save(
      files,
      { ...meta, createdAt: new Date().toISOString() },
      { maxBytes: 4 * 2 ** 20, name },
    );
    const path = `/api/v1/namespaces/${ns}/configmaps/${partName(name, 0)}`;
    const part = await admin.get<ConfigMap>(path);
    await admin.delete(path);
    if (damage === "alter") {
      const binaryData = Object.fromEntries(
        Object.entries(part.binaryData ?? {}).map(([k, v]) => [
          k,
          Buffer.from(v, "base64").reverse().toString("base64"),
        ]),
      );
      await admin.create(`/api/v1/namespaces/${ns}/configmaps`, {
        metadata: { name: part.metadata.name, labels: part.metadata.labels },
        binaryData,
      });
    }
  }

  const status: LeakWatchStatus = {
    observedGeneration: created.metadata.generation,
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "Watching",
        message: "watching 5 container(s)",
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      },
      {
        type: "LeakDetected",
        status: "True",
        reason: "MemoryLeak",
        message: `leaking: ${LEAKY_POD}`,
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      },
    ],
    watched: 5,
    collecting: 0,
    healthy: 2,
    suspected: 1,
    leaking: 1,
    failing: 1,
    pods: [
      {
        pod: LEAKY_POD,
        container: "app",
        workload: "Deployment/checkout",
        verdict: "Leaking",
        tier: "fast",
        heap: "152Mi",
        growthPerHour: "38Mi/h",
        growthPercentPerHour: 41,
        goroutines: 120,
        timeToLimit: "5h",
        restarts: 1,
        lastTerminationReason: "OOMKilled",
      },
      {
        pod: "checkout-7d9f8c6b5-q8z2n",
        container: "app",
        workload: "Deployment/checkout",
        verdict: "Suspected",
        tier: "slow",
        heap: "61Mi",
        growthPerHour: "2.1Mi/h",
        growthPercentPerHour: 3,
        goroutines: 95,
        timeToLimit: "2d",
      },
      {
        pod: "checkout-7d9f8c6b5-m4t7w",
        container: "app",
        workload: "Deployment/checkout",
        verdict: "Failing",
        lastError: "GET http://10.244.1.7:6060/debug/pprof/heap: connect ECONNREFUSED 10.244.1.7:6060",
      },
    ],
    workloads: [
      {
        kind: "Deployment",
        name: "checkout",
        image: "registry.example/checkout:1.4.2",
        pods: 5,
        suspected: 1,
        leaking: 1,
        maxGrowthPercentPerHour: 41,
      },
    ],
    captures: [toCaptureRef(saved)],
    restarts: [
      {
        pod: "checkout-7d9f8c6b5-h6j9k",
        workload: "Deployment/checkout",
        time: new Date(Date.now() - 2 * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z"),
        strategy: "Evict",
        reason: "heap leaking +40Mi/h; memory limit projected in 35m",
        result: "Restarted",
        by: "leakwatch-5f7c9-abcde",
      },
    ],
  };
  await admin.patch(
    `/apis/leakwatch.dev/v1alpha1/namespaces/${ns}/leakwatches/checkout/status`,
    { status },
    "merge",
  );
}

describe("leakwatch status", () => {
  it("shows the LeakWatch's rows: verdict, heap, growth, time to limit, last capture", async () => {
    const [table, wide, json, all] = await Promise.all([
      cli(["status", "-n", ns, "--kubeconfig", kubeconfig]),
      cli(["status", "checkout", "-n", ns, "-o", "wide", "--kubeconfig", kubeconfig]),
      cli(["status", "-n", ns, "-o", "json", "--kubeconfig", kubeconfig]),
      cli(["status", "-A", "--kubeconfig", kubeconfig]),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toBe(`LeakWatch ${ns}/checkout (mode Record): ready: watching 5 container(s)`);
    expect(lines[1]).toBe("  pods: 5 watched: 1 leaking, 1 suspected, 1 failing, 2 healthy");
    expect(lines[3]).toMatch(
      /^POD\s+VERDICT\s+HEAP\s+GROWTH\s+GROWTH%\s+TO LIMIT\s+LAST CAPTURE\s+HEADLINE$/,
    );
    const leaking = lines.find((l) => l.startsWith(`${LEAKY_POD}/app`)) ?? "";
    expect(leaking).toMatch(
      new RegExp(
        `^${LEAKY_POD}/app\\s+Leaking\\s+152Mi\\s+\\+38Mi/h\\s+\\+41%/h\\s+5h\\s+${saved.name} \\(4m\\d*s? ago\\)\\s+\\S`,
      ),
    );
    expect(leaking).toContain(saved.meta.headline.slice(0, 60));
    expect(table.stdout).toMatch(
      /checkout-7d9f8c6b5-q8z2n\/app\s+Suspected\s+61Mi\s+\+2\.1Mi\/h\s+\+3%\/h\s+2d\s+-/,
    );
    expect(table.stdout).toMatch(/checkout-7d9f8c6b5-m4t7w\/app\s+Failing\s+-\s+-\s+-\s+-\s+-/);
    expect(table.stdout).toContain("(2 more pod(s) not listed");
    expect(table.stdout).toContain(
      `next: kubectl leakwatch captures get ${saved.name} -n ${ns} -o ./${saved.name}\n`,
    );
    // Columns line up: every row's VERDICT starts where the header's does.
    const at = lines[3]?.indexOf("VERDICT") ?? -1;
    for (const row of lines.slice(4, 7)) expect(row.slice(at)).toMatch(/^(Leaking|Suspected|Failing) /);

    expect(wide.code, wide.stderr).toBe(0);
    expect(wide.stdout).toMatch(
      /POD\s+VERDICT\s+TIER\s+HEAP\s+GROWTH\s+GROWTH%\s+GOROUTINES\s+TO LIMIT\s+RESTARTS\s+WORKLOAD\s+LAST CAPTURE\s+HEADLINE\s+LAST ERROR$/m,
    );
    expect(wide.stdout).toMatch(
      /Leaking\s+fast\s+152Mi.*\s120\s+5h\s+1 \(OOMKilled\)\s+Deployment\/checkout\s+lw-/,
    );
    expect(wide.stdout).toMatch(
      /\nrestarts by LeakWatch: 1 recorded; last checkout-7d9f8c6b5-h6j9k \(Deployment\/checkout, Evict, Restarted\) 12\dm ago: heap leaking \+40Mi\/h; memory limit projected in 35m\n/,
    );
    expect(wide.stdout).toMatch(
      /m4t7w\/app\s+Failing\s.*\s-\s+GET http:\/\/10\.244\.1\.7:6060\/debug\/pprof\/heap: connect ECONNREFUSED 10\.244\.1\.7:6060\n/,
    );

    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      items: {
        name: string;
        counts: { leaking: number };
        pods: { pod: string; lastCapture?: { name: string } }[];
      }[];
    };
    expect(parsed.items).toHaveLength(1);
    expect(parsed.items[0]?.counts.leaking).toBe(1);
    expect(parsed.items[0]?.pods[0]).toMatchObject({ pod: LEAKY_POD, lastCapture: { name: saved.name } });

    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain(`LeakWatch ${ns}/checkout`);
  });

  it("uses the kubeconfig context's namespace and says what to do when there is no LeakWatch", async () => {
    const empty = await freshNamespace("cli-empty");
    const inNs = await kubeconfigFile(
      work,
      "in-ns",
      controlPlane().server,
      { token: controlPlane().adminToken },
      ns,
    );
    const inEmpty = await kubeconfigFile(
      work,
      "in-empty",
      controlPlane().server,
      { token: controlPlane().adminToken },
      empty,
    );
    const [fromContext, none, missing] = await Promise.all([
      cli(["status", "--kubeconfig", inNs]),
      cli(["status", "--kubeconfig", inEmpty]),
      cli(["status", "payments", "--kubeconfig", inEmpty]),
    ]);
    expect(fromContext.code, fromContext.stderr).toBe(0);
    expect(fromContext.stdout).toContain(`LeakWatch ${ns}/checkout`);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toBe(
      `no LeakWatch in namespace ${empty}: kubectl apply -n ${empty} -f examples/leakwatch-record.yaml\n`,
    );
    expect(oneLineError(missing)).toBe(
      `leakwatch status: LeakWatch payments not found in namespace ${empty} (leakwatch status -n ${empty} lists them)`,
    );
  });
});

describe("leakwatch captures", () => {
  it("lists the capture with pod, age, size, completeness and headline", async () => {
    const [table, json] = await Promise.all([
      cli(["captures", "list", "-n", ns, "--leakwatch", "checkout", "--kubeconfig", kubeconfig]),
      cli(["captures", "list", "-n", ns, "-o", "json", "--kubeconfig", kubeconfig]),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+POD\s+AGE\s+SIZE\s+COMPLETE\s+HEADLINE$/);
    const row = lines.find((l) => l.startsWith(saved.name)) ?? "";
    expect(row).toMatch(
      new RegExp(`^${saved.name}\\s+${LEAKY_POD}\\s+4m\\d*s?\\s+\\d+(\\.\\d+)? KiB\\s+true\\s+\\S`),
    );
    // The broken ones are listed (their manifests are whole); `get` is what checks the parts.
    expect(table.stdout).toContain("lw-checkout-corrupt");

    expect(json.code, json.stderr).toBe(0);
    const items = (JSON.parse(json.stdout) as { items: { name: string; bytes: number; complete: boolean }[] })
      .items;
    expect(items.find((i) => i.name === saved.name)).toMatchObject({ bytes: saved.bytes, complete: true });
  });

  it("gets the files byte for byte, prints the headline and commands that work, and refuses to overwrite", async () => {
    const dir = join(work, "out");
    const got = await cli(["captures", "get", saved.name, "-n", ns, "-o", dir, "--kubeconfig", kubeconfig]);
    expect(got.code, got.stderr).toBe(0);
    for (const name of ["heap.pb.gz", "base-heap.pb.gz", "goroutine.pb.gz"] as const) {
      expect((await readFile(join(dir, name))).equals(files[name] ?? Buffer.alloc(0)), name).toBe(true);
    }
    expect(await readFile(join(dir, "report.txt"), "utf8")).toBe(files["report.txt"]);
    expect(await readFile(join(dir, "report.json"), "utf8")).toBe(files["report.json"]);

    expect(got.stdout).toContain(`Headline: ${saved.meta.headline}`);
    expect(got.stdout).toContain(`  go tool pprof -http=: -base ${dir}/base-heap.pb.gz ${dir}/heap.pb.gz\n`);
    const diffLine = /^ {2}leakwatch (diff \S+ \S+)$/m.exec(got.stdout);
    expect(diffLine, got.stdout).not.toBeNull();

    const [pprof, diff] = await Promise.all([
      execFileP("go", ["tool", "pprof", "-top", join(dir, "heap.pb.gz")], {
        env: { ...process.env, PPROF_TMPDIR: work },
        timeout: 60_000,
      }),
      cli((diffLine?.[1] ?? "").split(" ")),
    ]);
    expect(pprof.stdout).toMatch(/Type: inuse_space/);
    expect(pprof.stdout).toContain("main.appendChunk");
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("main.appendChunk");

    const again = await cli(["captures", "get", saved.name, "-n", ns, "-o", dir, "--kubeconfig", kubeconfig]);
    expect(oneLineError(again)).toBe(
      `leakwatch captures get: ${dir} already has heap.pb.gz, base-heap.pb.gz, goroutine.pb.gz, report.txt, report.json: pass --force to overwrite, or -o another directory`,
    );
    const forced = await cli([
      "captures",
      "get",
      saved.name,
      "-n",
      ns,
      "-o",
      dir,
      "--force",
      "--kubeconfig",
      kubeconfig,
    ]);
    expect(forced.code, forced.stderr).toBe(0);
  });

  it("writes into ./NAME by default, as the event's command says", async () => {
    const cwd = await mkdtemp(join(work, "cwd-"));
    const got = await cli(["captures", "get", saved.name, "-n", ns, "--kubeconfig", kubeconfig], { cwd });
    expect(got.code, got.stderr).toBe(0);
    expect((await readFile(join(cwd, saved.name, "heap.pb.gz"))).equals(files["heap.pb.gz"])).toBe(true);
    expect(got.stdout).toContain(
      `  go tool pprof -http=: -base ./${saved.name}/base-heap.pb.gz ./${saved.name}/heap.pb.gz\n`,
    );
  });
});

describe("errors on-call can meet: one line, exit code 1", () => {
  it("names an unknown, an incomplete and a corrupt capture", async () => {
    const dir = join(work, "broken");
    const [unknown, incomplete, corrupt] = await Promise.all([
      cli(["captures", "get", "lw-nope", "-n", ns, "-o", dir, "--kubeconfig", kubeconfig]),
      cli(["captures", "get", "lw-checkout-incomplete", "-n", ns, "-o", dir, "--kubeconfig", kubeconfig]),
      cli(["captures", "get", "lw-checkout-corrupt", "-n", ns, "-o", dir, "--kubeconfig", kubeconfig]),
    ]);
    expect(oneLineError(unknown)).toBe(
      `leakwatch captures get: capture lw-nope not found in namespace ${ns} (leakwatch captures list -n ${ns} shows the captures there)`,
    );
    expect(oneLineError(incomplete)).toBe(
      `leakwatch captures get: capture lw-checkout-incomplete is incomplete: part lw-checkout-incomplete-p0 is missing (its save never finished or a part was deleted; leakwatch captures list -n ${ns} shows whole captures)`,
    );
    expect(oneLineError(corrupt)).toBe(
      "leakwatch captures get: capture lw-checkout-corrupt is corrupt: part lw-checkout-corrupt-p0 does not match its size or sha256 (nothing was written)",
    );
    await expect(readFile(join(dir, "heap.pb.gz"))).rejects.toThrow(/ENOENT/);
  });

  it("names the verb and resource a user without permissions lacks", async () => {
    const { core } = clients();
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "oncall" } } });
    const token = await core.createNamespacedServiceAccountToken({
      namespace: ns,
      name: "oncall",
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const path = await kubeconfigFile(work, "oncall", controlPlane().server, {
      token: token.status?.token ?? "",
    });
    const [status, list, get] = await Promise.all([
      cli(["status", "-n", ns, "--kubeconfig", path]),
      cli(["captures", "list", "-A", "--kubeconfig", path]),
      cli(["captures", "get", saved.name, "-n", ns, "--kubeconfig", path]),
    ]);
    const who = `system:serviceaccount:${ns}:oncall`;
    const ask = "(ask for a Role that grants it, or use another --context)";
    expect(oneLineError(status)).toBe(
      `leakwatch status: access denied: ${who} cannot list leakwatches.leakwatch.dev in namespace ${ns} ${ask}`,
    );
    expect(oneLineError(list)).toBe(
      `leakwatch captures list: access denied: ${who} cannot list leakwatches.leakwatch.dev at the cluster scope ${ask}`,
    );
    expect(oneLineError(get)).toBe(
      `leakwatch captures get: access denied: ${who} cannot get configmaps in namespace ${ns} ${ask}`,
    );
  });

  it("names the server it cannot reach", async () => {
    const port = await freePort();
    const path = await kubeconfigFile(work, "closed", `https://127.0.0.1:${port}`, { token: "x" });
    const r = await cli(["status", "--kubeconfig", path]);
    expect(oneLineError(r)).toBe(
      `leakwatch status: cannot reach the cluster at https://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): is it up, and is this the right context? (kubectl config current-context)`,
    );
  });

  it("says the CRD is missing, and how to install it", async () => {
    const cp = bareCp;
    if (cp === undefined) throw new Error("the control plane without the CRD did not start");
    const [status, list] = await Promise.all([
      cli(["status", "-A", "--kubeconfig", cp.kubeconfigPath]),
      cli(["captures", "list", "--kubeconfig", cp.kubeconfigPath]),
    ]);
    const line = `the LeakWatch CRD is not installed in this cluster (${cp.server}): kubectl apply --server-side -f crds/ (or helm install leakwatch charts/leakwatch)`;
    expect(oneLineError(status)).toBe(`leakwatch status: ${line}`);
    expect(oneLineError(list)).toBe(`leakwatch captures list: ${line}`);
  });

  it("rejects bad flags with usage (exit 2)", async () => {
    const r = await cli(["status", "-n", ns, "-A", "--kubeconfig", kubeconfig]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("leakwatch status: use -n NAMESPACE or -A, not both\n");
  });
});
