// Time as the watch, queue and lease code sees it: injected, so tests can drive it by hand.
// The system clock is monotonic (it never jumps back when NTP adjusts the wall clock), yet reads
// like epoch milliseconds, so durations judged with it are safe and values stay readable in logs.

/** Node's Timeout object, or a fake clock's number. */
export type TimerHandle = object | number;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** Waits `ms`, or less if `signal` aborts first; never rejects (callers check the signal). */
export async function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return;
  await new Promise<void>((resolveSleep) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolveSleep();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolveSleep();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Reads `signal.aborted` through a call, so a loop sees an abort that happened while it awaited. */
export function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
