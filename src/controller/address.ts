// Where scrapes may go. Only pod IPs read from the API server are ever dialled (never a host named
// in an annotation or spec), and even those are refused when they point at link-local or cloud
// metadata addresses — a pod whose status was tampered with must not turn LeakWatch into a proxy
// to the node's credentials.
import { isIP } from "node:net";

const METADATA = new Set(["169.254.169.254", "100.100.100.200", "fd00:ec2::254", "169.254.170.2"]);

/** Why an address is refused, or undefined if scraping it is allowed. */
export function refusedAddress(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 0) return `"${ip}" is not an IP address`;
  const lower = ip.toLowerCase();
  if (METADATA.has(lower)) return `${ip} is a cloud metadata address`;
  if (family === 4) {
    const [a, b] = ip.split(".").map(Number);
    if (a === 169 && b === 254) return `${ip} is link-local`;
    if (a === 0) return `${ip} is not routable`;
    if (a !== undefined && a >= 224) return `${ip} is multicast or reserved`;
    return undefined;
  }
  if (/^fe[89ab][0-9a-f]:/.test(lower)) return `${ip} is link-local`;
  if (lower === "::") return `${ip} is unspecified`;
  if (lower.startsWith("ff")) return `${ip} is multicast`;
  return undefined;
}

/** host:port for a URL: IPv6 addresses need brackets. */
export function hostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function isPprofPath(path: string): boolean {
  return path.startsWith("/debug/pprof/") && !path.includes("..");
}
