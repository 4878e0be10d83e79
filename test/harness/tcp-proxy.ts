// A TCP proxy for fault injection between a client and a server (here: the API server). It
// forwards bytes untouched (TLS passes through), and on command it stalls traffic while keeping the
// sockets open (a dead NAT entry, a hung load balancer: the client sees silence, not an error),
// cuts every connection, or refuses new ones.
import { readFile, writeFile } from "node:fs/promises";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
  /** Default 127.0.0.1. */
  listenHost?: string;
}

/** One direction of a connection; reads pause while stalled or while the writer is full. */
class Flow {
  private stalled: boolean;
  private full = false;
  private readonly from: Socket;

  constructor(from: Socket, to: Socket, stalled: boolean) {
    this.from = from;
    this.stalled = stalled;
    if (stalled) from.pause();
    from.on("data", (chunk: Buffer) => {
      if (!to.write(chunk)) {
        this.full = true;
        this.update();
        to.once("drain", () => {
          this.full = false;
          this.update();
        });
      }
    });
  }

  setStalled(stalled: boolean): void {
    this.stalled = stalled;
    this.update();
  }

  private update(): void {
    if (this.stalled || this.full) this.from.pause();
    else this.from.resume();
  }
}

interface Connection {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly flows: readonly [Flow, Flow];
}

export class TcpProxy {
  private readonly options: TcpProxyOptions;
  private server: Server | undefined;
  private readonly open = new Set<Connection>();
  private stalled = false;
  private refusing = false;
  private accepted = 0;

  constructor(options: TcpProxyOptions) {
    this.options = options;
  }

  /** A proxy in front of the host and port of `url` (e.g. the API server's https URL). */
  static to(url: string): TcpProxy {
    const { hostname, port } = new URL(url);
    return new TcpProxy({ targetHost: hostname, targetPort: Number(port) });
  }

  /** Starts listening on a free port; resolves to it. */
  async start(): Promise<number> {
    if (this.server !== undefined) return this.port;
    const server = createServer((client) => {
      this.accept(client);
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once("error", reject);
      server.listen(0, this.options.listenHost ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolveListen();
      });
    });
    this.server = server;
    return this.port;
  }

  get port(): number {
    if (this.server === undefined) throw new Error("proxy not started");
    return (this.server.address() as AddressInfo).port;
  }

  get host(): string {
    return this.options.listenHost ?? "127.0.0.1";
  }

  /** Connections open now. */
  get connections(): number {
    return this.open.size;
  }

  /** Connections accepted so far (refused ones not counted). */
  get acceptedTotal(): number {
    return this.accepted;
  }

  /**
   * Stops forwarding on every open connection, keeping the sockets open. With
   * `newConnections: false`, connections made from now on still work (only existing streams go
   * silent); by default they are accepted and stalled too (a black hole).
   */
  stall(options: { newConnections?: boolean } = {}): void {
    this.stalled = options.newConnections ?? true;
    for (const connection of this.open) for (const flow of connection.flows) flow.setStalled(true);
  }

  /** Forwards again, on stalled connections and new ones. */
  resume(): void {
    this.stalled = false;
    for (const connection of this.open) for (const flow of connection.flows) flow.setStalled(false);
  }

  /** Resets every open connection (both sides see the connection drop). */
  cutAll(): void {
    for (const connection of [...this.open]) this.close(connection);
  }

  /** While on, new connections are reset at once (as if nothing listened). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.cutAll();
    await new Promise<void>((resolveClose) => {
      server.close(() => {
        resolveClose();
      });
    });
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    this.accepted++;
    const upstream = connect({ host: this.options.targetHost, port: this.options.targetPort });
    const connection: Connection = {
      client,
      upstream,
      flows: [new Flow(client, upstream, this.stalled), new Flow(upstream, client, this.stalled)],
    };
    this.open.add(connection);
    const end = (): void => {
      this.close(connection);
    };
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on("error", end);
      socket.on("close", end);
      socket.on("end", end);
    }
  }

  private close(connection: Connection): void {
    if (!this.open.delete(connection)) return;
    for (const socket of [connection.client, connection.upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }
}

/**
 * Writes a copy of `kubeconfigPath` whose server is the proxy (same scheme and credentials: the API
 * server's certificate is valid for 127.0.0.1 whatever the port) and returns its path.
 */
export async function kubeconfigVia(proxy: TcpProxy, kubeconfigPath: string, dir: string): Promise<string> {
  const original = await readFile(kubeconfigPath, "utf8");
  const rewritten = original.replace(
    /^(\s*server:\s*)(\w+):\/\/[^\s/]+/m,
    `$1$2://${proxy.host}:${proxy.port}`,
  );
  if (rewritten === original) throw new Error(`no server line to rewrite in ${kubeconfigPath}`);
  const path = join(dir, `kubeconfig-via-proxy-${proxy.port}`);
  await writeFile(path, rewritten, { mode: 0o600 });
  return path;
}
