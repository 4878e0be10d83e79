// Every failure of the profile engine is a ProfileError subclass with a stable `code`.
// Callers branch on the class or the code, never on the message.

export interface ProfileErrorOptions {
  readonly cause?: unknown;
}

export abstract class ProfileError extends Error {
  abstract readonly code: string;
  /** True when the same request may succeed later (timeouts, refused connections, 5xx). */
  readonly retryable: boolean = false;
}

// ---- fetch ----

export class FetchTimeoutError extends ProfileError {
  override readonly name = "FetchTimeoutError";
  readonly code = "LW_PROFILE_FETCH_TIMEOUT";
  override readonly retryable = true;
  readonly url: string;
  readonly timeoutMs: number;
  constructor(url: string, timeoutMs: number, options?: ProfileErrorOptions) {
    super(`fetching ${url} took longer than ${timeoutMs} ms`, options);
    this.url = url;
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired (shutdown, lost leadership): not a failure of the target. */
export class FetchAbortedError extends ProfileError {
  override readonly name = "FetchAbortedError";
  readonly code = "LW_PROFILE_FETCH_ABORTED";
  readonly url: string;
  constructor(url: string, options?: ProfileErrorOptions) {
    super(`fetching ${url} was aborted`, options);
    this.url = url;
  }
}

/** Connection refused, reset, unreachable, DNS failure: nothing usable came back. */
export class FetchConnectError extends ProfileError {
  override readonly name = "FetchConnectError";
  readonly code = "LW_PROFILE_FETCH_CONNECT";
  override readonly retryable = true;
  readonly url: string;
  /** The system error code (ECONNREFUSED, ECONNRESET, ENOTFOUND…), when there is one. */
  readonly errno: string | undefined;
  constructor(url: string, errno: string | undefined, options?: ProfileErrorOptions) {
    super(`cannot fetch ${url}: ${errno ?? "connection failed"}`, options);
    this.url = url;
    this.errno = errno;
  }
}

/** The TLS handshake failed (unknown CA, wrong host name, expired): retrying will not help. */
export class FetchTlsError extends ProfileError {
  override readonly name = "FetchTlsError";
  readonly code = "LW_PROFILE_FETCH_TLS";
  readonly url: string;
  readonly tlsCode: string | undefined;
  constructor(url: string, tlsCode: string | undefined, options?: ProfileErrorOptions) {
    super(`TLS failure fetching ${url}: ${tlsCode ?? "handshake failed"}`, options);
    this.url = url;
    this.tlsCode = tlsCode;
  }
}

export class HttpStatusError extends ProfileError {
  override readonly name = "HttpStatusError";
  readonly code = "LW_PROFILE_HTTP_STATUS";
  override readonly retryable: boolean;
  readonly url: string;
  readonly statusCode: number;
  /** The start of the response body (bounded, printable), often the server's reason. */
  readonly bodySnippet: string;
  constructor(url: string, statusCode: number, bodySnippet: string) {
    super(`GET ${url} returned HTTP ${statusCode}${bodySnippet === "" ? "" : `: ${bodySnippet}`}`);
    this.url = url;
    this.statusCode = statusCode;
    this.bodySnippet = bodySnippet;
    this.retryable = statusCode >= 500 || statusCode === 429 || statusCode === 408;
  }
}

/** The target is not an http(s) URL. */
export class InvalidTargetError extends ProfileError {
  override readonly name = "InvalidTargetError";
  readonly code = "LW_PROFILE_BAD_URL";
  readonly target: string;
  constructor(target: string, options?: ProfileErrorOptions) {
    super(`not an http(s) URL: ${JSON.stringify(target)}`, options);
    this.target = target;
  }
}

// ---- size limits ----

export class CompressedTooLargeError extends ProfileError {
  override readonly name = "CompressedTooLargeError";
  readonly code = "LW_PROFILE_TOO_LARGE_COMPRESSED";
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`profile is larger than the limit of ${limitBytes} compressed bytes`);
    this.limitBytes = limitBytes;
  }
}

/** The profile passed its limit while inflating: a gzip bomb is cut off here, never inflated. */
export class DecompressedTooLargeError extends ProfileError {
  override readonly name = "DecompressedTooLargeError";
  readonly code = "LW_PROFILE_TOO_LARGE_DECOMPRESSED";
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`profile inflates to more than the limit of ${limitBytes} bytes`);
    this.limitBytes = limitBytes;
  }
}

/**
 * Decoding would need more table memory than the message's size allows (see table-budget.ts):
 * a message of many fields that carry next to nothing, which no real profile is.
 */
export class TablesTooLargeError extends ProfileError {
  override readonly name = "TablesTooLargeError";
  readonly code = "LW_PROFILE_TOO_LARGE_TABLES";
  readonly messageBytes: number;
  /** Table bytes the decode asked for in all, at the point it was refused. */
  readonly requestedBytes: number;
  readonly limitBytes: number;
  constructor(messageBytes: number, requestedBytes: number, limitBytes: number) {
    super(
      `decoding a ${messageBytes}-byte profile would need ${requestedBytes} bytes of tables, more than its limit of ${limitBytes}`,
    );
    this.messageBytes = messageBytes;
    this.requestedBytes = requestedBytes;
    this.limitBytes = limitBytes;
  }
}

/**
 * The budget of inflated bytes shared by concurrent scrapes (InflightBudget) could not make room
 * for this one in time: its deadline passed while it waited, or it was the youngest of scrapes
 * all waiting on each other. Retryable: the budget frees up as other scrapes finish.
 */
export class InflightBudgetError extends ProfileError {
  override readonly name = "InflightBudgetError";
  readonly code = "LW_PROFILE_INFLIGHT_BUDGET";
  override readonly retryable = true;
  readonly budgetBytes: number;
  /** Bytes this scrape already held when it was refused. */
  readonly heldBytes: number;
  constructor(budgetBytes: number, heldBytes: number, why: string, options?: ProfileErrorOptions) {
    super(`no room in the ${budgetBytes}-byte budget of inflated profile bytes in flight: ${why}`, options);
    this.budgetBytes = budgetBytes;
    this.heldBytes = heldBytes;
  }
}

// ---- content ----

export class NotGzipError extends ProfileError {
  override readonly name = "NotGzipError";
  readonly code = "LW_PROFILE_NOT_GZIP";
  /** The first bytes, printable characters only: "<!DOCTYPE html>" says "wrong path". */
  readonly start: string;
  constructor(start: string) {
    super(start === "" ? "profile is empty" : `profile is not gzip (starts with ${JSON.stringify(start)})`);
    this.start = start;
  }
}

/** The gzip header is right but the stream is truncated or its data is corrupt. */
export class CorruptGzipError extends ProfileError {
  override readonly name = "CorruptGzipError";
  readonly code = "LW_PROFILE_BAD_GZIP";
  constructor(detail: string, options?: ProfileErrorOptions) {
    super(`profile gzip stream is corrupt: ${detail}`, options);
  }
}

/** The decompressed bytes are not a valid profile.proto message. */
export class MalformedProfileError extends ProfileError {
  override readonly name = "MalformedProfileError";
  readonly code = "LW_PROFILE_MALFORMED";
  /** Byte offset into the decompressed message, when known. */
  readonly offset: number | undefined;
  constructor(detail: string, offset?: number) {
    super(`not a valid pprof profile: ${detail}${offset === undefined ? "" : ` (at byte ${offset})`}`);
    this.offset = offset;
  }
}

/** A sample, location or function points at an id or string index that does not exist. */
export class ProfileReferenceError extends ProfileError {
  override readonly name = "ProfileReferenceError";
  readonly code = "LW_PROFILE_BAD_REFERENCE";
  readonly kind: "location" | "function" | "string";
  readonly ref: number;
  constructor(kind: "location" | "function" | "string", ref: number) {
    super(`profile refers to ${kind} ${ref}, which it does not contain`);
    this.kind = kind;
    this.ref = ref;
  }
}

/** The profile lacks the sample type an analysis needs (e.g. inuse_space for heap analysis). */
export class MissingSampleTypeError extends ProfileError {
  override readonly name = "MissingSampleTypeError";
  readonly code = "LW_PROFILE_MISSING_SAMPLE_TYPE";
  readonly wanted: string;
  readonly available: readonly string[];
  constructor(wanted: string, available: readonly string[]) {
    const have = available.length === 0 ? "none" : available.join(", ");
    super(`profile has no "${wanted}" sample type (it has: ${have})`);
    this.wanted = wanted;
    this.available = available;
  }
}

/** A persisted summary (JSON) does not have the expected shape. */
export class InvalidSummaryError extends ProfileError {
  override readonly name = "InvalidSummaryError";
  readonly code = "LW_PROFILE_BAD_SUMMARY";
  constructor(detail: string) {
    super(`invalid profile summary: ${detail}`);
  }
}
