// The shapes every imputer shares: the readings it may learn from, a gap to fill, and the two-step contract (fit
// once per series, then fill each gap), so auto-selection can refit on a self-masked copy and compare methods fairly.

export const IMPUTE_METHODS = ['linear', 'locf', 'seasonal-daily', 'seasonal-weekly', 'ridge', 'smooth', 'trend'] as const;
export type ImputeMethod = (typeof IMPUTE_METHODS)[number];

/** Good numeric readings of one sensor: ts (µs) strictly increasing, every value finite. */
export interface Observed {
  ts: Float64Array;
  values: Float64Array;
}

/** Another sensor of the same asset, for the multivariate (ridge) imputer. */
export interface Neighbour extends Observed {
  sensorId: string;
  intervalUs: number;
}

export interface FitContext {
  intervalUs: number;
  neighbours: Neighbour[];
}

/** One gap: `left` indexes the last observed reading before it (left + 1 the first after); fill these times. */
export interface GapRequest {
  left: number;
  ts: Float64Array;
}

/** Fills gaps of the series it was fitted on; null for a gap it cannot fill (e.g. no neighbour data there). */
export type Filler = (gap: GapRequest) => Float64Array | null;

/** Learns from the observed readings; null when the method does not apply (too little data, no neighbours). */
export type Imputer = (obs: Observed, ctx: FitContext) => Filler | null;

/**
 * A method's costly part done once on the whole observed series (a likelihood fit, a design matrix), returned as an
 * Imputer for that series and for any self-masked copy of it (a subset of its readings, same FitContext). Auto refits
 * every candidate on several self-masks of one series, and this part need not be redone for each.
 */
export type Preparer = (obs: Observed, ctx: FitContext) => Imputer;
