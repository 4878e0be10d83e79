// The operator's own HTTP endpoints: /metrics, /healthz (the process and its watches are alive),
// /readyz (caches synced; a standby replica is ready too — it is waiting for the lease on purpose).
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface HealthReport {
  ok: boolean;
  detail: string;
}

export interface HttpEndpoints {
  registry: Registry;
  healthz: () => HealthReport;
  readyz: () => HealthReport;
}

export async function startHttpServer(
  host: string,
  port: number,
  endpoints: HttpEndpoints,
): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const respond = (report: HealthReport): void => {
      res.writeHead(report.ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" });
      res.end(`${report.ok ? "ok" : "not ok"}: ${report.detail}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
    } else if (path === "/metrics") {
      endpoints.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": endpoints.registry.contentType });
          res.end(text);
        })
        .catch((err: unknown) => {
          res.writeHead(500).end(String(err));
        });
    } else if (path === "/healthz" || path === "/livez") {
      respond(endpoints.healthz());
    } else if (path === "/readyz") {
      respond(endpoints.readyz());
    } else {
      res.writeHead(404).end();
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolveListen);
  });
  const address = server.address();
  return Object.assign(server, {
    port: typeof address === "object" && address !== null ? address.port : port,
  });
}
