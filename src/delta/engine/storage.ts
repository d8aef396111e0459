// The storage handler: the only way the Delta engine touches files. Paths are relative to the table root and
// use '/' separators; implementations map them onto a filesystem or an object store.

export interface FileMeta {
  /** Path relative to the table root, '/'-separated. */
  path: string;
  size: number;
  /** Last modification, ms since the epoch. */
  modificationTime: number;
}

export interface Storage {
  /** A printable location for error messages, e.g. the table's absolute directory. */
  readonly root: string;
  /**
   * Files directly under `dir` (not recursive) whose names sort at or after `fromName` (all when omitted), sorted by
   * name. A missing directory lists as empty. Like Delta's LogStore.listFrom, this lets a reader skip old log files.
   */
  list(dir: string, fromName?: string): Promise<FileMeta[]>;
  /** Every file below `dir`, recursively, for vacuum. */
  listRecursive(dir: string): Promise<FileMeta[]>;
  /**
   * The size and modification time of one file, or null when it is absent. Lets a reader that keeps a snapshot
   * check cheaply that the commit it last read is still the same file (the log was not rewritten underneath it).
   */
  head(path: string): Promise<FileMeta | null>;
  /** Reads a whole file; throws NotFoundError when it is absent. */
  read(path: string): Promise<Uint8Array>;
  /** Reads `length` bytes at `offset`. */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Writes a new file durably. Overwrites: use only for names nobody else can pick (unique data files, _last_checkpoint). */
  write(path: string, data: Uint8Array): Promise<FileMeta>;
  /** Creates `path` with `data` only if it does not exist; returns false when it already existed. Atomic and durable. */
  putIfAbsent(path: string, data: Uint8Array): Promise<boolean>;
  /** Removes a file; absent is not an error. */
  delete(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}
