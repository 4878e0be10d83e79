// Runs a command in-process with captured stdout and stderr.
import { PassThrough } from "node:stream";
import type { Command, CommandIO } from "../../../src/cli/command.ts";

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCommand(command: Command, argv: readonly string[]): Promise<Ran> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on("data", (c: Buffer) => chunks.out.push(c));
  err.on("data", (c: Buffer) => chunks.err.push(c));
  const io: CommandIO = { stdout: out, stderr: err, env: {}, signal: new AbortController().signal };
  const code = await command(argv, io);
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}
