import type { ChildProcess } from "node:child_process";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CompressedTooLargeError,
  DecompressedTooLargeError,
  FetchAbortedError,
  FetchConnectError,
  FetchTimeoutError,
  FetchTlsError,
  fetchProfile,
  goroutineGroups,
  describeGroup,
  heapSites,
  HttpStatusError,
  InvalidTargetError,
  NotGzipError,
  ProfileError,
  summarizeGoroutines,
  summarizeHeap,
} from "../../../src/profile/index.ts";
import { buildGo, FIXTURES } from "./helpers/go.ts";

const goHeap = readFileSync(path.join(FIXTURES, "go-heap.pb.gz"));
const bombMember = gzipSync(Buffer.alloc(16 << 20));
const timers = new Set<NodeJS.Timeout>();

function listen(server: http.Server | https.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

function close(server: http.Server | https.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}

const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  "/heap": (_, res) => res.end(goHeap),
  "/gc": (req, res) => {
    if (new URL(req.url ?? "", "http://x").searchParams.get("gc") === "1") res.end(goHeap);
    else res.writeHead(400).end("want gc=1");
  },
  "/hang": () => undefined, // never answers
  "/trickle": (_, res) => {
    res.writeHead(200);
    let at = 0;
    const t = setInterval(() => {
      res.write(goHeap.subarray(at, ++at)); // a valid profile, slowly
    }, 20);
    timers.add(t);
    res.on("close", () => {
      clearInterval(t);
    });
  },
  "/500": (_, res) => res.writeHead(500).end("runtime error: something broke"),
  "/404": (_, res) => res.writeHead(404).end("Unknown profile"),
  "/html": (_, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end("<!DOCTYPE html><html></html>"),
  "/declared-too-big": (_, res) => res.writeHead(200, { "content-length": String(64 << 20) }).end(),
  "/streamed-too-big": (_, res) => {
    res.writeHead(200);
    const t = setInterval(() => {
      res.write(Buffer.concat([goHeap, goHeap]));
    }, 1);
    timers.add(t);
    res.on("close", () => {
      clearInterval(t);
    });
  },
  "/bomb": (_, res) => {
    res.writeHead(200);
    let sent = 0;
    const more = (): void => {
      while (sent < 640 && res.write(bombMember)) sent++;
      if (sent < 640) res.once("drain", more);
      else res.end();
    };
    more();
  },
};

let plain: http.Server;
let base = "";

beforeAll(async () => {
  plain = http.createServer((req, res) => {
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    if (route === undefined) res.writeHead(404).end();
    else route(req, res);
  });
  base = `http://${await listen(plain)}`;
});

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  await close(plain);
});

describe("fetchProfile over HTTP", () => {
  it("returns the bytes as received and the decoded profile", async () => {
    const got = await fetchProfile(`${base}/heap`, { stacks: "leaf" });
    expect(got.compressed.equals(goHeap)).toBe(true);
    expect(got.url).toBe(`${base}/heap`);
    expect(heapSites(summarizeHeap(got.profile))[0]?.function).toBe("main.(*cache).put");
  });

  it("adds gc=1 when asked to force a GC", async () => {
    const got = await fetchProfile(`${base}/gc?debug=0`, { forceGC: true });
    expect(got.url).toBe(`${base}/gc?debug=0&gc=1`);
    await expect(fetchProfile(`${base}/gc`)).rejects.toMatchObject({ statusCode: 400 });
  });

  it("gives up on a server that never answers, or answers too slowly", async () => {
    const hang = fetchProfile(`${base}/hang`, { timeoutMs: 200 });
    await expect(hang).rejects.toBeInstanceOf(FetchTimeoutError);
    await expect(hang).rejects.toMatchObject({ code: "LW_PROFILE_FETCH_TIMEOUT", retryable: true });
    await expect(fetchProfile(`${base}/trickle`, { timeoutMs: 200 })).rejects.toBeInstanceOf(
      FetchTimeoutError,
    );
  });

  it("stops when the caller aborts, and says so", async () => {
    const controller = new AbortController();
    const pending = fetchProfile(`${base}/hang`, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(FetchAbortedError);
  });

  it("reports HTTP errors with the status and the server's reason", async () => {
    const err = await fetchProfile(`${base}/500`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpStatusError);
    expect(err).toMatchObject({
      statusCode: 500,
      retryable: true,
      bodySnippet: "runtime error: something broke",
    });
    await expect(fetchProfile(`${base}/404`)).rejects.toMatchObject({ statusCode: 404, retryable: false });
  });

  it("refuses bodies over the compressed cap, declared or streamed", async () => {
    const limits = { maxCompressedBytes: 1 << 20 };
    await expect(fetchProfile(`${base}/declared-too-big`, { limits })).rejects.toBeInstanceOf(
      CompressedTooLargeError,
    );
    await expect(fetchProfile(`${base}/streamed-too-big`, { limits })).rejects.toBeInstanceOf(
      CompressedTooLargeError,
    );
  });

  it("cuts off a gzip bomb at the decompressed cap", async () => {
    const limits = { maxCompressedBytes: 64 << 20, maxDecompressedBytes: 32 << 20 };
    await expect(fetchProfile(`${base}/bomb`, { limits })).rejects.toBeInstanceOf(DecompressedTooLargeError);
  });

  it("says when the body is not a gzipped profile", async () => {
    await expect(fetchProfile(`${base}/html`)).rejects.toBeInstanceOf(NotGzipError);
    await expect(fetchProfile(`${base}/html`)).rejects.toThrow(/<!DOCTYPE html>/);
  });

  it("reports refused connections and bad URLs", async () => {
    const s = http.createServer();
    const addr = await listen(s);
    await close(s);
    const refused = await fetchProfile(`http://${addr}/heap`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FetchConnectError);
    expect(refused).toMatchObject({ errno: "ECONNREFUSED", retryable: true });
    await expect(fetchProfile("ftp://example.com/heap")).rejects.toBeInstanceOf(InvalidTargetError);
    await expect(fetchProfile("not a url")).rejects.toBeInstanceOf(InvalidTargetError);
  });
});

describe("fetchProfile over HTTPS with a custom CA and a bearer token", () => {
  let server: https.Server;
  let url = "";
  let ca = "";
  let dir = "";

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "lw-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=leakwatch-test",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    ca = readFileSync(path.join(dir, "cert.pem"), "utf8");
    server = https.createServer({ key: readFileSync(path.join(dir, "key.pem")), cert: ca }, (req, res) => {
      if (req.headers.authorization !== "Bearer s3cret") res.writeHead(401).end("Unauthorized");
      else res.end(goHeap);
    });
    url = `https://${await listen(server)}/debug/pprof/heap`;
  });

  afterAll(async () => {
    await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it("fetches with the CA and the token", async () => {
    const got = await fetchProfile(url, { ca, bearerToken: "s3cret" });
    expect(got.compressed.equals(goHeap)).toBe(true);
  });

  it("fails TLS verification without the CA, unless told to skip it", async () => {
    const err = await fetchProfile(url, { bearerToken: "s3cret" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchTlsError);
    expect(err).toMatchObject({ retryable: false });
    await expect(
      fetchProfile(url, { bearerToken: "s3cret", insecureSkipVerify: true }),
    ).resolves.toBeDefined();
  });

  it("reports a wrong token as HTTP 401", async () => {
    await expect(fetchProfile(url, { ca, bearerToken: "wrong" })).rejects.toMatchObject({
      statusCode: 401,
      retryable: false,
    });
  });
});

/** Starts the Go pprof server, returns its base URL. */
async function startGo(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    buildGo("pprofserver", env),
    ["-goroutines", "100", "-sleepers", "7", "-retain", "64"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await lines[Symbol.asyncIterator]().next();
  return { child, url: String(first.value) };
}

describe("fetchProfile from a real Go net/http/pprof server", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill();
  });

  it("summarizes its heap (after a forced GC) and its goroutines", async () => {
    const go = await startGo({});
    children.push(go.child);
    const heap = await fetchProfile(`${go.url}/debug/pprof/heap`, { forceGC: true, stacks: "leaf" });
    const top = heapSites(summarizeHeap(heap.profile)).find((s) => s.function === "main.retain");
    expect(top?.bytes).toBeGreaterThanOrEqual(64 * 64 * 1024);
    expect(top?.objects).toBeGreaterThanOrEqual(64);
    const goroutines = summarizeGoroutines((await fetchProfile(`${go.url}/debug/pprof/goroutine`)).profile);
    const lines = goroutineGroups(goroutines).map(describeGroup);
    expect(lines[0]).toBe("100 goroutines parked at main.worker (main.go:27) in chan receive");
    expect(lines[1]).toBe("7 goroutines parked at main.sleeper (main.go:33) in sleep");
    const missing = await fetchProfile(`${go.url}/debug/pprof/goroutineleak`).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ProfileError);
    expect(missing).toMatchObject({ statusCode: 404, bodySnippet: "Unknown profile" });
  });

  it("reads /debug/pprof/goroutineleak where the runtime serves it", async () => {
    const go = await startGo({ GOEXPERIMENT: "goroutineleakprofile" });
    children.push(go.child);
    const leaks = summarizeGoroutines((await fetchProfile(`${go.url}/debug/pprof/goroutineleak`)).profile);
    expect(leaks.profileType).toBe("goroutineleak");
    expect(goroutineGroups(leaks).map(describeGroup)).toEqual([
      "100 goroutines parked at main.worker (main.go:27) in chan receive",
    ]);
  });
});
