// "On course to the memory limit": growth that would take the heap from where it stands to the ceiling
// within the horizon is an alarm whatever a daily load cycle could do, once it passes every shape test (the
// fast tier's on its window, the sustained tier's on spans of 4 h and more). A healthy ±30% daily cycle
// projected from its own climb only looks on course when its daily peak is above 84% of the limit (the
// worst phase and span: 88–91% for the fast tier's spans, 84–92% for the sustained tier's), before the
// margin for noise: a service that close to its limit is at risk of an OOM kill anyway.
import { formatDuration } from "./format.ts";
import { firstIndexFrom, type MetricView } from "./metric-view.ts";
import { highQuartile } from "./stats/order.ts";
import { percentPerHour, type TierContext } from "./tier-context.ts";

const HOUR = 3_600_000;
/** The horizon, in windows (4 h at the default 2 h). */
const LIMIT_HORIZON_WINDOWS = 2;

function limitHorizonMs(ctx: TierContext): number {
  return LIMIT_HORIZON_WINDOWS * ctx.config.windowMs;
}

/** The growth rate (%/h of `reference`) that takes the heap from `level` to the ceiling in the horizon. */
export type LimitRate = (level: number, reference: number) => number;

/**
 * The limit rate for one evaluation of a tier; Infinity without a ceiling (goroutines, or no memory
 * limit). The heap stands at the higher of the fitted level and its recent peaks (the high quartile of
 * the last half window of `blocks`, computed once here): a container is killed at its peaks (garbage
 * not yet collected), not at the trough a trend through the lower envelope sees.
 */
export function limitRate(blocks: MetricView, ctx: TierContext): LimitRate {
  const ceiling = ctx.kind === "heap" ? ctx.config.heapCeilingBytes : undefined;
  if (ceiling === undefined) return () => Infinity;
  const peak = recentPeak(blocks, ctx.config.windowMs / 2);
  const hours = limitHorizonMs(ctx) / HOUR;
  return (level, reference) =>
    percentPerHour(Math.max(0, ceiling - Math.max(level, peak)) / hours, reference);
}

/** The words added to a call that only the limit made fast enough. */
export function onCourseReason(ctx: TierContext): string {
  return `on course to reach the memory limit within ${formatDuration(limitHorizonMs(ctx))}`;
}

/**
 * Where the heap's recent peaks stand: the high quartile of the last `spanMs` (robust to a lone
 * allocation spike, which the container survives).
 */
function recentPeak(view: MetricView, spanMs: number): number {
  const n = view.t.length;
  return highQuartile(view.y.slice(firstIndexFrom(view, (view.t[n - 1] ?? 0) - spanMs), n));
}
