// Flag parsing shared by subcommands: node:util parseArgs, with its errors as UsageErrors.
import type { ParseArgsOptionsConfig } from "node:util";
import { parseArgs } from "node:util";
import { UsageError } from "./command.ts";

/** Parses argv strictly; unknown flags and missing values become UsageErrors naming the help. */
export function parseFlags<T extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: T,
  usage: string,
) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${message}\n\n${usage}`);
  }
}

/** A flag that must be a positive integer ("--top 20"). */
export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** A flag limited to a set of words ("--by line"). */
export function oneOf<const W extends string>(
  flag: string,
  value: string | undefined,
  words: readonly W[],
  fallback: W,
): W {
  if (value === undefined) return fallback;
  const word = words.find((w) => w === value);
  if (word === undefined)
    throw new UsageError(`--${flag} must be one of ${words.join(", ")}, got ${JSON.stringify(value)}`);
  return word;
}
