// An immutable string-keyed map that a new version can share with the old: a base Map plus a short stack of change
// layers (one per commit applied). Snapshots hand these out, so advancing a snapshot by one commit costs that
// commit's changes, not a copy of 600k tombstones, and a snapshot a caller holds never changes under it. Pure.

/** A layer's entry: the new value, or undefined for a key the layer deletes. */
export type Changes<V> = ReadonlyMap<string, V | undefined>;

/** Layers kept before folding into a new base: bounds the Map lookups of a get() and makes folds rare. */
const MAX_LAYERS = 32;

export class LayeredMap<V> implements ReadonlyMap<string, V> {
  private merged: Map<string, V | undefined> | null = null;

  private constructor(
    /** Never mutated once handed to a LayeredMap. */
    private readonly base: ReadonlyMap<string, V>,
    /** Oldest first. */
    private readonly layers: readonly Changes<V>[],
    readonly size: number,
    private readonly overlaid: number,
  ) {}

  /** Wraps `map`, which the caller must never mutate afterwards (a LayeredMap is returned as it is). */
  static of<V>(map: ReadonlyMap<string, V>): LayeredMap<V> {
    return map instanceof LayeredMap ? (map as LayeredMap<V>) : new LayeredMap(map, [], map.size, 0);
  }

  get(key: string): V | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i];
      if (l.has(key)) return l.get(key);
    }
    return this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * This map with `changes` applied (which the caller must not mutate afterwards). When the layers grow deep or
   * hold as many entries as half the base, they are folded into a new base, dropping values `keep` rejects (so
   * expired tombstones leave memory at a fold, as they leave checkpoints): each fold's O(size) copy is paid for by
   * at least MAX_LAYERS commits or size/2 changes.
   */
  with(changes: Changes<V>, keep?: (v: V) => boolean): LayeredMap<V> {
    if (changes.size === 0) return this;
    let size = this.size;
    for (const [k, v] of changes) size += Number(v !== undefined) - Number(this.has(k));
    const next = new LayeredMap(this.base, [...this.layers, changes], size, this.overlaid + changes.size);
    const fold = next.layers.length > MAX_LAYERS || next.overlaid > 1024 + this.base.size / 2;
    return fold ? next.folded(keep) : next;
  }

  /** A copy as one plain base, without values `keep` rejects. */
  folded(keep?: (v: V) => boolean): LayeredMap<V> {
    const m = new Map<string, V>();
    for (const [k, v] of this) if (!keep || keep(v)) m.set(k, v);
    return new LayeredMap(m, [], m.size, 0);
  }

  /** The newest value of each key any layer touches (undefined: deleted). */
  private overlay(): Map<string, V | undefined> {
    if (this.merged) return this.merged;
    const m = new Map<string, V | undefined>();
    for (const l of this.layers) for (const [k, v] of l) m.set(k, v);
    this.merged = m;
    return m;
  }

  *entries(): MapIterator<[string, V]> {
    if (this.layers.length === 0) {
      yield* this.base.entries();
      return;
    }
    const over = this.overlay();
    for (const e of this.base) if (!over.has(e[0])) yield e;
    for (const [k, v] of over) if (v !== undefined) yield [k, v];
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
