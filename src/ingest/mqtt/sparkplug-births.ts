// What each Sparkplug edge node and device declared in its last BIRTH: metric aliases -> names and datatypes, so DATA
// messages that carry only aliases (and often no datatype) can be read. Kept in a small file beside the WAL so that
// messages the broker redelivers after a crash still resolve; written (fsync'd) before the BIRTH is acknowledged.

import { mkdir, open, readFile, rename } from 'node:fs/promises';
import * as path from 'node:path';
import type { TypeStr } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { CorruptLogError } from '../../errors.js';

export interface MetricDef {
  name: string;
  type: TypeStr;
}

/** One BIRTH: aliases (as decimal strings) and names to definitions. */
export interface Birth {
  /** The node's bdSeq (NBIRTH only), to tell a stale NDEATH from the current session's. */
  bdSeq: string | null;
  aliases: Record<string, MetricDef>;
  types: Record<string, TypeStr>;
}

interface NodeState {
  birth: Birth | null;
  devices: Record<string, Birth>;
}

interface FileShape {
  version: 1;
  nodes: Record<string, NodeState>;
}

const nodeKey = (group: string, edge: string): string => `${group}/${edge}`;

export class BirthStore {
  private nodes = new Map<string, NodeState>();
  private dirty = false;

  private constructor(private readonly file: string | null) {}

  /** Births remembered in `file` (null: in memory only, lost with the process). */
  static async open(file: string | null): Promise<BirthStore> {
    const s = new BirthStore(file);
    if (file === null) return s;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return s;
      throw e;
    }
    let parsed: FileShape;
    try {
      parsed = JSON.parse(text) as FileShape;
    } catch (e) {
      throw new CorruptLogError(`Sparkplug birth state ${file} is not valid JSON (${(e as Error).message}); remove it and let the edge nodes rebirth`);
    }
    if (parsed.version !== 1 || typeof parsed.nodes !== 'object') throw new CorruptLogError(`Sparkplug birth state ${file} has an unknown layout (version ${String(parsed.version)})`);
    for (const [k, v] of Object.entries(parsed.nodes)) s.nodes.set(k, v);
    return s;
  }

  /** NBIRTH starts a new session of the node: its devices' births are void until they are born again. */
  nodeBirth(group: string, edge: string, birth: Birth): void {
    this.nodes.set(nodeKey(group, edge), { birth, devices: {} });
    this.dirty = true;
  }

  deviceBirth(group: string, edge: string, device: string, birth: Birth): void {
    const k = nodeKey(group, edge);
    const n = this.nodes.get(k) ?? { birth: null, devices: {} };
    n.devices[device] = birth;
    this.nodes.set(k, n);
    this.dirty = true;
  }

  /** NDEATH ends the node's session, unless its bdSeq says it is the will of an earlier session. */
  nodeDeath(group: string, edge: string, bdSeq: string | null): boolean {
    const k = nodeKey(group, edge);
    const n = this.nodes.get(k);
    if (!n) return false;
    if (bdSeq !== null && n.birth?.bdSeq != null && n.birth.bdSeq !== bdSeq) return false;
    this.nodes.delete(k);
    this.dirty = true;
    return true;
  }

  deviceDeath(group: string, edge: string, device: string): boolean {
    const n = this.nodes.get(nodeKey(group, edge));
    if (!n || !(device in n.devices)) return false;
    delete n.devices[device];
    this.dirty = true;
    return true;
  }

  /** The birth that defines the metrics of a node (device null) or device, if it was seen. */
  birthOf(group: string, edge: string, device: string | null): Birth | undefined {
    const n = this.nodes.get(nodeKey(group, edge));
    if (!n) return undefined;
    return device === null ? (n.birth ?? undefined) : n.devices[device];
  }

  /** Writes the births to the file when they changed: temp file, fsync, rename, fsync of the directory. */
  async persist(): Promise<void> {
    if (!this.dirty || this.file === null) return;
    const shape: FileShape = { version: 1, nodes: Object.fromEntries(this.nodes) };
    const dir = path.dirname(this.file);
    await mkdir(dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(JSON.stringify(shape));
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, this.file);
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    this.dirty = false;
  }
}
