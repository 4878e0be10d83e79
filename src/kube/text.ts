// Text limits the API counts in bytes (Go's len), and the time formats it expects.

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, ending in `marker` ("…") when cut. Never splits a
 * multi-byte character (or a surrogate pair); when `maxBytes` cannot even hold the marker, the
 * plain prefix.
 */
export function truncateUtf8(text: string, maxBytes: number, marker = "…"): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  const markerBytes = Buffer.byteLength(marker);
  const withMarker = maxBytes >= markerBytes;
  let cut = Math.max(0, withMarker ? maxBytes - markerBytes : maxBytes);
  // A byte 10xxxxxx continues the character before it: back up to that character's start.
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  const prefix = bytes.subarray(0, cut).toString("utf8");
  return withMarker ? prefix + marker : prefix;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, in UTC. */
export function formatMicroTime(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.min(999, Math.floor((ms - whole) * 1000));
  return `${new Date(whole).toISOString().slice(0, 23)}${String(micros).padStart(3, "0")}Z`;
}

/** metav1.Time: RFC 3339 to the second, in UTC. */
export function formatTime(ms: number): string {
  return `${new Date(Math.floor(ms)).toISOString().slice(0, 19)}Z`;
}
