// holmes (mosn/holmes) memory rule: the current value above 125% of the average of the previous ten.
import type { AlarmRule } from "./rule.ts";

export const holmes: AlarmRule = {
  name: "holmes>1.25×avg",
  create() {
    let ring: number[] = [];
    return (sample) => {
      if (sample.restart === true) ring = [];
      const full = ring.length === 10;
      const average = full ? ring.reduce((a, b) => a + b, 0) / 10 : 0;
      ring.push(sample.heapInuseBytes);
      if (ring.length > 10) ring.shift();
      return full && sample.heapInuseBytes > 1.25 * average;
    };
  },
};
