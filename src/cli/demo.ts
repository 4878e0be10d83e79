// `leakwatch demo` (`npm run demo`): the whole story on a laptop — see src/demo/demo.ts.
import { join } from "node:path";
import { REPO_ROOT } from "../localcluster/binaries.ts";
import { runDemo } from "../demo/demo.ts";
import { liveOutput, plainOutput } from "../demo/view.ts";
import { parseFlags, positiveInt } from "./args.ts";
import type { Command } from "./command.ts";

const USAGE = `usage: leakwatch demo [--restart] [--non-interactive] [--timeout-minutes N]

Starts a local control plane, a leaking and a healthy Go service, and the operator; shows a live
table until the leak is detected and captured, then the event, the top growing call sites and the
command that opens the capture. --restart also shows a controlled restart (Evict, evidence first).
--non-interactive prints plain lines and exits 0 once the story is done (non-zero on failure).
`;

export const demo: Command = async (argv, io) => {
  const { values } = parseFlags(
    argv,
    {
      restart: { type: "boolean" },
      "non-interactive": { type: "boolean" },
      "timeout-minutes": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if (values.help === true) {
    io.stdout.write(USAGE);
    return 0;
  }
  const stdout = io.stdout as NodeJS.WriteStream;
  const interactive = values["non-interactive"] !== true && stdout.isTTY;
  return runDemo({
    restart: values.restart === true,
    output: interactive ? liveOutput(stdout) : plainOutput(io.stdout),
    signal: io.signal,
    timeoutMs: positiveInt("timeout-minutes", values["timeout-minutes"], 10) * 60_000,
    saveDir: join(REPO_ROOT, ".leakwatch", "demo"),
    stayUp: interactive,
  });
};
