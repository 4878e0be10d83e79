// Number formatting shared by headlines, tables and the CLI.

const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/** "38.2 MiB", "512 B"; three significant digits above 1 KiB. */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? "-" : "";
  let v = Math.abs(bytes);
  let unit = 0;
  while (v >= 1024 && unit < IEC.length - 1) {
    v /= 1024;
    unit++;
  }
  if (unit === 0) return `${sign}${Math.round(v)} B`;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${IEC[unit] ?? ""}`;
}

/** With an explicit sign: "+38.2 MiB", "-1.20 MiB", "+0 B". */
export function formatSignedBytes(bytes: number): string {
  return bytes < 0 ? formatBytes(bytes) : `+${formatBytes(bytes)}`;
}

/** "+61%", "+6.1%", "-12%"; relative is a ratio (0.61 for +61%). */
export function formatRelative(relative: number): string {
  const pct = relative * 100;
  const abs = Math.abs(pct);
  const text = abs >= 10 || abs === 0 ? Math.round(abs).toString() : abs.toFixed(1);
  return `${pct < 0 ? "-" : "+"}${text}%`;
}

/** "1,234,567" for counts. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

export function formatSignedCount(n: number): string {
  return n < 0 ? formatCount(n) : `+${formatCount(n)}`;
}

/** pprof's percentage column: "85.43%", "  100%", "0.0065%". Uses |value| like pprof. */
export function formatPercent(value: number, total: number): string {
  const ratio = total === 0 ? 0 : Math.abs(value / total) * 100;
  if (ratio >= 99.95 && ratio <= 100.05) return "  100%";
  if (ratio >= 1) return `${ratio.toFixed(2).padStart(5)}%`;
  return `${goG2(ratio).padStart(5)}%`;
}

/** Go's %.2g: two significant digits, trailing zeros dropped, exponent form below 1e-4. */
function goG2(x: number): string {
  if (x === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4) {
    const [mantissa = "0", e = "0"] = x.toExponential(1).split("e");
    const m = mantissa.replace(/\.?0+$/, "");
    const n = Number(e);
    return `${m}e${n < 0 ? "-" : "+"}${Math.abs(n).toString().padStart(2, "0")}`;
  }
  return Number(x.toPrecision(2)).toString();
}
