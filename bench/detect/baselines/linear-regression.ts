// Coroot's memory-leak check: a linear regression over the last hour; growth over that hour
// (fit(now) − fit(now − 1h)) / fit(now − 1h) above 10% fires. Like Coroot, it needs 80% of the data.
import { leastSquares, RangeBuffer, type AlarmRule } from "./rule.ts";

const HOUR = 3_600_000;

export function linearRegressionRule(intervalMs: number, thresholdPercent = 10): AlarmRule {
  return {
    name: `regression>${thresholdPercent}%/h`,
    create() {
      const buffer = new RangeBuffer(HOUR);
      return (sample) => {
        const points = buffer.add(sample);
        if (points.length < 0.8 * (HOUR / intervalMs)) return false;
        const fit = leastSquares(points, sample.t);
        if (fit === null) return false;
        const start = fit.valueAt - fit.slopePerHour;
        return start > 0 && fit.valueAt > 0 && ((fit.valueAt - start) / start) * 100 > thresholdPercent;
      };
    },
  };
}
