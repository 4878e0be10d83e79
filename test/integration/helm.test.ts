// The Helm chart with a real helm: lint, render with default and non-default values, refuse bad
// values with a message, install into the real control plane (RBAC on), and prove least privilege
// by asking the API server what the chart's ServiceAccount may do (kubectl auth can-i --as=…).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ControllerMetrics } from "../../src/controller/metrics.ts";
import { REPO_ROOT } from "../../src/localcluster/binaries.ts";
import { helm, helmError } from "../harness/helm.ts";
import { controlPlane, freshNamespace, kubectl } from "../harness/kube.ts";

const exec = promisify(execFile);
const CHART = join(REPO_ROOT, "charts/leakwatch");
const MONITORING = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"];

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Meta;
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface RoleManifest extends Manifest {
  rules: Rule[];
}
interface BindingManifest extends Manifest {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { limits: Record<string, string>; requests: Record<string, string> };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: Container[];
  affinity?: unknown;
  volumes: { name: string; emptyDir?: unknown }[];
}
interface DeploymentManifest extends Manifest {
  spec: { replicas: number; template: { metadata: Meta; spec: PodSpec } };
}

/** `helm template` → the rendered objects. */
async function render(
  options: { set?: string[]; apiVersions?: string[]; namespace?: string; release?: string } = {},
): Promise<Manifest[]> {
  const args = ["template", options.release ?? "leakwatch", CHART, "--namespace", options.namespace ?? "ops"];
  for (const s of options.set ?? []) args.push("--set", s);
  for (const v of options.apiVersions ?? []) args.push("--api-versions", v);
  const out = await helm(args);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

interface Kinds {
  ClusterRole: RoleManifest;
  Role: RoleManifest;
  ClusterRoleBinding: BindingManifest;
  RoleBinding: BindingManifest;
  Deployment: DeploymentManifest;
  Service: Manifest & { spec: { ports: { name: string; port: number; targetPort: string }[] } };
  ServiceAccount: Manifest;
  PodDisruptionBudget: Manifest & { spec: { minAvailable: number } };
  ConfigMap: Manifest & { data: Record<string, string> };
  ServiceMonitor: Manifest & { spec: { endpoints: { port: string; honorLabels: boolean }[] } };
  PrometheusRule: Manifest & { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };
}

function find<K extends keyof Kinds>(
  objects: Manifest[],
  kind: K,
  name?: string,
  namespace?: string,
): Kinds[K][] {
  return objects.filter(
    (o) =>
      o.kind === kind &&
      (name === undefined || o.metadata.name === name) &&
      (namespace === undefined || o.metadata.namespace === namespace),
  ) as Kinds[K][];
}

function one<K extends keyof Kinds>(
  objects: Manifest[],
  kind: K,
  name?: string,
  namespace?: string,
): Kinds[K] {
  const found = find(objects, kind, name, namespace);
  const [first] = found;
  if (found.length !== 1 || first === undefined) {
    throw new Error(`expected one ${kind} ${name ?? ""}, found ${found.length}`);
  }
  return first;
}

/** Rules flattened to "group/resource:verb" (resourceNames appended as "@name"). */
function grants(rules: Rule[]): string[] {
  return rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.flatMap((res) =>
          r.verbs.flatMap((v) =>
            (r.resourceNames ?? [""]).map(
              (n) => `${g === "" ? "core" : g}/${res}:${v}${n === "" ? "" : `@${n}`}`,
            ),
          ),
        ),
      ),
    )
    .sort();
}

const OPERATOR_GRANTS = [
  ...["get", "list", "watch"].map((v) => `leakwatch.dev/leakwatches:${v}`),
  ...["get", "update", "patch"].map((v) => `leakwatch.dev/leakwatches/status:${v}`),
  ...["get", "list", "watch"].map((v) => `core/pods:${v}`),
  "core/pods/eviction:create",
  "core/pods/proxy:get",
  "events.k8s.io/events:create",
  "events.k8s.io/events:patch",
  ...["get", "list", "watch", "create", "update", "patch", "delete"].map((v) => `core/configmaps:${v}`),
  ...["deployments", "statefulsets", "daemonsets"].flatMap((r) => [`apps/${r}:get`, `apps/${r}:patch`]),
  "apps/replicasets:get",
  "policy/poddisruptionbudgets:list",
].sort();

function deployment(objects: Manifest[]): DeploymentManifest {
  return one(objects, "Deployment");
}

function container(objects: Manifest[]): Container {
  const c = deployment(objects).spec.template.spec.containers[0];
  if (c === undefined) throw new Error("no container");
  return c;
}

function env(c: Container, name: string): string | undefined {
  return c.env.find((e) => e.name === name)?.value;
}

describe("Helm chart: lint and render", () => {
  it("passes helm lint, plain and --strict, with default and non-default values", async () => {
    await helm(["lint", CHART]);
    await helm(["lint", "--strict", CHART]);
    await helm(["lint", "--strict", CHART, "--set", "watchNamespaces={a,b}", "--set", "replicas=1"]);
  });

  it("renders a cluster-wide install with exactly the documented permissions by default", async () => {
    const objects = await render();
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        "ClusterRole/leakwatch",
        "ClusterRole/leakwatch-secret-reader",
        "ClusterRoleBinding/leakwatch",
        "ConfigMap/leakwatch-dashboard",
        "Deployment/leakwatch",
        "PodDisruptionBudget/leakwatch",
        "Role/leakwatch-leader-election",
        "RoleBinding/leakwatch-leader-election",
        "Service/leakwatch",
        "ServiceAccount/leakwatch",
      ].sort(),
    );
    expect(grants(one(objects, "ClusterRole", "leakwatch").rules)).toEqual(OPERATOR_GRANTS);
    expect(grants(one(objects, "Role", "leakwatch-leader-election").rules)).toEqual([
      "coordination.k8s.io/leases:create",
      "coordination.k8s.io/leases:get@leakwatch-controller",
      "coordination.k8s.io/leases:update@leakwatch-controller",
    ]);
    expect(grants(one(objects, "ClusterRole", "leakwatch-secret-reader").rules)).toEqual([
      "core/secrets:get",
    ]);
    // Nothing binds the secret reader; the bindings name the chart's ServiceAccount.
    const bindings = [...find(objects, "ClusterRoleBinding"), ...find(objects, "RoleBinding")];
    expect(bindings.map((b) => b.roleRef.name)).not.toContain("leakwatch-secret-reader");
    for (const b of bindings) {
      expect(b.subjects).toEqual([{ kind: "ServiceAccount", name: "leakwatch", namespace: "ops" }]);
    }
    // No wildcard anywhere, no secrets, no pod deletion.
    const everything = [...find(objects, "ClusterRole"), ...find(objects, "Role")]
      .filter((r) => r.metadata.name !== "leakwatch-secret-reader")
      .flatMap((r) => grants(r.rules));
    expect(
      everything.filter((g) => g.includes("*") || g.includes("secrets") || g === "core/pods:delete"),
    ).toEqual([]);
  });

  it("runs the operator with its flags, identity, probes, resources and the restricted profile", async () => {
    const objects = await render();
    const dep = deployment(objects);
    const c = container(objects);
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.template.spec.serviceAccountName).toBe("leakwatch");
    expect(c.image).toBe("ghcr.io/leakwatch/leakwatch:0.1.0");
    expect(c.args).toEqual([
      "run",
      "--metrics-bind-address=:8080",
      "--leader-elect=true",
      "--leader-election-namespace=ops",
      "--leader-election-id=leakwatch-controller",
      "--concurrency=32",
      "--max-inflight-profile-bytes=16Mi",
      "--log-level=info",
    ]);
    expect(c.env.filter((e) => e.valueFrom !== undefined)).toEqual([
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    ]);
    expect(env(c, "NODE_OPTIONS")).toBe("--max-old-space-size=384");
    expect(c.resources).toEqual({ requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } });
    expect(c.ports).toContainEqual(expect.objectContaining({ name: "metrics", containerPort: 8080 }));
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(dep.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(JSON.stringify(dep.spec.template.spec.affinity)).toContain(
      "preferredDuringSchedulingIgnoredDuringExecution",
    );
    const svc = one(objects, "Service");
    expect(svc.spec.ports).toEqual([
      expect.objectContaining({ name: "metrics", port: 8080, targetPort: "metrics" }),
    ]);
  });

  it("adds a PodDisruptionBudget only with more than one replica, and sizes the V8 heap to the limit", async () => {
    const three = await render({ set: ["replicas=3", "resources.limits.memory=1Gi"] });
    const pdb = one(three, "PodDisruptionBudget");
    expect(pdb.spec.minAvailable).toBe(1);
    expect(deployment(three).spec.replicas).toBe(3);
    expect(env(container(three), "NODE_OPTIONS")).toBe("--max-old-space-size=768");

    const single = await render({ set: ["replicas=1", "nodeOptions.maxOldSpaceSizeMiB=300"] });
    expect(find(single, "PodDisruptionBudget")).toEqual([]);
    expect(deployment(single).spec.template.spec.affinity).toBeUndefined();
    expect(env(container(single), "NODE_OPTIONS")).toBe("--max-old-space-size=300");
  });

  it("scopes a namespaced install to Roles in the listed namespaces and passes --namespaces", async () => {
    const objects = await render({ set: ["watchNamespaces={a,b}"] });
    for (const ns of ["a", "b"]) {
      expect(grants(one(objects, "Role", "leakwatch", ns).rules)).toEqual(OPERATOR_GRANTS);
      const binding = one(objects, "RoleBinding", "leakwatch", ns);
      expect(binding.roleRef).toMatchObject({ kind: "Role", name: "leakwatch" });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "leakwatch", namespace: "ops" }]);
    }
    // Only the (unbound) secret reader stays cluster-scoped.
    expect(find(objects, "ClusterRole").map((o) => o.metadata.name)).toEqual(["leakwatch-secret-reader"]);
    expect(find(objects, "ClusterRoleBinding")).toEqual([]);
    expect(container(objects).args).toContain("--namespaces=a,b");
  });

  it("narrows RBAC with rbac.podProxy=false and rbac.restarts=false", async () => {
    const objects = await render({ set: ["rbac.podProxy=false", "rbac.restarts=false"] });
    const g = grants(one(objects, "ClusterRole", "leakwatch").rules);
    expect(g).not.toContain("core/pods/proxy:get");
    expect(g).not.toContain("core/pods/eviction:create");
    expect(g).not.toContain("apps/deployments:patch");
    expect(g).not.toContain("policy/poddisruptionbudgets:list");
    expect(g).toContain("apps/deployments:get");
  });

  it("renders the ServiceMonitor and PrometheusRule only when enabled and their CRDs exist", async () => {
    const enabled = ["metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true"];
    const withoutCrds = await render({ set: enabled });
    expect(find(withoutCrds, "ServiceMonitor")).toEqual([]);
    expect(find(withoutCrds, "PrometheusRule")).toEqual([]);
    expect(find(await render({ apiVersions: MONITORING }), "ServiceMonitor")).toEqual([]);

    const objects = await render({ set: enabled, apiVersions: MONITORING });
    const sm = one(objects, "ServiceMonitor");
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: "metrics", honorLabels: true })]);
    const rule = one(objects, "PrometheusRule");
    const alerts = rule.spec.groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        "LeakWatchLeakDetected",
        "LeakWatchScrapesFailing",
        "LeakWatchRestartBlocked",
        "LeakWatchNoLeader",
      ]),
    );
    expect(alerts.find((a) => a.alert === "LeakWatchLeakDetected")?.expr).toContain(
      'leakwatch_target_verdict{verdict="Leaking"}',
    );
  });

  it("alerts and the Grafana dashboard use only metrics the operator exports", async () => {
    const objects = await render({
      set: ["metrics.prometheusRule.enabled=true"],
      apiVersions: MONITORING,
    });
    const rule = one(objects, "PrometheusRule");
    const dashboardMap = one(objects, "ConfigMap");
    expect(dashboardMap.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    const dashboard = JSON.parse(dashboardMap.data["leakwatch.json"] ?? "") as {
      uid: string;
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    expect(dashboard.uid).toBe("leakwatch-overview");
    const titles = dashboard.panels.map((p) => p.title).join("|");
    for (const needed of [
      "Heap in use per pod",
      "Heap growth",
      "verdict",
      "Scrapes by result",
      "schedule lag",
      "Restarts",
      "Leader",
    ]) {
      expect(titles.toLowerCase()).toContain(needed.toLowerCase());
    }

    const metrics = new ControllerMetrics();
    const exported = new Set<string>();
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      exported.add(m.name);
      // prom-client types `type` as a numeric enum; at run time it is the exposition name.
      const type: unknown = m.type;
      if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(m.name + s);
    }
    const exprs = [
      ...rule.spec.groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ];
    const used = new Set(exprs.flatMap((e) => e.match(/\b(?:leakwatch|process|nodejs)_[a-z0-9_]+\b/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  const bad: [string, string[], string][] = [
    ["zero replicas", ["replicas=0"], "at '/replicas': minimum: got 0, want 1"],
    [
      "an unknown log level",
      ["logLevel=loud"],
      "at '/logLevel': value must be one of 'trace', 'debug', 'info'",
    ],
    ["a bad pull policy", ["image.pullPolicy=Sometimes"], "at '/image/pullPolicy': value must be one of"],
    ["a namespace that is not a DNS label", ["watchNamespaces={Team_A}"], "at '/watchNamespaces/0'"],
    ["watchNamespaces that is not a list", ["watchNamespaces=team-a"], "at '/watchNamespaces'"],
    ["a misspelt key", ["replica=3"], "additional properties 'replica' not allowed"],
    ["no concurrency", ["concurrency=0"], "at '/concurrency': minimum"],
    [
      "an in-flight budget that is not a quantity",
      ["maxInflightProfileBytes=lots"],
      "at '/maxInflightProfileBytes'",
    ],
    [
      "several replicas without leader election",
      ["replicas=3", "leaderElection.enabled=false"],
      "replicas=3 needs leaderElection.enabled=true",
    ],
    [
      "a PDB that would block every drain",
      ["replicas=2", "podDisruptionBudget.minAvailable=2"],
      "podDisruptionBudget.minAvailable (2) must be below replicas (2)",
    ],
    [
      "a memory limit the heap size cannot be derived from",
      ["resources.limits.memory=512e6"],
      'resources.limits.memory "512e6": cannot derive --max-old-space-size',
    ],
  ];

  it.each(bad)("refuses %s with a message", async (_what, set, message) => {
    const args = ["template", "leakwatch", CHART];
    for (const s of set) args.push("--set", s);
    expect(await helmError(args)).toContain(message);
  });
});

describe("Helm chart: installed into the control plane", () => {
  const sa = (ns: string, name: string): string => `system:serviceaccount:${ns}:${name}`;

  /**
   * `kubectl auth can-i` as the ServiceAccount (impersonated with the admin kubeconfig).
   * `resource` is TYPE or TYPE/NAME; a subresource is written TYPE#SUB (kubectl's --subresource).
   */
  async function canI(as: string, verb: string, resource: string, namespace?: string): Promise<boolean> {
    const cp = controlPlane();
    const [type = resource, subresource] = resource.split("#");
    const args = ["--kubeconfig", cp.kubeconfigPath, "auth", "can-i", verb, type, `--as=${as}`];
    if (subresource !== undefined) args.push(`--subresource=${subresource}`);
    args.push(...(namespace === undefined ? ["--all-namespaces"] : ["-n", namespace]));
    try {
      const { stdout } = await exec(cp.kubectlPath, args, { timeout: 30_000 });
      return stdout.trim() === "yes";
    } catch (err) {
      const { code, stdout } = err as { code?: number; stdout?: string };
      if (code === 1 && stdout?.trim() === "no") return false;
      throw err;
    }
  }

  async function install(release: string, namespace: string, set: string[] = []): Promise<string> {
    const cp = controlPlane();
    const args = ["install", release, CHART, "--namespace", namespace, "--kubeconfig", cp.kubeconfigPath];
    // The harness installed the CRD already; pods never run here, so no waiting for readiness.
    args.push("--skip-crds", "--wait=hookOnly", "--timeout=60s");
    for (const s of set) args.push("--set", s);
    return helm(args);
  }

  it("installs; its ServiceAccount can do its job and nothing more", async () => {
    const [ns, other, team] = await Promise.all([
      freshNamespace("lw"),
      freshNamespace("other"),
      freshNamespace("team"),
    ]);
    // Enforce the restricted Pod Security profile where the operator runs.
    await kubectl(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]);
    const release = `leakwatch-${ns.slice(-8)}`;
    const out = await install(release, ns);
    const account = sa(ns, release);
    const lease = `${release}-controller`;

    const created = await kubectl([
      "get",
      "-n",
      ns,
      "serviceaccount,deployment,service,poddisruptionbudget,role,rolebinding,configmap",
      "-l",
      `app.kubernetes.io/instance=${release}`,
      "-o",
      "name",
    ]);
    for (const o of [
      `serviceaccount/${release}`,
      `deployment.apps/${release}`,
      `service/${release}`,
      `poddisruptionbudget.policy/${release}`,
      `role.rbac.authorization.k8s.io/${release}-leader-election`,
      `rolebinding.rbac.authorization.k8s.io/${release}-leader-election`,
    ]) {
      expect(created).toContain(o);
    }
    const cluster = await kubectl([
      "get",
      "clusterrole,clusterrolebinding",
      "-l",
      `app.kubernetes.io/instance=${release}`,
      "-o",
      "name",
    ]);
    expect(cluster.trim().split("\n").sort()).toEqual(
      [
        `clusterrole.rbac.authorization.k8s.io/${release}`,
        `clusterrole.rbac.authorization.k8s.io/${release}-secret-reader`,
        `clusterrolebinding.rbac.authorization.k8s.io/${release}`,
      ].sort(),
    );

    // The pod the Deployment would create passes the restricted profile's admission (dry run).
    const dep = JSON.parse(
      await kubectl(["get", "deployment", release, "-n", ns, "-o", "json"]),
    ) as DeploymentManifest;
    const pod = (spec: unknown): string =>
      JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "probe", namespace: ns }, spec });
    await kubectl(["create", "--dry-run=server", "-f", "-"], pod(dep.spec.template.spec));
    // (…and the admission really is enforcing: a privileged twin is refused.)
    const privileged = structuredClone(dep.spec.template.spec);
    const first = privileged.containers[0];
    if (first === undefined) throw new Error("no container");
    first.securityContext = { ...first.securityContext, privileged: true, allowPrivilegeEscalation: true };
    await expect(kubectl(["create", "--dry-run=server", "-f", "-"], pod(privileged))).rejects.toThrow(
      /violates PodSecurity "restricted/,
    );

    const allowed: [string, string, string | undefined][] = [
      ["list", "pods", other],
      ["watch", "pods", undefined],
      ["create", "pods#eviction", other],
      ["get", "pods#proxy", other],
      ["list", "leakwatches.leakwatch.dev", undefined],
      ["patch", "leakwatches.leakwatch.dev#status", other],
      ["create", "events.events.k8s.io", other],
      ["patch", "events.events.k8s.io", other],
      ["create", "configmaps", other],
      ["delete", "configmaps", other],
      ["patch", "deployments.apps", other],
      ["get", "replicasets.apps", other],
      ["list", "poddisruptionbudgets.policy", other],
      ["create", "leases.coordination.k8s.io", ns],
      ["update", `leases.coordination.k8s.io/${lease}`, ns],
      ["get", `leases.coordination.k8s.io/${lease}`, ns],
    ];
    const denied: [string, string, string | undefined][] = [
      ["get", "secrets", ns],
      ["get", "secrets", other],
      ["get", "secrets", undefined],
      ["list", "secrets", team],
      ["delete", "pods", other],
      ["create", "pods", other],
      ["update", "pods", other],
      ["create", "pods#exec", other],
      ["get", "pods#log", other],
      ["update", "pods#status", other],
      ["update", "leakwatches.leakwatch.dev", other],
      ["delete", "leakwatches.leakwatch.dev", other],
      ["create", "events", other], // core/v1 events: only events.k8s.io
      ["delete", "deployments.apps", other],
      ["update", "deployments.apps", other],
      ["patch", "replicasets.apps", other],
      ["update", `leases.coordination.k8s.io/${lease}`, other],
      ["create", "leases.coordination.k8s.io", other],
      ["update", "leases.coordination.k8s.io/someone-elses-lease", ns],
      ["delete", `leases.coordination.k8s.io/${lease}`, ns],
      ["create", "serviceaccounts#token", ns],
      ["create", "rolebindings.rbac.authorization.k8s.io", team],
      ["list", "nodes", undefined],
      ["create", "namespaces", undefined],
    ];
    const check = async ([verb, resource, where]: [string, string, string | undefined]): Promise<string> =>
      `${verb} ${resource} in ${where ?? "all namespaces"}: ${(await canI(account, verb, resource, where)) ? "yes" : "no"}`;
    expect(await Promise.all(allowed.map(check))).toEqual(
      allowed.map(([v, r, w]) => `${v} ${r} in ${w ?? "all namespaces"}: yes`),
    );
    expect(await Promise.all(denied.map(check))).toEqual(
      denied.map(([v, r, w]) => `${v} ${r} in ${w ?? "all namespaces"}: no`),
    );

    // NOTES.txt's command lets a namespace owner grant Secret reads in their namespace only.
    const command = out.split("\n").find((l) => l.trim().startsWith("kubectl create rolebinding"));
    if (command === undefined) throw new Error(`NOTES.txt has no rolebinding command:\n${out}`);
    const words = command.trim().replace("<your-namespace>", team).split(/\s+/).slice(1);
    expect(words).toContain(`--clusterrole=${release}-secret-reader`);
    expect(words).toContain(`--serviceaccount=${ns}:${release}`);
    await kubectl(words);
    expect(await canI(account, "get", "secrets", team)).toBe(true);
    expect(await canI(account, "list", "secrets", team)).toBe(false);
    expect(await canI(account, "get", "secrets", other)).toBe(false);

    await helm(["uninstall", release, "--namespace", ns, "--kubeconfig", controlPlane().kubeconfigPath]);
    expect(await canI(account, "list", "pods", other)).toBe(false);
  });

  it("installs namespace-scoped: watched namespaces only, nothing cluster-wide", async () => {
    const [ns, a, b, c] = await Promise.all([
      freshNamespace("lwns"),
      freshNamespace("a"),
      freshNamespace("b"),
      freshNamespace("c"),
    ]);
    const release = `leakwatch-${randomBytes(4).toString("hex")}`;
    await install(release, ns, [`watchNamespaces={${a},${b}}`, "replicas=1"]);
    const account = sa(ns, release);
    const args = JSON.parse(
      await kubectl([
        "get",
        "deployment",
        release,
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].args}",
      ]),
    ) as string[];
    expect(args).toContain(`--namespaces=${a},${b}`);
    const results = await Promise.all([
      canI(account, "list", "pods", a),
      canI(account, "watch", "leakwatches.leakwatch.dev", b),
      canI(account, "create", "configmaps", b),
      canI(account, "list", "pods", c),
      canI(account, "list", "pods", ns),
      canI(account, "list", "pods", undefined),
      canI(account, "get", "secrets", a),
      canI(account, "update", `leases.coordination.k8s.io/${release}-controller`, ns),
    ]);
    expect(results).toEqual([true, true, true, false, false, false, false, true]);
    const cluster = await kubectl([
      "get",
      "clusterrolebinding",
      "-l",
      `app.kubernetes.io/instance=${release}`,
      "-o",
      "name",
    ]);
    expect(cluster.trim()).toBe("");
    await helm(["uninstall", release, "--namespace", ns, "--kubeconfig", controlPlane().kubeconfigPath]);
  });
});
