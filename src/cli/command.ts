/** What every `leakwatch` subcommand gets: its arguments and where to write. */
export interface CommandIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly. */
  readonly signal: AbortSignal;
}

/** A subcommand returns its exit code; it throws only on programming errors. */
export type Command = (argv: readonly string[], io: CommandIO) => Promise<number>;

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly code = "LW_USAGE";
}
