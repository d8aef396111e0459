// A streaming scanner for JSON shaped like PI Web API responses: an object whose "Items" array holds either value
// objects or streams that have an "Items" array of their own. Bytes in, events out; memory stays at one item or member.

import { InvalidRecordError } from '../errors.js';

/**
 * Events, in file order. `level` 0 is the top object, 1 a stream inside the top "Items". A frame's `head` holds its
 * members before its "Items" (once that array starts), `tail` the members after it. `item` is one element of an Items
 * array: a value object (or whatever JSON was there) as raw text, owned by the frame at `level`.
 */
export type JsonItemEvent =
  | { kind: 'head'; level: 0 | 1; members: Record<string, unknown> }
  | { kind: 'tail'; level: 0 | 1; members: Record<string, unknown> }
  | { kind: 'item'; level: 0 | 1; raw: string }
  /** Only at EOF: the text of an item the file ends inside, or '' when it ends between items. */
  | { kind: 'truncated'; raw: string };

const MAX_CAPTURE = 16 << 20;
/** Bytes that continue a number or a literal (true, false, null). */
const SCALAR = new Uint8Array(256);
for (const ch of '0123456789+-.eEtrufalsn') SCALAR[ch.charCodeAt(0)] = 1;
const QUOTE = 0x22;

interface Frame {
  depth: number; // nesting depth of the frame's own object
  itemsDepth: number; // depth of its Items array once open, else -1
  sawItems: boolean;
}

export class JsonItemScanner {
  private depth = 0;
  private inString = false;
  private escape = false;
  private frames: Frame[] = [];
  /** Key detection directly inside a frame object: whether the string being read is a key, its bytes so far. */
  private inKey = false;
  private keyStart = -1;
  private keyPartial: Buffer | null = null;
  private keyIsItems = false;
  private keyCaptureStart = -1;
  /** After a key's ':' until its value starts: was that key "Items"? */
  private afterColon = false;
  private afterItemsColon = false;
  /** The one capture that can be open: what it is for, its earlier bytes, and its start in the current chunk. */
  private capWhat: 'prefix' | 'suffix' | 'item' | null = null;
  private capParts: Buffer[] = [];
  private capLen = 0;
  private capStart = 0;
  private capDepth = 0;
  private scalarItem = false;
  private offset = 0;
  private started = false;
  private done = false;

  constructor(private readonly file: string) {}

  /** Scans one chunk; returns the events it completed. */
  push(buf: Buffer): JsonItemEvent[] {
    const out: JsonItemEvent[] = [];
    const n = buf.length;
    this.capStart = 0;
    let i = 0;
    if (this.offset === 0 && n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // BOM
    if (this.inKey) this.keyStart = 0;
    // Backslashes before a quote are counted back to here: the string's start, this chunk's, or an escape's end.
    let strFrom = 0;
    for (; i < n; i++) {
      const c = buf[i];
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
          strFrom = i + 1;
          continue;
        }
        // Jump to the next quote; the run of backslashes before it decides whether it is escaped.
        const q = buf.indexOf(QUOTE, i);
        if (q < 0) {
          this.escape = oddBackslashes(buf, n - 1, strFrom);
          break;
        }
        i = q;
        if (oddBackslashes(buf, q - 1, strFrom)) continue;
        this.inString = false;
        if (this.inKey) this.endKey(buf, q);
        continue;
      }
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      if (this.done) throw new InvalidRecordError(`${this.file}: unexpected text after the JSON object at byte ${this.offset + i}`);
      if (!this.started) {
        if (c !== 0x7b) throw new InvalidRecordError(`${this.file}: not a PI Web API response: expected a JSON object, found ${JSON.stringify(String.fromCharCode(c))} at byte ${this.offset + i}`);
        this.started = true;
      }
      const frame = this.frames.length > 0 ? this.frames[this.frames.length - 1] : null;
      const inFrameObject = frame !== null && this.depth === frame.depth && frame.itemsDepth < 0;
      if (frame !== null && frame.itemsDepth === this.depth) {
        if (this.capWhat === null && c !== 0x2c && c !== 0x5d) {
          // An element of an Items array starts: a stream candidate in the top Items, else a value item.
          if (this.frames.length === 1 && c === 0x7b) {
            this.frames.push({ depth: this.depth + 1, itemsDepth: -1, sawItems: false });
            this.open('prefix', i, this.depth + 1);
          } else {
            this.open('item', i, this.depth + 1);
            this.scalarItem = c !== 0x7b && c !== 0x5b;
          }
        } else if (this.scalarItem && (c === 0x2c || c === 0x5d)) {
          out.push({ kind: 'item', level: (this.frames.length - 1) as 0 | 1, raw: this.close(buf, i).toString('utf8').trim() });
          this.scalarItem = false;
        }
      }
      if (c === QUOTE) {
        this.inString = true;
        strFrom = i + 1;
        if (inFrameObject && !this.afterColon) {
          this.inKey = true;
          this.keyStart = i + 1;
          this.keyPartial = null;
          this.keyCaptureStart = this.capLen + (i - this.capStart);
        }
        this.afterColon = false;
        continue;
      }
      if (c === 0x3a) {
        if (inFrameObject) {
          this.afterColon = true;
          this.afterItemsColon = this.keyIsItems;
        }
        continue;
      }
      if (c === 0x2c) continue;
      if (c === 0x7b || c === 0x5b) {
        if (this.depth === 0) {
          this.frames.push({ depth: 1, itemsDepth: -1, sawItems: false });
          this.open('prefix', i, 1);
        }
        this.depth++;
        if (inFrameObject && c === 0x5b && this.afterColon && this.afterItemsColon && !frame.sawItems) {
          frame.itemsDepth = this.depth;
          frame.sawItems = true;
          out.push({ kind: 'head', level: (this.frames.length - 1) as 0 | 1, members: this.members(this.closePrefix(buf, i)) });
        }
        this.afterColon = false;
        continue;
      }
      if (c === 0x7d || c === 0x5d) {
        if (this.depth === 0) throw new InvalidRecordError(`${this.file}: unbalanced JSON: ${String.fromCharCode(c)} at byte ${this.offset + i}`);
        if (this.capWhat === 'item' && this.depth === this.capDepth) {
          out.push({ kind: 'item', level: (this.frames.length - 1) as 0 | 1, raw: this.closeText(buf, i + 1) });
        } else if (frame !== null && c === 0x5d && this.depth === frame.itemsDepth) {
          frame.itemsDepth = -1;
          this.open('suffix', i + 1, frame.depth);
        } else if (frame !== null && c === 0x7d && this.depth === frame.depth) {
          const text = this.closeText(buf, i + 1);
          this.frames.pop();
          const level = this.frames.length as 0 | 1;
          if (!frame.sawItems) {
            if (level === 0) throw new InvalidRecordError(`${this.file}: not a PI Web API response: no "Items" array (${describeTop(text)})`);
            out.push({ kind: 'item', level: 0, raw: text });
          } else out.push({ kind: 'tail', level, members: this.members(`{${text.replace(/^\s*,/, '')}`) });
        }
        this.depth--;
        if (this.depth === 0) this.done = true;
        this.afterColon = false;
        continue;
      }
      this.afterColon = false; // a number, true, false or null: skip the rest of it at once
      while (i + 1 < n && SCALAR[buf[i + 1]] === 1) i++;
    }
    if (this.inString && this.inKey && this.keyStart < n) {
      const rest = buf.subarray(this.keyStart);
      this.keyPartial = this.keyPartial ? Buffer.concat([this.keyPartial, rest]) : Buffer.from(rest);
    }
    if (this.capWhat !== null) {
      this.capParts.push(Buffer.from(buf.subarray(this.capStart)));
      this.capLen += n - this.capStart;
      if (this.capLen > MAX_CAPTURE) throw new InvalidRecordError(`${this.file}: a JSON item or member near byte ${this.offset} exceeds ${MAX_CAPTURE} bytes`);
    }
    this.offset += n;
    return out;
  }

  /** At EOF: what was left open. */
  end(): JsonItemEvent[] {
    if (!this.started) throw new InvalidRecordError(`${this.file}: not a PI Web API response: the file holds no JSON`);
    if (this.depth === 0) return [];
    const partialItem = this.capWhat === 'item' || (this.capWhat === 'prefix' && this.frames.length === 2);
    return [{ kind: 'truncated', raw: partialItem ? Buffer.concat(this.capParts).toString('utf8') : '' }];
  }

  private endKey(buf: Buffer, q: number): void {
    this.inKey = false;
    if (this.keyPartial === null) {
      const k = this.keyStart;
      // "Items", byte by byte: this runs for every key of every value item.
      this.keyIsItems = q - k === 5 && buf[k] === 0x49 && buf[k + 1] === 0x74 && buf[k + 2] === 0x65 && buf[k + 3] === 0x6d && buf[k + 4] === 0x73;
    } else {
      const key = Buffer.concat([this.keyPartial, buf.subarray(0, q)]);
      this.keyIsItems = key.length === 5 && key.toString('latin1') === 'Items';
    }
    this.keyPartial = null;
  }

  private open(what: 'prefix' | 'suffix' | 'item', i: number, depth: number): void {
    this.capWhat = what;
    this.capParts = [];
    this.capLen = 0;
    this.capStart = i;
    this.capDepth = depth;
  }

  private close(buf: Buffer, end: number): Buffer {
    const last = buf.subarray(this.capStart, end);
    const bytes = this.capParts.length === 0 ? last : Buffer.concat([...this.capParts, last]);
    this.capWhat = null;
    this.capParts = [];
    this.capLen = 0;
    return bytes;
  }

  /** close() as text, without a Buffer view when the capture lies in this chunk (the common case). */
  private closeText(buf: Buffer, end: number): string {
    if (this.capParts.length > 0) return this.close(buf, end).toString('utf8');
    const start = this.capStart;
    this.capWhat = null;
    this.capLen = 0;
    return buf.toString('utf8', start, end);
  }

  /** The frame's text up to its "Items" key, closed into an object of the members before it. */
  private closePrefix(buf: Buffer, i: number): string {
    const cut = this.keyCaptureStart;
    const bytes = this.close(buf, i);
    return `${bytes.subarray(0, cut).toString('utf8').replace(/,\s*$/, '')}}`;
  }

  private members(text: string): Record<string, unknown> {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new InvalidRecordError(`${this.file}: the members around "Items" near byte ${this.offset} are not valid JSON: ${(e as Error).message}`);
    }
  }
}

function oddBackslashes(buf: Buffer, last: number, from: number): boolean {
  let k = 0;
  for (let j = last; j >= from && buf[j] === 0x5c; j--) k++;
  return (k & 1) === 1;
}

function describeTop(text: string): string {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const msg = o.Errors ?? o.Message ?? o.message;
    return msg !== undefined ? `it says ${JSON.stringify(msg).slice(0, 300)}` : `its keys are ${Object.keys(o).join(', ') || 'none'}`;
  } catch {
    return 'and it is not valid JSON';
  }
}
