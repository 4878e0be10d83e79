// Fetching a profile over HTTP(S) from a pprof endpoint, bounded in time and in bytes.
// node:http(s) rather than fetch(): per-request CA and socket-level aborts come for free.
import type { IncomingMessage } from "node:http";
import http from "node:http";
import https from "node:https";
import type { ReceivedProfile, StreamProfileOptions } from "./bytes.ts";
import { decodeProfileStream } from "./bytes.ts";
import {
  CompressedTooLargeError,
  FetchAbortedError,
  FetchConnectError,
  FetchTimeoutError,
  FetchTlsError,
  HttpStatusError,
  InvalidTargetError,
  ProfileError,
} from "./errors.ts";
import { resolveLimits } from "./limits.ts";

export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
const ERROR_BODY_BYTES = 512;

export interface FetchProfileOptions extends StreamProfileOptions {
  /** Deadline for the whole request — connect, headers and body (default 30 s). */
  readonly timeoutMs?: number;
  /** Sent as `Authorization: Bearer …`. */
  readonly bearerToken?: string;
  /** PEM certificate(s) to trust instead of the system roots. */
  readonly ca?: string;
  /** Skip TLS certificate verification (test setups only). */
  readonly insecureSkipVerify?: boolean;
  /** Adds gc=1: Go runs a GC first, so in-use values are current, not as of the last GC. */
  readonly forceGC?: boolean;
  /** The caller's cancellation (shutdown, lost leadership). */
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FetchedProfile extends ReceivedProfile {
  /** The URL actually requested (with gc=1 when forced). */
  readonly url: string;
}

/** The URL to request: the target, plus gc=1 when asked. */
export function profileURL(target: string | URL, forceGC = false): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch (err) {
    throw new InvalidTargetError(String(target), { cause: err });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidTargetError(url.href);
  if (forceGC) url.searchParams.set("gc", "1");
  return url;
}

/** GETs a gzipped profile and decodes it. Every failure is a ProfileError subclass. */
export async function fetchProfile(
  target: string | URL,
  options: FetchProfileOptions = {},
): Promise<FetchedProfile> {
  const url = profileURL(target, options.forceGC);
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  // One controller, and a timer cleared as soon as the request is done: AbortSignal.timeout() would
  // fire seconds after every successful scrape (building a DOMException each time), and
  // AbortSignal.any() would link every request into the caller's long-lived signal.
  const controller = new AbortController();
  const signal = controller.signal;
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError"));
  }, timeoutMs);
  timer.unref();
  const external = options.signal;
  const onAbort = (): void => {
    controller.abort(external?.reason);
  };
  if (external?.aborted === true) onAbort();
  else external?.addEventListener("abort", onAbort, { once: true });
  const limits = resolveLimits(options.limits);
  try {
    const res = await get(url, options, signal);
    if (res.statusCode !== 200) {
      throw new HttpStatusError(url.href, res.statusCode ?? 0, await readSnippet(res));
    }
    const length = Number(res.headers["content-length"]);
    if (Number.isFinite(length) && length > limits.maxCompressedBytes) {
      res.destroy();
      throw new CompressedTooLargeError(limits.maxCompressedBytes);
    }
    const received = await decodeProfileStream(res, { ...options, limits, signal });
    return { url: url.href, ...received };
  } catch (err) {
    // The external signal is checked first, so an abort of ours that it did not cause is the timer.
    // Out of time while waiting for the inflight budget: say so, not just "timed out".
    if (!(external?.aborted === true) && signal.aborted && options.allowance?.starved === true) {
      throw options.allowance.starvedError(err);
    }
    throw fetchError(err, url.href, timeoutMs, signal, external);
  } finally {
    clearTimeout(timer);
    external?.removeEventListener("abort", onAbort);
  }
}

function get(url: URL, options: FetchProfileOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const headers: Record<string, string> = { "accept-encoding": "identity", ...options.headers };
  if (options.bearerToken !== undefined) headers.authorization = `Bearer ${options.bearerToken}`;
  return new Promise((resolve, reject) => {
    const req =
      url.protocol === "https:"
        ? https.request(url, {
            headers,
            signal,
            ...(options.ca === undefined ? {} : { ca: options.ca }),
            rejectUnauthorized: options.insecureSkipVerify !== true,
          })
        : http.request(url, { headers, signal });
    req.once("response", resolve);
    req.once("error", reject);
    req.end();
  });
}

/** The start of an error response body, for the message (the server often says why). */
async function readSnippet(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= ERROR_BODY_BYTES) break;
    }
  } catch {
    // The status code is the error; a broken body only loses the detail.
  } finally {
    res.destroy();
  }
  let text = "";
  for (const ch of Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString("utf8")) {
    const c = ch.codePointAt(0) ?? 0;
    text += c < 0x20 || c === 0x7f || c === 0xfffd ? " " : ch; // control characters, broken UTF-8
  }
  return text.replace(/\s+/g, " ").trim();
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|SIGNATURE|SELF_SIGNED|UNABLE_TO_/;

/** Maps whatever node:http threw to our error classes; the signals decide timeout vs abort. */
function fetchError(
  err: unknown,
  url: string,
  timeoutMs: number,
  deadline: AbortSignal,
  external: AbortSignal | undefined,
): ProfileError {
  if (external?.aborted === true) return new FetchAbortedError(url, { cause: err });
  if (deadline.aborted) return new FetchTimeoutError(url, timeoutMs, { cause: err });
  if (err instanceof ProfileError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const name = typeof code === "string" ? code : undefined;
  if (name !== undefined && TLS_CODE.test(name)) return new FetchTlsError(url, name, { cause: err });
  return new FetchConnectError(url, name, { cause: err });
}
