// A tiny protobuf writer for hand-made (and deliberately broken) profile messages.

/** Varint bytes of a non-negative or negative (two's complement, 10 bytes) 64-bit value. */
export function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) b |= 0x80;
    out.push(b);
  } while (v !== 0n);
  return out;
}

export function tag(field: number, wire: number): number[] {
  return varint((field << 3) | wire);
}

export function varintField(field: number, value: number | bigint): number[] {
  return [...tag(field, 0), ...varint(value)];
}

export function bytesField(field: number, payload: readonly number[] | Uint8Array): number[] {
  return [...tag(field, 2), ...varint(payload.length), ...payload];
}

export function stringField(field: number, s: string): number[] {
  return bytesField(field, Buffer.from(s, "utf8"));
}

export function packed(field: number, values: readonly (number | bigint)[]): number[] {
  return bytesField(
    field,
    values.flatMap((v) => varint(v)),
  );
}

/** Profile.sample_type: a ValueType of string indexes. */
export function valueType(field: number, type: number, unit: number): number[] {
  return bytesField(field, [...varintField(1, type), ...varintField(2, unit)]);
}

export function message(...parts: (readonly number[])[]): Buffer {
  return Buffer.from(parts.flat());
}
