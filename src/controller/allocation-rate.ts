// How fast a target allocates, from the cumulative `alloc_space` of successive heap profiles. The
// detector uses it to bound how much of the heap a span can have replaced (so how much sampling error a
// change of the heap figure can carry): an upper estimate, so it follows a rise at once and forgets a
// burst slowly.
const HOUR = 3_600_000;
/** Weight of the newest interval in the running rate. */
const SMOOTHING = 0.3;

export class AllocationRate {
  private lastAt: number | undefined;
  private lastBytes: number | undefined;
  private perHour: number | undefined;

  /** Records a profile's cumulative allocated bytes; returns the rate in bytes per hour, once known. */
  observe(at: number, allocatedBytes: number | undefined): number | undefined {
    if (allocatedBytes === undefined || !Number.isFinite(allocatedBytes)) return this.perHour;
    const { lastAt, lastBytes } = this;
    this.lastAt = at;
    this.lastBytes = allocatedBytes;
    // A counter that went back is a new process: start over.
    if (lastAt === undefined || lastBytes === undefined || allocatedBytes < lastBytes) {
      this.perHour = undefined;
      return undefined;
    }
    if (at <= lastAt) return this.perHour;
    const rate = ((allocatedBytes - lastBytes) / (at - lastAt)) * HOUR;
    this.perHour =
      this.perHour === undefined ? rate : Math.max(rate, (1 - SMOOTHING) * this.perHour + SMOOTHING * rate);
    return this.perHour;
  }

  /** After a container restart: the next profile starts a new count. */
  reset(): void {
    this.lastAt = undefined;
    this.lastBytes = undefined;
    this.perHour = undefined;
  }
}
