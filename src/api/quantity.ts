// Byte quantities as Kubernetes writes them ("512Mi", "1G", "1.5Gi", 1048576).
import { SpecError } from "./errors.ts";

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  m: 1e-3,
};
const QUANTITY = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E|m))?$/;

export function parseQuantity(value: number | string, field = "quantity"): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new SpecError(field, `${value} is not a byte quantity`);
    return value;
  }
  const match = QUANTITY.exec(value.trim());
  if (match === null) {
    throw new SpecError(field, `"${value}" is not a quantity (write it like 512Mi, 1Gi or 1048576)`);
  }
  const [, digits = "0", exponent, suffix = ""] = match;
  const scale = exponent !== undefined ? 10 ** Number(exponent.slice(1)) : (SUFFIX[suffix] ?? 1);
  return Math.ceil(Number(digits) * scale);
}

/** "84Mi": a Kubernetes quantity rounded to two significant figures, for status fields. */
export function roundQuantity(bytes: number): string {
  const suffixes = ["", "Ki", "Mi", "Gi", "Ti"] as const;
  const sign = bytes < 0 ? "-" : "";
  let n = Math.abs(bytes);
  let i = 0;
  while (n >= 1024 && i < suffixes.length - 1) {
    n /= 1024;
    i++;
  }
  const rounded = n >= 10 ? Math.round(n) : Math.round(n * 10) / 10;
  return `${sign}${rounded}${suffixes[i] ?? ""}`;
}
