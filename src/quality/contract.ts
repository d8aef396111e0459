// The seam between the quality modules: one sensor's history as dense columns (read from `readings` by series.ts),
// and what a detector reports. Detectors, imputers and causal tests are pure functions of Series.

/** One sensor's readings in ts order; value NaN where the reading has no numeric value. */
export interface Series {
  sensorId: string;
  /** Asset path from the `sensors` table, when known. */
  asset: string | null;
  /** Microseconds since the epoch UTC, strictly increasing. */
  ts: Float64Array;
  values: Float64Array;
  /** OPC UA status code per reading (0 good). */
  quality: Int32Array;
}

/** One anomalous interval, as a row of the `anomalies` table. */
export interface Anomaly {
  /** The sensor, or null for an asset-level (multivariate) finding. */
  sensorId: string | null;
  asset: string | null;
  /** Inclusive bounds, µs since the epoch UTC. */
  tsStart: number;
  tsEnd: number;
  /** Higher is more anomalous; each detector documents its scale, normalised to [0, 1]. */
  score: number;
  detector: string;
  /** For a person: what was seen against what is normal, e.g. "value 812.4 above valid max 700 (sensors table)". */
  reason: string;
}
