// What /proc says about a process: which of a few processes owns a TCP connection, and how many
// file descriptors and sockets a process holds (Linux only, like the rest of the harness).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** Inodes of IPv4 TCP sockets whose local port is `localPort` and remote port is `remotePort`. */
function inodes(localPort: number, remotePort: number): Set<string> {
  const out = new Set<string>();
  let text: string;
  try {
    text = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return out;
  }
  const local = `:${localPort.toString(16).toUpperCase().padStart(4, "0")}`;
  const remote = `:${remotePort.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(local) === true && f[2]?.endsWith(remote) === true && f[9] !== undefined)
      out.add(f[9]);
  }
  return out;
}

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) out.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/**
 * Which of `pids` owns the client end of a connection to our `serverPort` from `clientPort`.
 * Called when the connection is accepted, so the socket is still open on both sides.
 */
export function socketOwner(
  clientPort: number,
  serverPort: number,
  pids: readonly number[],
): number | undefined {
  const wanted = inodes(clientPort, serverPort);
  if (wanted.size === 0) return undefined;
  for (const pid of pids) {
    for (const inode of socketInodes(pid)) if (wanted.has(inode)) return pid;
  }
  return undefined;
}

export interface DescriptorCounts {
  fds: number;
  sockets: number;
  /** Sockets that are TCP connections in ESTABLISHED state (IPv4 and IPv6). */
  tcpEstablished: number;
}

/** File descriptors and sockets of a process right now. */
export function descriptorCounts(pid: number): DescriptorCounts {
  const fds = readdirSync(`/proc/${pid}/fd`);
  const sockets = socketInodes(pid);
  let established = 0;
  for (const file of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "01" && f[9] !== undefined && sockets.has(f[9])) established++;
    }
  }
  return { fds: fds.length, sockets: sockets.size, tcpEstablished: established };
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}
