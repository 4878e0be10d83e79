// Child processes that never outlive their starter: each is recorded in DIR/pids, and a detached
// reaper kills them all if this process dies without cleaning up (SIGKILL, crash, Ctrl-C twice).
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, createWriteStream, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REAPER = join(dirname(fileURLToPath(import.meta.url)), "reaper.ts");

export class ProcessExitedError extends Error {
  override readonly name = "ProcessExitedError";
  readonly code = "LW_PROCESS_EXITED";
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  private readonly child: ChildProcess;
  private output = "";
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(name: string, child: ChildProcess, logPath: string) {
    this.name = name;
    this.child = child;
    this.logPath = logPath;
    const log = createWriteStream(logPath);
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      // Keep only a tail in memory: enough to find readiness lines and show errors.
      this.output = (this.output + chunk.toString("utf8")).slice(-256 * 1024);
      for (const wake of this.waiters) wake();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    this.exited = new Promise((resolveExit) => {
      child.once("exit", (code) => {
        log.end();
        resolveExit(code);
        for (const wake of this.waiters) wake();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last part of what the process printed. */
  tail(chars = 4000): string {
    return this.output.slice(-chars);
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.output.match(pattern);
      if (match !== null) return match;
      if (!this.running) {
        throw new ProcessExitedError(`${this.name} exited before printing ${pattern}:\n${this.tail()}`);
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise<void>((wake) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          wake();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export class ProcessGroup {
  readonly dir: string;
  private readonly processes: ManagedProcess[] = [];

  /** `removeDirOnReap`: the reaper also deletes `dir` when the starter dies uncleanly. */
  constructor(dir: string, removeDirOnReap = false) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    const reaper = spawn(
      process.execPath,
      [REAPER, String(process.pid), dir, ...(removeDirOnReap ? ["--remove"] : [])],
      {
        detached: true,
        stdio: "ignore",
      },
    );
    reaper.unref();
  }

  start(name: string, command: string, args: readonly string[], options: StartOptions = {}): ManagedProcess {
    const child = spawn(command, args, {
      cwd: options.cwd ?? this.dir,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid === undefined) throw new ProcessExitedError(`could not start ${command}`);
    appendFileSync(join(this.dir, "pids"), `${child.pid}\n`);
    const managed = new ManagedProcess(name, child, join(this.dir, `${name}.log`));
    this.processes.push(managed);
    return managed;
  }

  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(graceMs)));
  }
}
