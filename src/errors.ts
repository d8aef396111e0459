// Every error sensorlake raises: one base class so callers can catch ours apart from Node's,
// each message naming what failed and where (table, version, file, column, expected vs actual).

export class SensorlakeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Another writer committed something our transaction depends on. */
export class ConflictError extends SensorlakeError {}

/** The commit version was taken; retried internally, surfaced only when retries run out. */
export class CommitVersionTakenError extends SensorlakeError {}

/** A table uses a protocol feature we cannot honour for this operation. */
export class UnsupportedFeatureError extends SensorlakeError {
  constructor(
    readonly feature: string,
    message: string,
  ) {
    super(message);
  }
}

/** Data does not fit the table schema. */
export class SchemaMismatchError extends SensorlakeError {}

/** The transaction log cannot be read as a valid Delta log. */
export class CorruptLogError extends SensorlakeError {}

/** A record from an input is not usable. */
export class InvalidRecordError extends SensorlakeError {}

/** A table, version or file that was asked for does not exist. */
export class NotFoundError extends SensorlakeError {}

/** Arguments to an API call are inconsistent or out of range. */
export class InvalidArgumentError extends SensorlakeError {}

/** Rows passed to a replaceWhere write fall outside its predicate. */
export class PredicateViolationError extends SensorlakeError {}

/** Live ingest holds as much acknowledged-but-uncommitted data as it may; the client should retry after a while. */
export class BufferFullError extends SensorlakeError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** The server is shutting down and accepts nothing new. */
export class ShuttingDownError extends SensorlakeError {}

/** An MQTT broker refused us (credentials, client id, a subscription) or could not be reached at start. */
export class BrokerError extends SensorlakeError {}
