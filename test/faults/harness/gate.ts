// An admission gate: a validating webhook the API server calls for chosen writes in one
// namespace, which the test can make hold a write — the API server waits inside the request — and
// then allow or deny it. That pins a kill to an exact point of a multi-step write (capture parts
// stored, manifest not yet; restart record stored, eviction not yet) instead of racing it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KubeClient } from "../../../src/kube/client.ts";
import { isNotFound } from "../../../src/kube/errors.ts";

const exec = promisify(execFile);
const CONFIG_PATH = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

interface AdmissionReview {
  request?: {
    uid: string;
    name?: string;
    namespace?: string;
    operation: string;
    subResource?: string;
    kind?: { kind: string };
    object?: { metadata?: { name?: string; labels?: Record<string, string> } };
  };
}

export interface GateRequest {
  at: number;
  kind: string;
  name: string;
  subResource: string | undefined;
  probe: boolean;
  /** Set when answered. */
  allowed: boolean | undefined;
  held: boolean;
}

export interface HeldRequest {
  request: GateRequest;
  /** Answers the API server (it may have given up already: then nothing happens). */
  release(allowed: boolean): void;
}

export interface GateRule {
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
}

let certs: Promise<{ ca: string; key: string; cert: string }> | undefined;

/** A throwaway CA and a serving certificate for 127.0.0.1, made once per worker with openssl. */
async function makeCerts(): Promise<{ ca: string; key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), "leakwatch-gate-"));
  const p = (f: string): string => join(dir, f);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await exec("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=leakwatch-faults-ca",
  ]);
  await exec("openssl", [
    "req",
    ...ec,
    "-keyout",
    p("tls.key"),
    "-out",
    p("tls.csr"),
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await writeFile(p("ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  await exec("openssl", [
    "x509",
    "-req",
    "-in",
    p("tls.csr"),
    "-CA",
    p("ca.crt"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-out",
    p("tls.crt"),
    "-days",
    "2",
    "-extfile",
    p("ext.cnf"),
  ]);
  return {
    ca: await readFile(p("ca.crt"), "utf8"),
    key: await readFile(p("tls.key"), "utf8"),
    cert: await readFile(p("tls.crt"), "utf8"),
  };
}

export class AdmissionGate {
  readonly requests: GateRequest[] = [];
  private holdsLeft = 0;
  private readonly held: HeldRequest[] = [];
  private readonly waiters = new Set<(h: HeldRequest) => void>();
  private readonly server: Server;
  private readonly client: KubeClient;
  private readonly name: string;

  private constructor(server: Server, client: KubeClient, name: string) {
    this.server = server;
    this.client = client;
    this.name = name;
  }

  /**
   * Registers a webhook for CREATEs matching `rule` in `namespace` (objects matching
   * `objectSelector`, when given, plus anything labelled `faults.leakwatch.dev/probe`), and waits
   * until the API server calls it (a probe write goes through).
   */
  static async start(options: {
    client: KubeClient;
    namespace: string;
    rule: GateRule;
    objectLabel?: { key: string; values: string[] };
    probe: () => Promise<void>;
  }): Promise<AdmissionGate> {
    const tls = await (certs ??= makeCerts());
    const holder: { gate?: AdmissionGate } = {};
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AdmissionReview;
        const answer = (allowed: boolean): void => {
          if (res.writableEnded || res.destroyed) return;
          res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
              apiVersion: "admission.k8s.io/v1",
              kind: "AdmissionReview",
              response: {
                uid: review.request?.uid ?? "",
                allowed,
                ...(allowed ? {} : { status: { code: 503, message: "held by the fault gate, then denied" } }),
              },
            }),
          );
        };
        holder.gate?.admit(review, answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const name = `leakwatch-faults-${options.namespace}`;
    const gate = new AdmissionGate(server, options.client, name);
    holder.gate = gate;
    const port = (server.address() as AddressInfo).port;
    const label = options.objectLabel;
    await options.client.create(CONFIG_PATH, {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name },
      webhooks: [
        {
          name: "gate.faults.leakwatch.dev",
          clientConfig: {
            url: `https://127.0.0.1:${port}/validate`,
            caBundle: Buffer.from(tls.ca).toString("base64"),
          },
          rules: [{ ...options.rule, operations: ["CREATE"], scope: "Namespaced" }],
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": options.namespace } },
          ...(label === undefined
            ? {}
            : {
                objectSelector: {
                  matchExpressions: [{ key: label.key, operator: "In", values: [...label.values, "probe"] }],
                },
              }),
          failurePolicy: "Fail",
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
          timeoutSeconds: 30,
        },
      ],
    });
    const deadline = Date.now() + 30_000;
    while (!gate.requests.some((r) => r.probe)) {
      if (Date.now() > deadline) throw new Error("the API server never called the admission gate");
      await options.probe().catch(() => undefined);
      if (!gate.requests.some((r) => r.probe)) await new Promise((r) => setTimeout(r, 250));
    }
    return gate;
  }

  /** The next `count` matching writes are held until released. */
  holdNext(count = 1): void {
    this.holdsLeft = count;
  }

  /** Resolves with the next held write. */
  async nextHeld(): Promise<HeldRequest> {
    const waiting = this.held.shift();
    if (waiting !== undefined) return waiting;
    return new Promise((resolveHeld) => {
      const waiter = (h: HeldRequest): void => {
        this.waiters.delete(waiter);
        resolveHeld(h);
      };
      this.waiters.add(waiter);
    });
  }

  /** Writes answered with allowed: true (probes excluded). */
  allowed(): GateRequest[] {
    return this.requests.filter((r) => !r.probe && r.allowed === true);
  }

  async close(): Promise<void> {
    try {
      await this.client.delete(`${CONFIG_PATH}/${this.name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.server.closeAllConnections();
    await new Promise<void>((r) => {
      this.server.close(() => {
        r();
      });
    });
  }

  private admit(review: AdmissionReview, answer: (allowed: boolean) => void): void {
    const r = review.request;
    const labels = r?.object?.metadata?.labels ?? {};
    const name = r?.name ?? r?.object?.metadata?.name ?? "";
    const entry: GateRequest = {
      at: Date.now(),
      kind: r?.kind?.kind ?? "",
      name,
      subResource: r?.subResource,
      probe: Object.values(labels).includes("probe") || name.startsWith("gate-probe"),
      allowed: undefined,
      held: false,
    };
    this.requests.push(entry);
    const respond = (allowed: boolean): void => {
      if (entry.allowed !== undefined) return;
      entry.allowed = allowed;
      answer(allowed);
    };
    if (entry.probe || this.holdsLeft <= 0) {
      respond(true);
      return;
    }
    this.holdsLeft--;
    entry.held = true;
    const held: HeldRequest = { request: entry, release: respond };
    const waiter = [...this.waiters][0];
    if (waiter !== undefined) waiter(held);
    else this.held.push(held);
  }
}
