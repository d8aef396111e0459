// Storage on a local filesystem. Commits are made atomic and exclusive with link(): write a temp file, fsync it,
// hard-link it to the final name (EEXIST means another writer won), fsync the directory. rename() would overwrite.

import { promises as fs, constants } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FileMeta, Storage } from './storage.js';
import { NotFoundError } from '../../errors.js';

export class LocalStorage implements Storage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private abs(p: string): string {
    return path.join(this.root, ...p.split('/'));
  }

  async list(dir: string, fromName = ''): Promise<FileMeta[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.abs(dir));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    names.sort();
    const out: FileMeta[] = [];
    for (const name of names) {
      if (name < fromName) continue;
      const rel = dir === '' ? name : `${dir}/${name}`;
      try {
        const st = await fs.stat(this.abs(rel));
        if (st.isFile()) out.push({ path: rel, size: st.size, modificationTime: Math.floor(st.mtimeMs) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // vanished between readdir and stat
      }
    }
    return out;
  }

  async listRecursive(dir: string): Promise<FileMeta[]> {
    const out: FileMeta[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(this.abs(rel), { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const ent of entries) {
        const child = rel === '' ? ent.name : `${rel}/${ent.name}`;
        if (ent.isDirectory()) await walk(child);
        else if (ent.isFile()) {
          const st = await fs.stat(this.abs(child));
          out.push({ path: child, size: st.size, modificationTime: Math.floor(st.mtimeMs) });
        }
      }
    };
    await walk(dir);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async head(p: string): Promise<FileMeta | null> {
    try {
      const st = await fs.stat(this.abs(p));
      return st.isFile() ? { path: p, size: st.size, modificationTime: Math.floor(st.mtimeMs) } : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async read(p: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await fs.readFile(this.abs(p)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${this.root}: file ${p} does not exist`);
      throw e;
    }
  }

  async readRange(p: string, offset: number, length: number): Promise<Uint8Array> {
    let fh: import('node:fs/promises').FileHandle;
    try {
      fh = await fs.open(this.abs(p), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${this.root}: file ${p} does not exist`);
      throw e;
    }
    try {
      const buf = new Uint8Array(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  private async writeDurably(abs: string, data: Uint8Array, flags: string): Promise<void> {
    const fh = await fs.open(abs, flags);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private async syncDir(absDir: string): Promise<void> {
    const fh = await fs.open(absDir, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async write(p: string, data: Uint8Array): Promise<FileMeta> {
    const abs = this.abs(p);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    const tmp = `${abs}.${randomUUID()}.tmp`;
    await this.writeDurably(tmp, data, 'w');
    await fs.rename(tmp, abs);
    await this.syncDir(path.dirname(abs));
    const st = await fs.stat(abs);
    return { path: p, size: st.size, modificationTime: Math.floor(st.mtimeMs) };
  }

  async putIfAbsent(p: string, data: Uint8Array): Promise<boolean> {
    const abs = this.abs(p);
    const dir = path.dirname(abs);
    await fs.mkdir(dir, { recursive: true });
    // The temp name starts with '.' so log listings never mistake it for a commit.
    const tmp = path.join(dir, `.${path.basename(abs)}.${randomUUID()}.tmp`);
    await this.writeDurably(tmp, data, 'wx');
    try {
      await fs.link(tmp, abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      await fs.unlink(tmp).catch(() => undefined);
    }
    await this.syncDir(dir);
    return true;
  }

  async delete(p: string): Promise<void> {
    await fs.unlink(this.abs(p)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fs.access(this.abs(p));
      return true;
    } catch {
      return false;
    }
  }
}
