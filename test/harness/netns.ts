// A test host in its own network namespace, joined to this one by a veth pair: a private address
// the API server can reach (its pod proxy refuses loopback), with nothing else on the network.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface NetnsHost {
  readonly name: string;
  /** The namespace side's address (the "pod IP"). */
  readonly address: string;
  /** argv prefix that runs a command inside the namespace. */
  readonly execPrefix: readonly string[];
  remove(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await exec("ip", args);
}

/** Creates the namespace and veth pair on a /30 taken from 10.213.x.y (never routed beyond this host). */
export async function createNetnsHost(): Promise<NetnsHost> {
  const id = randomBytes(2);
  const name = `lwt-${id.toString("hex")}`;
  const third = id[0] ?? 0;
  const fourth = ((id[1] ?? 0) % 63) * 4;
  const hostSide = `10.213.${third}.${fourth + 1}`;
  const nsSide = `10.213.${third}.${fourth + 2}`;
  const hostIf = `${name}-h`;
  const nsIf = `${name}-n`;
  await ip("netns", "add", name);
  try {
    await ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
    await ip("link", "set", nsIf, "netns", name);
    await ip("addr", "add", `${hostSide}/30`, "dev", hostIf);
    await ip("link", "set", hostIf, "up");
    await ip("netns", "exec", name, "ip", "addr", "add", `${nsSide}/30`, "dev", nsIf);
    await ip("netns", "exec", name, "ip", "link", "set", nsIf, "up");
    await ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
  } catch (err) {
    await ip("netns", "del", name).catch(() => undefined);
    throw err;
  }
  return {
    name,
    address: nsSide,
    execPrefix: ["ip", "netns", "exec", name],
    remove: async () => {
      await ip("link", "del", hostIf).catch(() => undefined);
      await ip("netns", "del", name).catch(() => undefined);
    },
  };
}
