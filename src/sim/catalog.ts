// The plant's layout: which assets exist, which sensors each carries, with ids, units, valid ranges, intervals and
// the physics constants the model (model.ts) uses. Ids depend only on the sensor count and asset mix, never the seed.

import { InvalidArgumentError } from '../errors.js';

export const ASSET_TYPES = ['pump', 'compressor', 'boiler', 'conveyor'] as const;
export type AssetType = (typeof ASSET_TYPES)[number];
export const SENSOR_KINDS = ['temperature', 'pressure', 'vibration', 'flow', 'motor_current', 'state'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];
export const MACHINE_STATES = ['RUNNING', 'IDLE', 'STOPPED', 'FAULT'] as const;

/**
 * value = base + gain * driver + ambient * dailyAmbient + (FAULT ? fault : 0) + drift + noise * N(0,1), where the
 * driver is the asset's load (motor current, vibration), its flow (flow), or either delayed (temperature, pressure).
 */
interface KindSpec {
  unit: string;
  min: number;
  max: number;
  base: number;
  gain: number;
  noise: number;
  decimals: number;
  ambient?: number;
  fault?: number;
  description: string;
}

type Spec = Partial<Record<SensorKind, KindSpec>>;
const STATE: KindSpec = { unit: '', min: NaN, max: NaN, base: 0, gain: 0, noise: 0, decimals: 0, description: 'machine state' };

const SPECS: Record<AssetType, Spec> = {
  pump: {
    temperature: { unit: '°C', min: 0, max: 120, base: 30, gain: 25, noise: 0.1, decimals: 2, ambient: 3, description: 'bearing temperature' },
    pressure: { unit: 'bar', min: 0, max: 16, base: 1, gain: 7, noise: 0.03, decimals: 3, description: 'discharge pressure' },
    vibration: { unit: 'mm/s', min: 0, max: 25, base: 0.8, gain: 3, noise: 0.1, decimals: 3, fault: 6, description: 'vibration velocity (RMS)' },
    flow: { unit: 'm³/h', min: 0, max: 250, base: 0, gain: 130, noise: 0.8, decimals: 2, description: 'flow rate' },
    motor_current: { unit: 'A', min: 0, max: 150, base: 10, gain: 80, noise: 0.4, decimals: 2, description: 'motor current' },
    state: STATE,
  },
  compressor: {
    temperature: { unit: '°C', min: 0, max: 160, base: 40, gain: 60, noise: 0.2, decimals: 2, ambient: 4, description: 'discharge temperature' },
    pressure: { unit: 'bar', min: 0, max: 12, base: 2, gain: 5.5, noise: 0.03, decimals: 3, description: 'discharge pressure' },
    vibration: { unit: 'mm/s', min: 0, max: 30, base: 1.2, gain: 4, noise: 0.15, decimals: 3, fault: 8, description: 'vibration velocity (RMS)' },
    flow: { unit: 'm³/min', min: 0, max: 60, base: 0, gain: 30, noise: 0.2, decimals: 2, description: 'air flow' },
    motor_current: { unit: 'A', min: 0, max: 400, base: 40, gain: 250, noise: 1.5, decimals: 1, description: 'motor current' },
    state: STATE,
  },
  boiler: {
    temperature: { unit: '°C', min: 0, max: 300, base: 100, gain: 110, noise: 0.3, decimals: 1, ambient: 1, description: 'steam temperature' },
    pressure: { unit: 'bar', min: 0, max: 40, base: 3, gain: 20, noise: 0.1, decimals: 2, description: 'steam pressure' },
    flow: { unit: 't/h', min: 0, max: 30, base: 0, gain: 16, noise: 0.1, decimals: 2, description: 'feedwater flow' },
    motor_current: { unit: 'A', min: 0, max: 80, base: 5, gain: 40, noise: 0.2, decimals: 2, description: 'burner fan motor current' },
    state: STATE,
  },
  conveyor: {
    temperature: { unit: '°C', min: 0, max: 110, base: 30, gain: 30, noise: 0.1, decimals: 2, ambient: 4, description: 'drive motor temperature' },
    vibration: { unit: 'mm/s', min: 0, max: 20, base: 0.6, gain: 2.5, noise: 0.08, decimals: 3, fault: 5, description: 'gearbox vibration velocity (RMS)' },
    flow: { unit: 't/h', min: 0, max: 600, base: 0, gain: 320, noise: 3, decimals: 1, description: 'belt throughput' },
    motor_current: { unit: 'A', min: 0, max: 100, base: 8, gain: 45, noise: 0.3, decimals: 2, description: 'drive motor current' },
    state: STATE,
  },
};

/** Slow sensors report every SLOW_FACTOR base intervals (thermal readings and the state are polled less often). */
export const SLOW_FACTOR = 10;
const SLOW_KINDS: ReadonlySet<SensorKind> = new Set(['temperature', 'state']);
/** How lines are filled: this repeating pattern of asset types, filtered by the requested mix. */
const LINE_PATTERN: AssetType[] = ['pump', 'compressor', 'pump', 'conveyor', 'boiler', 'pump', 'compressor', 'conveyor'];
const ASSETS_PER_LINE = 8;
const LINES_PER_PLANT = 10;

export interface SimSensor {
  index: number;
  id: string;
  /** The asset path, e.g. plant1/line2/pump3: the Influx measurement. */
  asset: string;
  assetIndex: number;
  kind: SensorKind;
  valueType: 'numeric' | 'text';
  unit: string;
  /** Base intervals between readings. */
  every: number;
  intervalMs: number;
  decimals: number;
  /** Valid range; NaN for text sensors. */
  min: number;
  max: number;
  description: string;
  spec: Readonly<KindSpec>;
}

export interface SimAsset {
  index: number;
  path: string;
  type: AssetType;
  sensors: number[];
}

export interface Plant {
  assets: SimAsset[];
  sensors: SimSensor[];
  intervalMs: number;
}

/**
 * Lays out `sensorCount` sensors over assets; the last asset may carry only the first few of its kinds. `kinds` limits
 * which sensors assets carry (e.g. no state sensor, for a purely numeric file).
 */
export function buildPlant(sensorCount: number, intervalMs: number, mix: readonly AssetType[] = ASSET_TYPES, kinds: readonly SensorKind[] = SENSOR_KINDS): Plant {
  const pattern = LINE_PATTERN.filter((t) => mix.includes(t) && kinds.some((k) => SPECS[t][k]));
  if (pattern.length === 0) throw new InvalidArgumentError(`no asset of types ${mix.join(', ')} carries sensors of kinds ${kinds.join(', ')}`);
  const assets: SimAsset[] = [];
  const sensors: SimSensor[] = [];
  for (let slot = 0; sensors.length < sensorCount; slot++) {
    const line = Math.floor(slot / ASSETS_PER_LINE);
    const plantNo = Math.floor(line / LINES_PER_PLANT) + 1;
    const lineNo = (line % LINES_PER_PLANT) + 1;
    const type = pattern[slot % pattern.length];
    const lineStart = line * ASSETS_PER_LINE;
    let n = 0;
    for (let k = lineStart; k <= slot; k++) if (pattern[k % pattern.length] === type) n++;
    const path = `plant${plantNo}/line${lineNo}/${type}${n}`;
    const asset: SimAsset = { index: assets.length, path, type, sensors: [] };
    assets.push(asset);
    for (const kind of SENSOR_KINDS) {
      const spec = kinds.includes(kind) ? SPECS[type][kind] : undefined;
      if (!spec || sensors.length >= sensorCount) continue;
      const every = SLOW_KINDS.has(kind) ? SLOW_FACTOR : 1;
      const title = `${type[0].toUpperCase()}${type.slice(1)} ${n} on line ${lineNo}, plant ${plantNo}`;
      asset.sensors.push(sensors.length);
      sensors.push({
        index: sensors.length,
        id: `${path}/${kind}`,
        asset: path,
        assetIndex: asset.index,
        kind,
        valueType: kind === 'state' ? 'text' : 'numeric',
        unit: spec.unit,
        every,
        intervalMs: every * intervalMs,
        decimals: spec.decimals,
        min: spec.min,
        max: spec.max,
        description: `${title}: ${spec.description}`,
        spec,
      });
    }
  }
  return { assets, sensors, intervalMs };
}
