// Shared plumbing of the one-stream text writers (CSV, JSON Lines, Influx): one file, or one per UTC day, with
// a line counter for the locations truth.json gives and the backlog and drain the simulation loop waits on.

import type { RecordLocation, WriterContext, WrittenFile } from './types.js';
import { OutFile } from './out-file.js';
import { TextOut } from './text-out.js';

export abstract class TextFileWriter {
  protected out!: TextOut<OutFile>;
  /** Lines completed in the current file. */
  protected line = 0;
  /** Records in the current file (a line may hold several, as in Influx). */
  protected records = 0;
  private readonly written: WrittenFile[] = [];

  constructor(
    protected readonly ctx: WriterContext,
    private readonly stem: string,
    private readonly ext: string,
  ) {}

  async startDay(day: string): Promise<void> {
    if (this.out && this.ctx.split === 'none') return;
    if (this.out) await this.closeFile();
    const name = this.ctx.split === 'day' ? `${this.stem}-${day}.${this.ext}` : `${this.stem}.${this.ext}`;
    this.out = new TextOut(new OutFile(this.ctx.dir, name, this.ctx.gzip));
    this.line = 0;
    this.records = 0;
    this.header();
  }

  /** Writes the file's first lines, if the format has any. */
  protected header(): void {}

  /** Completes a pending line, for writers that build lines across calls. */
  protected endLine(): void {}

  protected location(line: number): RecordLocation {
    return { file: this.out.file.name, location: line, locationKind: 'line' };
  }

  get backlog(): boolean {
    return this.out.file.backlog;
  }

  drain(): Promise<void> {
    return this.out.file.drain();
  }

  private async closeFile(): Promise<void> {
    this.endLine();
    this.out.flush();
    this.out.file.records = this.records;
    this.written.push(await this.out.file.close());
  }

  async close(): Promise<WrittenFile[]> {
    if (this.out) await this.closeFile();
    return this.written;
  }
}
