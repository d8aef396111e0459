// One output file as a byte sink: a write stream (through gzip when asked) whose backlog the simulation loop checks,
// so generation waits for the disk instead of buffering without bound.

import { createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createGzip, constants as zc } from 'node:zlib';
import type { Writable } from 'node:stream';

export class OutFile {
  private readonly sink: Writable;
  private readonly file: Writable;
  private readonly done: Promise<void>;
  readonly name: string;
  records = 0;

  constructor(
    readonly dir: string,
    /** Relative to dir, without the .gz suffix. */
    name: string,
    gzip: boolean,
  ) {
    this.name = gzip ? `${name}.gz` : name;
    this.file = createWriteStream(path.join(dir, this.name), { highWaterMark: 4 << 20 });
    // Level 1: gzip at the default level would cost more CPU than generating the rows.
    this.sink = gzip ? createGzip({ level: 1, memLevel: 9, chunkSize: 1 << 16, strategy: zc.Z_DEFAULT_STRATEGY }) : this.file;
    if (gzip) this.sink.pipe(this.file);
    this.done = new Promise((resolve, reject) => {
      this.file.on('finish', resolve);
      this.file.on('error', reject);
      this.sink.on('error', reject);
    });
    this.done.catch(() => undefined); // surfaced by close()
  }

  write(chunk: Uint8Array): void {
    this.sink.write(chunk);
  }

  get backlog(): boolean {
    return this.sink.writableNeedDrain || this.file.writableNeedDrain;
  }

  async drain(): Promise<void> {
    while (this.backlog) {
      const s = this.sink.writableNeedDrain ? this.sink : this.file;
      await new Promise<void>((resolve, reject) => {
        const ok = (): void => {
          s.off('error', bad);
          resolve();
        };
        const bad = (e: Error): void => {
          s.off('drain', ok);
          reject(e);
        };
        s.once('drain', ok);
        s.once('error', bad);
      });
    }
  }

  /** Ends the stream and returns the size on disk. */
  async close(): Promise<{ path: string; bytes: number; records: number }> {
    this.sink.end();
    await this.done;
    const st = await fs.stat(path.join(this.dir, this.name));
    return { path: this.name, bytes: st.size, records: this.records };
  }
}
