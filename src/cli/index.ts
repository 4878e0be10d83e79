// The `leakwatch` entry point (also installed as the kubectl plugin `kubectl-leakwatch`).
// Each subcommand lives in its own module under src/cli/ and is loaded only when used,
// so `leakwatch top` never pays for the Kubernetes client.
import type { Command, CommandIO } from "./command.ts";
import { UsageError } from "./command.ts";

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  demo: {
    summary: "watch LeakWatch catch a real leak on this machine (npm run demo)",
    load: async () => (await import("./demo.ts")).demo,
  },
  run: {
    summary: "run the operator (in a cluster, or from a laptop with a kubeconfig)",
    load: async () => (await import("./run.ts")).run,
  },
  top: {
    summary: "summarize a pprof profile (file or URL)",
    load: async () => (await import("./top.ts")).top,
  },
  diff: { summary: "what grew between two profiles", load: async () => (await import("./diff.ts")).diff },
  detect: {
    summary: "replay a recorded heap series through the detector",
    load: async () => (await import("./detect.ts")).detect,
  },
  status: {
    summary: "per LeakWatch: pods' verdicts, heap, growth, time to limit, last capture",
    load: async () => (await import("./status.ts")).status,
  },
  captures: {
    summary: "list stored captures, or get one's profiles and report (for go tool pprof)",
    load: async () => (await import("./captures.ts")).captures,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: leakwatch <command> [flags]\n\ncommands:\n${lines.join("\n")}\n\nRun leakwatch <command> --help for its flags.\n`;
}

export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr.write(`leakwatch: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await (
      await command.load()
    )(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`leakwatch ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
