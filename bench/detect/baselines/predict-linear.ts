// Prometheus: `predict_linear(heap[1h], 4h) > limit` held `for: 15m`.
import { leastSquares, RangeBuffer, type AlarmRule } from "./rule.ts";

const HOUR = 3_600_000;

export const predictLinear: AlarmRule = {
  name: "predict_linear",
  create(ceiling) {
    const buffer = new RangeBuffer(HOUR);
    let pendingSince: number | null = null;
    return (sample) => {
      const points = buffer.add(sample);
      const fit = leastSquares(points, sample.t);
      const condition = fit !== null && fit.valueAt + fit.slopePerHour * 4 > ceiling;
      if (!condition) {
        pendingSince = null;
        return false;
      }
      pendingSince ??= sample.t;
      return sample.t - pendingSince >= 15 * 60_000;
    };
  },
};
