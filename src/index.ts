// The sensorlake library: the Delta engine's public face and the error types.

export * from './delta/table.js';
export * from './errors.js';
