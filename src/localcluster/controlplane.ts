// A real Kubernetes control plane on loopback: etcd + kube-apiserver (+ kube-controller-manager on
// request), with RBAC authorization and service-account tokens, an admin kubeconfig, and nothing
// left running afterwards. What it lacks without a kubelet (tests must expect it):
// - pods never run by themselves: set their status (see test/harness/kube.ts);
// - a pod with spec.nodeName stays Terminating after deletion: leave nodeName unset;
// - without kube-controller-manager: no ReplicaSets, no garbage collection, no disruption
//   controller (write PodDisruptionBudget status yourself), no `default` ServiceAccount;
// - namespaces never finish deleting: use fresh namespaces.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { request } from "node:https";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findBinaries } from "./binaries.ts";
import { freePort } from "./ports.ts";
import { ProcessGroup, type ManagedProcess } from "./processes.ts";

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (ReplicaSets, garbage collection, disruption controller). */
  controllerManager?: boolean;
  /** Where to put data, certificates and logs; a fresh temporary directory by default. */
  dir?: string;
  onProgress?: (line: string) => void;
}

export interface ControlPlane {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly caPath: string;
  readonly adminToken: string;
  readonly dir: string;
  readonly kubectlPath: string;
  readonly apiserver: ManagedProcess;
  readonly etcd: ManagedProcess;
  /** Stop kube-apiserver only (fault tests), and start it again on the same port and data. */
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  stopEtcd(): Promise<void>;
  startEtcd(): Promise<void>;
  stop(): Promise<void>;
}

const SERVICE_CIDR = "10.0.0.0/24";

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = options.onProgress ?? (() => undefined);
  const wanted = [
    "etcd",
    "kube-apiserver",
    "kubectl",
    ...(options.controllerManager === true ? (["kube-controller-manager"] as const) : []),
  ] as const;
  const bin = await findBinaries(wanted, process.env, progress);
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "leakwatch-cp-")));
  const group = new ProcessGroup(dir, options.dir === undefined);
  const certDir = join(dir, "certs");
  const adminToken = randomBytes(24).toString("hex");
  const tokenFile = join(dir, "tokens.csv");
  await writeFile(tokenFile, `${adminToken},leakwatch-admin,leakwatch-admin,system:masters\n`, {
    mode: 0o600,
  });
  const saKey = join(dir, "sa.key");
  const saPub = join(dir, "sa.pub");
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await writeFile(saKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  await writeFile(saPub, publicKey.export({ type: "spki", format: "pem" }));

  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const server = `https://127.0.0.1:${apiPort}`;
  const caPath = join(certDir, "apiserver.crt");

  const etcdArgs = [
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
  const apiArgs = [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${apiPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--cert-dir=${certDir}`,
    `--token-auth-file=${tokenFile}`,
    "--authorization-mode=RBAC",
    `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    "--allow-privileged=true",
    "--profiling=false",
    "--v=0",
  ];

  let etcd: ManagedProcess;
  let apiserver: ManagedProcess;
  const startEtcd = async (): Promise<void> => {
    etcd = group.start("etcd", bin.etcd, etcdArgs);
    await waitHealthy(`${etcdUrl}/health`, etcd, 60_000);
  };
  const startApiServer = async (): Promise<void> => {
    apiserver = group.start("kube-apiserver", bin["kube-apiserver"], apiArgs);
    await waitReady(server, adminToken, apiserver, 120_000);
  };

  try {
    progress("starting etcd");
    await startEtcd();
    progress("starting kube-apiserver");
    await startApiServer();
  } catch (err) {
    await group.stopAll(1_000);
    throw err;
  }

  const kubeconfigPath = join(dir, "kubeconfig");
  await writeFile(kubeconfigPath, kubeconfig(server, caPath, adminToken), { mode: 0o600 });

  if (options.controllerManager === true) {
    progress("starting kube-controller-manager");
    const kcm = group.start("kube-controller-manager", bin["kube-controller-manager"], [
      `--kubeconfig=${kubeconfigPath}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${await freePort()}`,
      `--service-account-private-key-file=${saKey}`,
      "--use-service-account-credentials=false",
      "--controllers=*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-cloud-node-lifecycle,-ttl",
      "--v=0",
    ]);
    await kcm.waitForOutput(/Started controller|Starting controller|Waiting for caches to sync/, 60_000);
  }

  return {
    server,
    kubeconfigPath,
    caPath,
    adminToken,
    dir,
    kubectlPath: bin.kubectl,
    get apiserver() {
      return apiserver;
    },
    get etcd() {
      return etcd;
    },
    stopApiServer: async () => apiserver.stop(),
    startApiServer,
    stopEtcd: async () => etcd.stop(),
    startEtcd,
    stop: async () => {
      await group.stopAll();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

function kubeconfig(server: string, caPath: string, token: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: leakwatch-local
    cluster:
      server: ${server}
      certificate-authority: ${caPath}
users:
  - name: leakwatch-admin
    user:
      token: ${token}
contexts:
  - name: leakwatch-local
    context:
      cluster: leakwatch-local
      user: leakwatch-admin
current-context: leakwatch-local
`;
}

async function waitHealthy(url: string, process: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!process.running) throw new Error(`${process.name} exited:\n${process.tail()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms`);
}

async function waitReady(
  server: string,
  token: string,
  apiserver: ManagedProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (!apiserver.running) throw new Error(`kube-apiserver exited:\n${apiserver.tail()}`);
    last = await getStatus(`${server}/readyz`, token).catch((err: unknown) => String(err));
    if (last === "200") return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kube-apiserver not ready within ${timeoutMs} ms (last: ${last}):\n${apiserver.tail()}`);
}

/** The HTTP status of a GET, as a string; the serving certificate is not checked (readiness only). */
async function getStatus(url: string, token: string): Promise<string> {
  return new Promise((resolveStatus, reject) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2_000 },
      (res) => {
        res.resume();
        resolveStatus(String(res.statusCode));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** The CA the API server generated for its own serving certificate. */
export async function readCa(cp: ControlPlane): Promise<string> {
  return readFile(cp.caPath, "utf8");
}
