// Every imputation method by name, so the dispatcher and auto-selection look them up in one place.

import type { Imputer, ImputeMethod } from './impute-types.js';
import { linearImputer, locfImputer } from './impute-basic.js';
import { seasonalDailyImputer, seasonalWeeklyImputer, smoothImputer } from './impute-seasonal.js';
import { ridgeImputer } from './impute-ridge.js';

export const IMPUTERS: Record<ImputeMethod, Imputer> = {
  linear: linearImputer,
  locf: locfImputer,
  'seasonal-daily': seasonalDailyImputer,
  'seasonal-weekly': seasonalWeeklyImputer,
  ridge: ridgeImputer,
  smooth: smoothImputer,
};
