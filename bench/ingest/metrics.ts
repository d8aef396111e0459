// Reads the Prometheus text format of the server's /metrics: sample values by name (labels summed over), and a
// histogram quantile over the difference of two scrapes (as Prometheus' histogram_quantile over a rate).

export interface Metrics {
  /** The sum of all samples named `name` (any labels), or null when there is none. */
  value(name: string): number | null;
  /** The q-quantile of histogram `name` observed since `since` (upper bucket bound, as Prometheus interpolates). */
  histogramQuantile(name: string, q: number, since?: Metrics): number | null;
  buckets(name: string): Map<number, number>;
}

export function parseMetrics(text: string): Metrics {
  const sums = new Map<string, number>();
  const buckets = new Map<string, Map<number, number>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name, labels, raw] = m;
    const v = Number(raw);
    if (!Number.isFinite(v)) continue;
    sums.set(name, (sums.get(name) ?? 0) + v);
    if (name.endsWith('_bucket') && labels) {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      if (le === undefined) continue;
      const base = name.slice(0, -'_bucket'.length);
      let b = buckets.get(base);
      if (!b) buckets.set(base, (b = new Map()));
      const bound = le === '+Inf' ? Infinity : Number(le);
      b.set(bound, (b.get(bound) ?? 0) + v);
    }
  }
  const self: Metrics = {
    value: (name) => sums.get(name) ?? null,
    buckets: (name) => buckets.get(name) ?? new Map(),
    histogramQuantile(name, q, since) {
      const now = buckets.get(name);
      if (!now) return null;
      const then = since?.buckets(name) ?? new Map<number, number>();
      const bounds = [...now.keys()].sort((a, b) => a - b);
      const counts = bounds.map((b) => now.get(b)! - (then.get(b) ?? 0));
      const total = counts.at(-1) ?? 0;
      if (total <= 0) return null;
      const rank = q * total;
      for (let i = 0; i < bounds.length; i++) {
        if (counts[i] >= rank) {
          if (!Number.isFinite(bounds[i])) return bounds[i - 1] ?? null;
          const lo = i === 0 ? 0 : bounds[i - 1];
          const below = i === 0 ? 0 : counts[i - 1];
          const inBucket = counts[i] - below;
          return inBucket > 0 ? lo + ((bounds[i] - lo) * (rank - below)) / inBucket : bounds[i];
        }
      }
      return null;
    },
  };
  return self;
}
