// Every imputation method by name, so the dispatcher and auto-selection look them up in one place.

import type { FitContext, Imputer, ImputeMethod, Observed, Preparer } from './impute-types.js';
import { linearImputer, locfImputer } from './impute-basic.js';
import {
  prepareSeasonalDaily,
  prepareSeasonalWeekly,
  prepareSmooth,
  seasonalDailyImputer,
  seasonalWeeklyImputer,
  smoothImputer,
} from './impute-seasonal.js';
import { prepareRidge, ridgeImputer } from './impute-ridge.js';
import { prepareTrend, trendImputer } from './impute-trend.js';

export const IMPUTERS: Record<ImputeMethod, Imputer> = {
  linear: linearImputer,
  locf: locfImputer,
  'seasonal-daily': seasonalDailyImputer,
  'seasonal-weekly': seasonalWeeklyImputer,
  ridge: ridgeImputer,
  smooth: smoothImputer,
  trend: trendImputer,
};

/** Methods with a costly part worth doing once per series; the others fit cheaply enough on each copy. */
export const PREPARERS: Partial<Record<ImputeMethod, Preparer>> = {
  'seasonal-daily': prepareSeasonalDaily,
  'seasonal-weekly': prepareSeasonalWeekly,
  ridge: prepareRidge,
  smooth: prepareSmooth,
  trend: prepareTrend,
};

/**
 * An Imputer per method for `obs` and its self-masked copies: prepared where that pays (on first use, so a method
 * never called costs nothing), else the plain one.
 */
export function prepareImputers(obs: Observed, ctx: FitContext, methods: readonly ImputeMethod[]): Partial<Record<ImputeMethod, Imputer>> {
  const out: Partial<Record<ImputeMethod, Imputer>> = {};
  for (const m of methods) {
    const prepare = PREPARERS[m];
    if (!prepare) {
      out[m] = IMPUTERS[m];
      continue;
    }
    let prepared: Imputer | null = null;
    out[m] = (o, c) => (prepared ??= prepare(obs, ctx))(o, c);
  }
  return out;
}
