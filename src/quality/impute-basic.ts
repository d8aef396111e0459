// The two imputers that need no model: a straight line between the readings either side of a gap, and the last
// observation carried forward.

import type { Imputer } from './impute-types.js';

export const linearImputer: Imputer = (obs) => {
  if (obs.ts.length < 2) return null;
  return (gap) => {
    const t0 = obs.ts[gap.left];
    const t1 = obs.ts[gap.left + 1];
    const y0 = obs.values[gap.left];
    const y1 = obs.values[gap.left + 1];
    const out = new Float64Array(gap.ts.length);
    for (let j = 0; j < gap.ts.length; j++) out[j] = y0 + ((y1 - y0) * (gap.ts[j] - t0)) / (t1 - t0);
    return out;
  };
};

export const locfImputer: Imputer = (obs) => {
  if (obs.ts.length < 1) return null;
  return (gap) => new Float64Array(gap.ts.length).fill(obs.values[gap.left]);
};
