// A minimal Chrome DevTools Protocol client for the operator's inspector (`--inspect=127.0.0.1:0`):
// force a full GC and read the live heap, and optionally record a CPU profile or a sampling heap
// profile of exactly the measurement window.

export interface HeapUsage {
  usedSize: number;
  totalSize: number;
}

export interface LiveMemory extends HeapUsage {
  /** process.memoryUsage().arrayBuffers: backing stores outside the V8 heap. */
  arrayBuffers: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SamplingHeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  id: number;
  children: SamplingHeapNode[];
}

export interface SamplingHeapProfile {
  head: SamplingHeapNode;
}

interface Reply {
  id?: number;
  result?: unknown;
  error?: { message: string };
}

export class Inspector {
  private readonly socket: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.addEventListener("message", (event: MessageEvent) => {
      const reply = JSON.parse(String(event.data)) as Reply;
      if (reply.id === undefined) return;
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter.reject(new Error(reply.error.message));
      else waiter.resolve(reply.result);
    });
    socket.addEventListener("close", () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error("inspector connection closed"));
      this.pending.clear();
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolveOpen, reject) => {
      socket.addEventListener("open", () => {
        resolveOpen();
      });
      socket.addEventListener("error", () => {
        reject(new Error(`cannot connect to the inspector at ${url}`));
      });
    });
    return new Inspector(socket);
  }

  async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const result = new Promise<unknown>((resolveCall, reject) => {
      this.pending.set(id, { resolve: resolveCall, reject });
    });
    this.socket.send(JSON.stringify({ id, method, params }));
    return (await result) as T;
  }

  /**
   * Full GC, then the live set: the V8 heap's used and total size, and the ArrayBuffers still held
   * (typed arrays' backing stores live outside the V8 heap, e.g. the packed diff baselines).
   */
  async liveHeap(): Promise<LiveMemory> {
    await this.call("HeapProfiler.collectGarbage");
    const heap = await this.call<HeapUsage>("Runtime.getHeapUsage");
    const evaluated = await this.call<{ result: { value?: unknown } }>("Runtime.evaluate", {
      expression: "process.memoryUsage().arrayBuffers",
      returnByValue: true,
    });
    const arrayBuffers = evaluated.result.value;
    if (typeof arrayBuffers !== "number") throw new Error("the operator did not report its ArrayBuffers");
    return { ...heap, arrayBuffers };
  }

  async startCpuProfile(intervalUs = 1000): Promise<void> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.call("Profiler.start");
  }

  async stopCpuProfile(): Promise<CpuProfile> {
    return (await this.call<{ profile: CpuProfile }>("Profiler.stop")).profile;
  }

  /** Samples allocations from now on; what is still alive is reported by stopHeapSampling. */
  async startHeapSampling(intervalBytes = 16 * 1024): Promise<void> {
    await this.call("HeapProfiler.enable");
    await this.call("HeapProfiler.startSampling", { samplingInterval: intervalBytes });
  }

  async stopHeapSampling(): Promise<SamplingHeapProfile> {
    return (await this.call<{ profile: SamplingHeapProfile }>("HeapProfiler.stopSampling")).profile;
  }

  close(): void {
    this.socket.close();
  }
}
