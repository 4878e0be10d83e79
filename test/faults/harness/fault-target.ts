// A pprof endpoint that misbehaves on command, in front of a real Go service (leaky-app): it relays
// the real profiles, or hangs, trickles bytes, resets the connection, answers 500, sends profiles
// over the operator's caps (a huge gzip stream, a declared huge length, a gzip bomb), or corrupt
// ones. Every request is logged with the process that made it (found through /proc), so tests
// can tell which operator replica scraped and when.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createGzip, gzipSync } from "node:zlib";
import { afterAll } from "vitest";
import { loopbackAddress, type LeakyApp } from "../../harness/goapps.ts";
import { socketOwner } from "./procfs.ts";

export type TargetFault =
  | "none"
  /** Answers after `slowMs`. */
  | "slow"
  /** Accepts the request and never answers. */
  | "hang"
  /** Sends a real profile one byte every 500 ms. */
  | "trickle"
  /** Resets the connection (RST) when the request arrives. */
  | "reset"
  | "status500"
  /** A valid gzip stream of 17 MiB incompressible bytes: over the 16 MiB compressed cap. */
  | "oversize"
  /** Declares Content-Length: 100 MiB, then stalls. */
  | "oversizeDeclared"
  /** 256 KiB of gzip that inflates to 256 MiB of zeros: over the 64 MiB inflated cap. */
  | "gzipBomb"
  /** Not gzip at all. */
  | "corrupt"
  /** Valid gzip around random bytes: not a profile.proto. */
  | "garbageProto"
  /** The first half of a real profile. */
  | "truncated";

export interface TargetRequest {
  at: number;
  path: string;
  /** The pid of the process that opened the connection, when it was one of `owners()`. */
  pid: number | undefined;
  /** When the response ended (or the connection closed); undefined while in flight. */
  endedAt: number | undefined;
  fault: TargetFault;
}

export interface FaultTargetOptions {
  upstream: LeakyApp;
  fault?: TargetFault;
  slowMs?: number;
  host?: string;
  /** Processes to attribute requests to (operator pids); read on every new connection. */
  owners?: () => readonly number[];
}

let bigPayloads: { oversize: Buffer; bomb: Buffer } | undefined;

/** Built once per worker: 17 MiB of random bytes gzipped, and 256 MiB of zeros gzipped. */
async function payloads(): Promise<{ oversize: Buffer; bomb: Buffer }> {
  if (bigPayloads !== undefined) return bigPayloads;
  const oversize = gzipSync(randomBytes(17 << 20), { level: 1 });
  const bomb = await new Promise<Buffer>((resolveBomb, reject) => {
    const gz = createGzip({ level: 9 });
    const chunks: Buffer[] = [];
    gz.on("data", (c: Buffer) => chunks.push(c));
    gz.on("end", () => {
      resolveBomb(Buffer.concat(chunks));
    });
    gz.on("error", reject);
    const zeros = Buffer.alloc(1 << 20);
    let left = 256;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!gz.write(zeros)) {
          gz.once("drain", pump);
          return;
        }
      }
      gz.end();
    };
    pump();
  });
  bigPayloads = { oversize, bomb };
  return bigPayloads;
}

const open = new Set<FaultTarget>();
afterAll(async () => {
  await Promise.all([...open].map(async (t) => t.close()));
});

let counter = 0;

export class FaultTarget {
  readonly host: string;
  readonly requests: TargetRequest[] = [];
  fault: TargetFault;
  slowMs: number;
  private readonly upstream: LeakyApp;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly owners: () => readonly number[];
  private readonly pids = new WeakMap<Socket, number | undefined>();
  private readonly waiters = new Set<(r: TargetRequest) => void>();

  private constructor(options: FaultTargetOptions, host: string) {
    this.upstream = options.upstream;
    this.fault = options.fault ?? "none";
    this.slowMs = options.slowMs ?? 3_000;
    this.host = host;
    this.owners = options.owners ?? (() => []);
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      const owners = this.owners();
      this.pids.set(
        socket,
        owners.length === 0 ? undefined : socketOwner(socket.remotePort ?? 0, this.port, owners),
      );
    });
  }

  static async start(options: FaultTargetOptions): Promise<FaultTarget> {
    if (options.fault === "oversize" || options.fault === "gzipBomb") await payloads();
    const host = options.host ?? loopbackAddress(180 + (counter++ % 60));
    const target = new FaultTarget(options, host);
    await new Promise<void>((resolveListen) => target.server.listen(0, host, resolveListen));
    open.add(target);
    return target;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Requests not answered yet. */
  get inFlight(): number {
    return this.requests.filter((r) => r.endedAt === undefined).length;
  }

  async setFault(fault: TargetFault): Promise<void> {
    if (fault === "oversize" || fault === "gzipBomb") await payloads();
    this.fault = fault;
  }

  /** Resolves with the next request to arrive (optionally: on one of these paths). */
  async nextRequest(match: (r: TargetRequest) => boolean = () => true): Promise<TargetRequest> {
    return new Promise((resolveNext) => {
      const waiter = (r: TargetRequest): void => {
        if (!match(r)) return;
        this.waiters.delete(waiter);
        resolveNext(r);
      };
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    open.delete(this);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolveClose) => {
      this.server.close(() => {
        resolveClose();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry: TargetRequest = {
      at: Date.now(),
      path: req.url ?? "/",
      pid: this.pids.get(req.socket),
      endedAt: undefined,
      fault: this.fault,
    };
    this.requests.push(entry);
    if (this.requests.length > 20_000) this.requests.splice(0, 10_000);
    res.on("close", () => {
      entry.endedAt = Date.now();
    });
    for (const wake of [...this.waiters]) wake(entry);
    try {
      await this.respond(entry.fault, req, res);
    } catch {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    }
  }

  private async respond(fault: TargetFault, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const gone = (): boolean => res.destroyed || req.socket.destroyed;
    switch (fault) {
      case "hang":
        return; // the socket stays open until the client gives up
      case "reset":
        req.socket.resetAndDestroy();
        return;
      case "status500":
        res.writeHead(500, { "content-type": "text/plain" }).end("internal error: profile unavailable\n");
        return;
      case "trickle": {
        // A real profile, one byte every 500 ms: always a valid prefix, never finished in time.
        const body = await this.fetchUpstream(req.url ?? "/");
        res.writeHead(200, { "content-type": "application/octet-stream" });
        let sent = 0;
        const timer = setInterval(() => {
          if (gone() || sent >= body.length) clearInterval(timer);
          else res.write(body.subarray(sent, ++sent));
        }, 500);
        res.on("close", () => {
          clearInterval(timer);
        });
        return;
      }
      case "oversizeDeclared":
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": String(100 << 20),
        });
        res.write(Buffer.alloc(1024));
        return;
      case "oversize":
      case "gzipBomb": {
        const body = (await payloads())[fault === "oversize" ? "oversize" : "bomb"];
        res.writeHead(200, { "content-type": "application/octet-stream" });
        await writeAll(res, body);
        res.end();
        return;
      }
      case "corrupt":
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(randomBytes(64 * 1024));
        return;
      case "garbageProto":
        res
          .writeHead(200, { "content-type": "application/octet-stream" })
          .end(gzipSync(randomBytes(64 * 1024)));
        return;
      case "truncated": {
        const body = await this.fetchUpstream(req.url ?? "/");
        res
          .writeHead(200, { "content-type": "application/octet-stream" })
          .end(body.subarray(0, body.length >> 1));
        return;
      }
      case "slow":
      case "none": {
        if (fault === "slow") await new Promise((r) => setTimeout(r, this.slowMs));
        if (gone()) return;
        const body = await this.fetchUpstream(req.url ?? "/");
        if (gone()) return;
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
        return;
      }
    }
  }

  private async fetchUpstream(path: string): Promise<Buffer> {
    const res = await fetch(`http://${this.upstream.host}:${this.upstream.port}${path}`);
    if (!res.ok) throw new Error(`upstream answered ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
}

/** Writes in 1 MiB slices, waiting for the client to drain (it may stop reading: then we stop). */
async function writeAll(res: ServerResponse, body: Buffer): Promise<void> {
  for (let off = 0; off < body.length && !res.destroyed; off += 1 << 20) {
    if (!res.write(body.subarray(off, off + (1 << 20)))) {
      await new Promise<void>((resolveDrain) => {
        const done = (): void => {
          res.off("drain", done);
          res.off("close", done);
          resolveDrain();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  }
}
