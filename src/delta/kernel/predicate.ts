// Predicates over a table's columns: SQL text <-> a small AST, bound to the schema, then evaluated three ways:
// on partition values and on file stats (scan pruning, replaceWhere, conflict checks) and on Arrow rows. Pure.

import * as arrow from 'apache-arrow';
import type { DataType, PrimitiveType, StructField, StructType } from './schema.js';
import { InvalidArgumentError } from '../../errors.js';
import {
  cellReader,
  decimalScale,
  formatMicros,
  parseDateText,
  parseDecimalText,
  parsePartitionValue,
  parseTimestampText,
  type PartitionLiteral,
} from './partition-values.js';
import { compareUtf8, parseStats, STRING_PREFIX_LENGTH, type FileStats } from './stats.js';
import { dictionaryOutcomes, int64CmpOutcomes, isDictionaryChunk, isInt64Like } from './row-outcomes.js';

export type Literal = string | number | bigint | boolean | null | Date;
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type Predicate =
  | { op: 'and' | 'or'; args: Predicate[] }
  | { op: 'not'; arg: Predicate }
  | { op: CompareOp; column: string; value: Literal }
  | { op: 'in'; column: string; values: Literal[] }
  | { op: 'isNull' | 'isNotNull'; column: string };

// ---------------------------------------------------------------------------------------------------------------
// Parsing. Spark's SQL syntax for the subset: AND/OR/NOT, comparisons (either side may be the column), [NOT] IN,
// [NOT] BETWEEN, IS [NOT] NULL; strings in '...' or "..." with Spark's backslash escapes; 12L for bigint;
// DATE '...', TIMESTAMP '...', TIMESTAMP_NTZ '...'; columns plain, dotted (nested) or `back quoted`.

type Tok =
  | { t: 'word'; text: string; pos: number }
  | { t: 'qword'; text: string; pos: number }
  | { t: 'str'; text: string; pos: number }
  | { t: 'num'; text: string; pos: number }
  | { t: 'sym'; text: string; pos: number }
  | { t: 'eof'; text: ''; pos: number };

const RESERVED = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false', 'between']);

function fail(sql: string, pos: number, msg: string): never {
  const near = pos >= sql.length ? 'the end' : `'${sql.slice(pos, pos + 20)}'`;
  throw new InvalidArgumentError(`predicate: ${msg} at offset ${pos} (near ${near}) in: ${sql}`);
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', '0': '\0', Z: '\x1a', '%': '\\%', _: '\\_' };

function tokenize(sql: string): Tok[] {
  const out: Tok[] = [];
  let k = 0;
  while (k < sql.length) {
    const c = sql[k];
    if (/\s/.test(c)) {
      k++;
      continue;
    }
    const pos = k;
    if (/[A-Za-z_]/.test(c)) {
      while (k < sql.length && /[A-Za-z0-9_]/.test(sql[k])) k++;
      out.push({ t: 'word', text: sql.slice(pos, k), pos });
    } else if (c === '`') {
      let text = '';
      for (k++; ; k++) {
        if (k >= sql.length) fail(sql, pos, 'unterminated `quoted` column name');
        if (sql[k] === '`') {
          if (sql[k + 1] !== '`') break;
          k++;
        }
        text += sql[k];
      }
      k++;
      out.push({ t: 'qword', text, pos });
    } else if (c === "'" || c === '"') {
      let text = '';
      for (k++; ; ) {
        if (k >= sql.length) fail(sql, pos, 'unterminated string literal');
        const d = sql[k];
        if (d === c) break;
        if (d !== '\\') {
          text += d;
          k++;
          continue;
        }
        const e = sql[k + 1];
        if (e === undefined) fail(sql, k, 'unterminated string literal');
        if (/^[0-3][0-7]{2}$/.test(sql.slice(k + 1, k + 4))) {
          text += String.fromCharCode(parseInt(sql.slice(k + 1, k + 4), 8));
          k += 4;
        } else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(sql.slice(k + 2, k + 6))) {
          text += String.fromCharCode(parseInt(sql.slice(k + 2, k + 6), 16));
          k += 6;
        } else {
          text += SIMPLE_ESCAPES[e] ?? e;
          k += 2;
        }
      }
      k++;
      out.push({ t: 'str', text, pos });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[k + 1] ?? ''))) {
      const m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[LlDd]?/.exec(sql.slice(k)) as RegExpExecArray;
      k += m[0].length;
      if (/[A-Za-z0-9_]/.test(sql[k] ?? '')) fail(sql, pos, `malformed number '${m[0]}${sql[k]}'`);
      out.push({ t: 'num', text: m[0], pos });
    } else {
      const sym = ['<=>', '<=', '>=', '<>', '!=', '==', '=', '<', '>', '(', ')', ',', '.', '-'].find((s) => sql.startsWith(s, k));
      if (!sym || sym === '<=>') fail(sql, pos, `unexpected character '${sym ?? c}'`);
      k += sym.length;
      out.push({ t: 'sym', text: sym, pos });
    }
  }
  out.push({ t: 'eof', text: '', pos: sql.length });
  return out;
}

const FLIP: Record<CompareOp, CompareOp> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const OPS: Record<string, CompareOp> = { '=': '=', '==': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

class Parser {
  private k = 0;
  constructor(
    private readonly sql: string,
    private readonly toks: Tok[],
  ) {}

  private get tok(): Tok {
    return this.toks[this.k];
  }
  private isWord(w: string, at = this.k): boolean {
    const t = this.toks[at];
    return t.t === 'word' && t.text.toLowerCase() === w;
  }
  private isSym(s: string): boolean {
    return this.tok.t === 'sym' && this.tok.text === s;
  }
  private expectSym(s: string, what: string): void {
    if (!this.isSym(s)) fail(this.sql, this.tok.pos, `expected ${what}`);
    this.k++;
  }

  parse(): Predicate {
    if (this.tok.t === 'eof') fail(this.sql, 0, 'empty predicate');
    const p = this.or();
    const end = this.toks[this.k];
    if (end.t !== 'eof') fail(this.sql, end.pos, 'expected AND, OR or the end');
    return p;
  }

  private or(): Predicate {
    const args = [this.and()];
    while (this.isWord('or')) {
      this.k++;
      args.push(this.and());
    }
    return args.length === 1 ? args[0] : { op: 'or', args };
  }

  private and(): Predicate {
    const args = [this.not()];
    while (this.isWord('and')) {
      this.k++;
      args.push(this.not());
    }
    return args.length === 1 ? args[0] : { op: 'and', args };
  }

  private not(): Predicate {
    if (this.isWord('not')) {
      this.k++;
      return { op: 'not', arg: this.not() };
    }
    if (this.isSym('(')) {
      this.k++;
      const p = this.or();
      this.expectSym(')', "')'");
      return p;
    }
    return this.comparison();
  }

  private startsLiteral(): boolean {
    const t = this.tok;
    if (t.t === 'str' || t.t === 'num' || (t.t === 'sym' && t.text === '-')) return true;
    if (this.isWord('true') || this.isWord('false') || this.isWord('null')) return true;
    return ['date', 'timestamp', 'timestamp_ntz'].some((w) => this.isWord(w)) && this.toks[this.k + 1].t === 'str';
  }

  private comparison(): Predicate {
    if (this.startsLiteral()) {
      const value = this.literal();
      const op = OPS[this.tok.text];
      if (this.tok.t !== 'sym' || !op) fail(this.sql, this.tok.pos, 'expected a comparison operator');
      this.k++;
      return { op: FLIP[op], column: this.column(), value };
    }
    const column = this.column();
    if (this.isWord('is')) {
      this.k++;
      const negated = this.isWord('not');
      if (negated) this.k++;
      if (!this.isWord('null')) fail(this.sql, this.tok.pos, 'expected NULL');
      this.k++;
      return { op: negated ? 'isNotNull' : 'isNull', column };
    }
    const negated = this.isWord('not');
    if (negated) this.k++;
    if (this.isWord('in')) {
      this.k++;
      this.expectSym('(', "'(' after IN");
      const values = [this.literal()];
      while (this.isSym(',')) {
        this.k++;
        values.push(this.literal());
      }
      this.expectSym(')', "',' or ')'");
      const p: Predicate = { op: 'in', column, values };
      return negated ? { op: 'not', arg: p } : p;
    }
    if (this.isWord('between')) {
      this.k++;
      const lo = this.literal();
      if (!this.isWord('and')) fail(this.sql, this.tok.pos, 'expected AND in BETWEEN');
      this.k++;
      const hi = this.literal();
      const p: Predicate = { op: 'and', args: [{ op: '>=', column, value: lo }, { op: '<=', column, value: hi }] };
      return negated ? { op: 'not', arg: p } : p;
    }
    if (negated) fail(this.sql, this.tok.pos, 'expected IN or BETWEEN after NOT');
    const op = OPS[this.tok.text];
    if (this.tok.t !== 'sym' || !op) fail(this.sql, this.tok.pos, 'expected a comparison operator, IN, BETWEEN or IS');
    this.k++;
    return { op, column, value: this.literal() };
  }

  private column(): string {
    const parts: string[] = [];
    for (;;) {
      const t = this.tok;
      if (t.t === 'qword') parts.push(t.text);
      else if (t.t === 'word' && !RESERVED.has(t.text.toLowerCase())) parts.push(t.text);
      else fail(this.sql, t.pos, t.t === 'word' ? `'${t.text}' is a keyword; quote a column so named as \`${t.text}\`` : 'expected a column name');
      this.k++;
      if (!this.isSym('.')) return parts.join('.');
      this.k++;
    }
  }

  private literal(): Literal {
    const t = this.tok;
    const at = t.pos;
    let value: Literal;
    if (t.t === 'str') {
      value = t.text;
    } else if (t.t === 'num' || (t.t === 'sym' && t.text === '-')) {
      const neg = t.t === 'sym';
      if (neg) this.k++;
      const n = this.tok;
      if (n.t !== 'num') fail(this.sql, n.pos, "expected a number after '-'");
      value = numberLiteral(neg ? `-${n.text}` : n.text);
    } else if (this.isWord('true') || this.isWord('false')) {
      value = this.isWord('true');
    } else if (this.isWord('null')) {
      value = null;
    } else if (t.t === 'word' && this.toks[this.k + 1].t === 'str') {
      const kind = t.text.toLowerCase();
      this.k++;
      value = typedLiteral(kind, this.tok.text, this.sql, at);
    } else {
      fail(this.sql, at, 'expected a literal (string, number, TRUE, FALSE, NULL, DATE or TIMESTAMP)');
    }
    this.k++;
    // Spark joins adjacent string literals ('it''s' is "its"), which is rarely what was meant: refuse it.
    if (typeof value === 'string' && this.tok.t === 'str') {
      fail(this.sql, this.tok.pos, "adjacent string literals; write a quote inside a string as \\'");
    }
    return value;
  }
}

function numberLiteral(text: string): number | bigint {
  const last = text[text.length - 1];
  if (last === 'L' || last === 'l') return BigInt(text.slice(0, -1));
  if (last === 'D' || last === 'd') return Number(text.slice(0, -1));
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number(text);
}

function typedLiteral(kind: string, text: string, sql: string, pos: number): Literal {
  if (kind === 'date') {
    if (parseDateText(text) === undefined) fail(sql, pos, `invalid DATE '${text}'`);
    return text;
  }
  const us = parseTimestampText(text, kind === 'timestamp_ntz');
  if (us === undefined) fail(sql, pos, `invalid ${kind.toUpperCase()} '${text}'`);
  // A millisecond-exact TIMESTAMP is a Date (how formatPredicate writes Dates); finer ones keep their text.
  if (kind === 'timestamp' && us % 1000n === 0n && us >= -8640000000000000000n && us <= 8640000000000000000n) {
    return new Date(Number(us / 1000n));
  }
  return text;
}

/** Parses SQL predicate text. Throws InvalidArgumentError naming the offset of the first problem. */
export function parsePredicate(sql: string): Predicate {
  return new Parser(sql, tokenize(sql)).parse();
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting: text Spark parses to the same predicate (strings escaped with backslashes, bigints as 12L, Dates as
// TIMESTAMP '...Z'), which parsePredicate reads back to an equal AST.

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function formatColumn(c: string): string {
  if (c === '') throw new InvalidArgumentError('predicate: empty column name');
  const plain = c.split('.').every((part) => IDENT.test(part) && !RESERVED.has(part.toLowerCase()));
  return plain ? c : `\`${c.replace(/`/g, '``')}\``;
}

function formatLiteral(v: Literal): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'bigint') {
    if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new InvalidArgumentError(`predicate: ${v} is outside BIGINT's range`);
    return `${v}L`;
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw new InvalidArgumentError('predicate: invalid Date literal');
    return `TIMESTAMP '${formatMicros(BigInt(ms) * 1000n, 'iso-millis')}'`;
  }
  if (!Number.isFinite(v)) throw new InvalidArgumentError(`predicate: ${v} cannot be written as a SQL literal`);
  if (Object.is(v, -0)) return '-0.0';
  const text = String(v);
  // An integral number past 2^53 would read back as a bigint; a fraction mark keeps it a number.
  return Number.isInteger(v) && !Number.isSafeInteger(v) && !/e/.test(text) ? `${text}.0` : text;
}

/** SQL text for `p` (for commitInfo.operationParameters.predicate); round-trips through parsePredicate. */
export function formatPredicate(p: Predicate): string {
  const sub = (q: Predicate): string => (q.op === 'and' || q.op === 'or' ? `(${formatPredicate(q)})` : formatPredicate(q));
  switch (p.op) {
    case 'and':
    case 'or':
      if (p.args.length === 0) throw new InvalidArgumentError(`predicate: '${p.op}' with no arguments`);
      return p.args.map(sub).join(p.op === 'and' ? ' AND ' : ' OR ');
    case 'not':
      return `NOT (${formatPredicate(p.arg)})`;
    case 'in':
      if (p.values.length === 0) throw new InvalidArgumentError(`predicate: IN with no values on '${p.column}'`);
      return `${formatColumn(p.column)} IN (${p.values.map(formatLiteral).join(', ')})`;
    case 'isNull':
      return `${formatColumn(p.column)} IS NULL`;
    case 'isNotNull':
      return `${formatColumn(p.column)} IS NOT NULL`;
    default:
      return `${formatColumn(p.column)} ${p.op} ${formatLiteral(p.value)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Binding: columns resolved against the schema, literals converted to the column's typed form (PartitionLiteral
// shapes: long bigint, date days, timestamp µs bigint, decimal unscaled bigint; float literals rounded to float32).

type Typed = string | number | bigint | boolean;
interface Col {
  /** The column as the predicate names it, for messages. */
  name: string;
  /** Schema spelling, outermost first. */
  path: string[];
  type: DataType;
}
type Node =
  | { k: 'and' | 'or'; args: Node[] }
  | { k: 'not'; arg: Node }
  | { k: 'cmp'; op: CompareOp; col: Col; value: Typed }
  | { k: 'in'; col: Col; values: Typed[]; hasNull: boolean; set: Set<unknown> | null }
  | { k: 'null'; col: Col; negate: boolean }
  | { k: 'const'; out: Outcome };

/** A predicate checked against a schema, ready to evaluate. Made only by bindPredicate. */
export interface BoundPredicate {
  readonly kind: 'bound-predicate';
  readonly predicate: Predicate;
  /** The top-level columns it reads, spelled as in the schema. */
  readonly columns: readonly string[];
}

const nodes = new WeakMap<BoundPredicate, Node>();

function resolveColumn(name: string, schema: StructType): Col {
  const find = (fields: StructType['fields'], n: string) =>
    fields.find((f) => f.name === n) ?? fields.find((f) => f.name.toLowerCase() === n.toLowerCase());
  const whole = find(schema.fields, name);
  if (whole) return { name, path: [whole.name], type: whole.type };
  const path: string[] = [];
  let fields: StructType['fields'] | undefined = schema.fields;
  let type: DataType | undefined;
  for (const part of name.split('.')) {
    const f: StructField | undefined = fields ? find(fields, part) : undefined;
    if (!f) {
      const known = schema.fields.map((x) => x.name).join(', ');
      throw new InvalidArgumentError(`predicate: unknown column '${name}' (the table has: ${known})`);
    }
    path.push(f.name);
    type = f.type;
    fields = typeof f.type !== 'string' && f.type.type === 'struct' ? f.type.fields : undefined;
  }
  return { name, path, type: type as DataType };
}

const INT_LIMITS: Record<string, [bigint, bigint]> = {
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  short: [-32768n, 32767n],
  byte: [-128n, 127n],
};

function toTyped(v: Literal, type: PrimitiveType): Typed | undefined {
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : undefined;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      return typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : undefined;
    case 'long':
    case 'integer':
    case 'short':
    case 'byte': {
      let big: bigint | undefined;
      if (typeof v === 'bigint') big = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
      else if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) big = BigInt(v.trim());
      const [lo, hi] = INT_LIMITS[type];
      if (big === undefined || big < lo || big > hi) return undefined;
      return type === 'long' ? big : Number(big);
    }
    case 'float':
    case 'double': {
      const n =
        typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (Number.isNaN(n) && !(typeof v === 'number' || (typeof v === 'string' && v.trim() === 'NaN'))) return undefined;
      return type === 'float' ? Math.fround(n) : n;
    }
    case 'date':
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : Math.floor(v.getTime() / 86_400_000);
      if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
      return typeof v === 'string' ? parseDateText(v) : undefined;
    case 'timestamp':
    case 'timestamp_ntz':
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : BigInt(v.getTime()) * 1000n;
      if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.round(v * 1000)) : undefined; // ms
      if (typeof v === 'bigint') return v; // µs
      return typeof v === 'string' ? parseTimestampText(v, type === 'timestamp_ntz') : undefined;
    case 'binary':
      return undefined;
  }
  const dec = decimalScale(type);
  if (!dec) return undefined;
  if (typeof v === 'bigint') return v * 10n ** BigInt(dec.scale);
  if (typeof v === 'number' || typeof v === 'string') return parseDecimalText(String(v), dec.precision, dec.scale);
  return undefined;
}

function shown(v: Literal): string {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  return typeof v === 'string' ? `'${v}'` : typeof v === 'bigint' ? `${v}L` : String(v);
}

function comparable(col: Col): PrimitiveType {
  if (typeof col.type !== 'string' || col.type === 'binary') {
    const t = typeof col.type === 'string' ? col.type : col.type.type;
    throw new InvalidArgumentError(`predicate: column '${col.name}' has type ${t}, which cannot be compared`);
  }
  return col.type;
}

function convert(v: Literal, col: Col): Typed {
  const type = comparable(col);
  const t = toTyped(v, type);
  if (t === undefined) {
    throw new InvalidArgumentError(`predicate: literal ${shown(v)} cannot be compared with column '${col.name}' (${type})`);
  }
  return t;
}

/**
 * Resolves columns against `schema` (case-insensitively; `a.b` is a top-level column so named, else field b of
 * struct a) and converts literals to the column types. Throws InvalidArgumentError naming an unknown column or a
 * literal that does not fit its column (non-integral numbers for integer columns included).
 */
export function bindPredicate(p: Predicate, schema: StructType): BoundPredicate {
  const columns = new Set<string>();
  const bind = (q: Predicate): Node => {
    switch (q.op) {
      case 'and':
      case 'or':
        return { k: q.op, args: q.args.map(bind) };
      case 'not':
        return { k: 'not', arg: bind(q.arg) };
    }
    const col = resolveColumn(q.column, schema);
    columns.add(col.path[0]);
    switch (q.op) {
      case 'isNull':
      case 'isNotNull':
        return { k: 'null', col, negate: q.op === 'isNotNull' };
      case 'in': {
        comparable(col);
        const values = q.values.filter((v) => v !== null).map((v) => convert(v, col));
        // A hash set makes IN over a long list (e.g. every sensor of a window) cost O(1) per row, not O(list).
        const primitive = values.every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') && !values.some((v) => Number.isNaN(v));
        return { k: 'in', col, values, hasNull: values.length < q.values.length, set: primitive ? new Set(values) : null };
      }
      default:
        comparable(col);
        // Comparing with NULL is NULL whatever the row holds.
        return q.value === null ? { k: 'const', out: N } : { k: 'cmp', op: q.op, col, value: convert(q.value, col) };
    }
  };
  const node = bind(p);
  const bound: BoundPredicate = Object.freeze({ kind: 'bound-predicate', predicate: p, columns: [...columns] });
  nodes.set(bound, node);
  return bound;
}

function nodeOf(p: BoundPredicate): Node {
  const n = nodes.get(p);
  if (!n) throw new InvalidArgumentError('predicate: not made by bindPredicate');
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation in SQL's three-valued logic. Partition and stats evaluation work on *sets* of outcomes a row of the
// file might give: a leaf yields every outcome some row could have, and/or/not combine the sets pairwise. That over-
// approximates (rows are not correlated across leaves) and so only ever keeps files, never drops a matching one.

type Outcome = 1 | 2 | 4; // TRUE, FALSE, NULL
const T = 1;
const F = 2;
const N = 4;
const ALL = T | F | N;
const OUTCOMES: Outcome[] = [T, F, N];

function and2(a: Outcome, b: Outcome): Outcome {
  return a === F || b === F ? F : a === N || b === N ? N : T;
}
function or2(a: Outcome, b: Outcome): Outcome {
  return a === T || b === T ? T : a === N || b === N ? N : F;
}
const not1 = (a: Outcome): Outcome => (a === T ? F : a === F ? T : N);

function combine(sets: number[], op: (a: Outcome, b: Outcome) => Outcome): number {
  let acc = sets[0] ?? (op === and2 ? T : F);
  for (const s of sets.slice(1)) {
    let next = 0;
    for (const a of OUTCOMES) if (acc & a) for (const b of OUTCOMES) if (s & b) next |= op(a, b);
    acc = next;
  }
  return acc;
}

function evalSets(n: Node, leaf: (n: Extract<Node, { col: Col }>) => number): number {
  switch (n.k) {
    case 'and':
      return combine(n.args.map((a) => evalSets(a, leaf)), and2);
    case 'or':
      return combine(n.args.map((a) => evalSets(a, leaf)), or2);
    case 'not': {
      const s = evalSets(n.arg, leaf);
      return OUTCOMES.reduce((acc, o) => (s & o ? acc | not1(o) : acc), 0);
    }
    case 'const':
      return n.out;
    default:
      return leaf(n);
  }
}

/** Compares typed values: negative, zero, positive, or NaN when a float NaN is involved. */
function compare(a: Typed, b: Typed): number {
  if (typeof a === 'string') return compareUtf8(a, b as string);
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean') return Number(a) - Number(b);
  const [x, y] = [a as number | bigint, b as number | bigint];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A comparison's outcome for a non-null row value. NaN compares false and != true (IEEE; Spark differs). */
function cmpOutcome(op: CompareOp, c: number): Outcome {
  if (Number.isNaN(c)) return op === '!=' ? T : F;
  const r = op === '=' ? c === 0 : op === '!=' ? c !== 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
  return r ? T : F;
}

/** The outcome of a leaf for one row value (null = SQL NULL). */
function leafOutcome(n: Extract<Node, { col: Col }>, v: PartitionLiteral | undefined): Outcome {
  const isNull = v === null || v === undefined;
  if (n.k === 'null') return isNull !== n.negate ? T : F;
  if (isNull) return N;
  if (n.k === 'cmp') return cmpOutcome(n.op, compare(v, n.value));
  if (n.set ? n.set.has(v) : n.values.some((x) => compare(v, x) === 0)) return T;
  return n.hasNull ? N : F;
}

function lookup<V>(rec: Record<string, V>, key: string): V | undefined {
  if (key in rec) return rec[key];
  const lower = key.toLowerCase();
  const hit = Object.keys(rec).find((k) => k.toLowerCase() === lower);
  return hit === undefined ? undefined : rec[hit];
}

function partitionLeaf(n: Extract<Node, { col: Col }>, pv: Record<string, string | null>): number | undefined {
  if (n.col.path.length !== 1) return undefined;
  const raw = lookup(pv, n.col.path[0]);
  if (raw === undefined) return undefined;
  const type = typeof n.col.type === 'string' ? n.col.type : 'string';
  return leafOutcome(n, parsePartitionValue(raw, type));
}

const verdict = (s: number): boolean | null => (s === T ? true : s & T ? null : false);

/**
 * Whether a file with these partition values matches: true when every row does, false when none can, null when
 * it depends on data columns (or SQL NULL could go either way once data columns are known).
 */
export function evalOnPartitionValues(p: BoundPredicate, partitionValues: Record<string, string | null>): boolean | null {
  return verdict(evalSets(nodeOf(p), (n) => partitionLeaf(n, partitionValues) ?? ALL));
}

// ---- stats ----

const TIEBREAKS = ['\u007f', '\u{10ffff}'];

/** A stats bound as a typed value; undefined when absent or not usable at full precision. */
function statBound(raw: unknown, type: PrimitiveType, isMax: boolean): Typed | undefined {
  if (raw === null || raw === undefined) return undefined;
  switch (type) {
    case 'string': {
      if (typeof raw !== 'string') return undefined;
      // Spark's truncated max ends in a tie-breaker; a writer that cut the max to a bare prefix left values above
      // it, so a prefix-long max without one is widened to cover every continuation.
      if (isMax && raw.length >= STRING_PREFIX_LENGTH && !TIEBREAKS.some((t) => raw.endsWith(t))) return `${raw}\u{10ffff}`;
      return raw;
    }
    case 'long':
      return typeof raw === 'number' && Number.isSafeInteger(raw) ? BigInt(raw) : undefined;
    case 'integer':
    case 'short':
    case 'byte':
      return typeof raw === 'number' && Number.isInteger(raw) ? raw : undefined;
    case 'float':
    case 'double':
      return typeof raw === 'number' ? raw : undefined;
    case 'boolean':
      return typeof raw === 'boolean' ? raw : undefined;
    case 'date':
      return typeof raw === 'string' ? parseDateText(raw) : undefined;
    case 'timestamp':
    case 'timestamp_ntz': {
      const us = typeof raw === 'string' ? parseTimestampText(raw, type === 'timestamp_ntz') : undefined;
      // Stats hold milliseconds, truncated (Spark) or rounded (us): widen by just under a millisecond either way.
      return us === undefined ? undefined : isMax ? us + 999n : us - 999n;
    }
    case 'binary':
      return undefined;
  }
  const dec = decimalScale(type);
  // JSON numbers are doubles: exact for decimals of up to 15 digits, unknown beyond.
  if (!dec || dec.precision > 15 || typeof raw !== 'number' || Math.abs(raw) >= 1e21) return undefined;
  return parseDecimalText(raw.toFixed(dec.scale), dec.precision, dec.scale);
}

function statAt(rec: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = rec;
  for (const part of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = lookup(cur as Record<string, unknown>, part);
  }
  return cur;
}

function statsLeaf(n: Extract<Node, { col: Col }>, stats: FileStats): number {
  const rows = stats.numRecords;
  const nc = statAt(stats.nullCount, n.col.path);
  const nulls = typeof nc === 'number' ? nc : undefined;
  const someNull = nulls === undefined || nulls > 0;
  const someValue = nulls === undefined || nulls < rows;
  if (n.k === 'null') return (someNull ? (n.negate ? F : T) : 0) | (someValue ? (n.negate ? T : F) : 0);
  let out = someNull ? N : 0;
  if (!someValue) return out;
  const type = n.col.type as PrimitiveType;
  const lo = statBound(statAt(stats.minValues, n.col.path), type, false);
  const hi = statBound(statAt(stats.maxValues, n.col.path), type, true);
  // min == max pins every value only when the bounds are exact (not widened timestamps or prefix strings).
  const exact = type !== 'timestamp' && type !== 'timestamp_ntz' && !(type === 'string' && (hi as string)?.length >= STRING_PREFIX_LENGTH);
  const pinned = exact && lo !== undefined && hi !== undefined && compare(lo, hi) === 0 ? lo : undefined;
  const isFloat = type === 'float' || type === 'double';
  // Stats leave NaN out, so a float file may hold NaN rows outside [min, max]: they compare false (!= true).
  const nanOutcome = (op: CompareOp): number => (isFloat ? (op === '!=' ? T : F) : 0);
  const mayEqual = (v: Typed): boolean =>
    (lo === undefined || !(compare(lo, v) > 0)) && (hi === undefined || !(compare(hi, v) < 0));
  const possible = (op: CompareOp, v: Typed): number => {
    if (typeof v === 'number' && Number.isNaN(v)) return op === '!=' ? T : F;
    const loCmp = lo === undefined ? undefined : compare(lo, v);
    const hiCmp = hi === undefined ? undefined : compare(hi, v);
    let s = nanOutcome(op);
    const eqAll = pinned !== undefined && compare(pinned, v) === 0;
    switch (op) {
      case '=':
        s |= (mayEqual(v) ? T : 0) | (eqAll ? 0 : F);
        break;
      case '!=':
        s |= (eqAll ? 0 : T) | (mayEqual(v) ? F : 0);
        break;
      case '<':
        s |= (loCmp === undefined || loCmp < 0 ? T : 0) | (hiCmp === undefined || hiCmp >= 0 ? F : 0);
        break;
      case '<=':
        s |= (loCmp === undefined || loCmp <= 0 ? T : 0) | (hiCmp === undefined || hiCmp > 0 ? F : 0);
        break;
      case '>':
        s |= (hiCmp === undefined || hiCmp > 0 ? T : 0) | (loCmp === undefined || loCmp <= 0 ? F : 0);
        break;
      case '>=':
        s |= (hiCmp === undefined || hiCmp >= 0 ? T : 0) | (loCmp === undefined || loCmp < 0 ? F : 0);
        break;
    }
    return s;
  };
  if (n.k === 'cmp') return out | possible(n.op, n.value);
  // IN: true if some value may be present; otherwise false, or NULL when the list holds a NULL.
  const miss = n.hasNull ? N : F;
  if (n.values.some((v) => possible('=', v) & T)) out |= T;
  const allHit = pinned !== undefined && n.values.some((v) => compare(pinned, v) === 0);
  if (!allHit || isFloat) out |= miss;
  return out;
}

/**
 * Whether a file may hold a matching row, from its partition values and add.stats (min/max/nullCount). false only
 * when provably no row matches: missing or unreadable stats keep the file, timestamp bounds are widened by a
 * millisecond's worth for their ms precision, and a file of zero records matches nothing.
 */
export function mayMatchFile(p: BoundPredicate, file: { partitionValues: Record<string, string | null>; stats?: string | null }): boolean {
  const stats = parseStats(file.stats);
  if (stats && stats.numRecords === 0) return false;
  const set = evalSets(nodeOf(p), (n) => partitionLeaf(n, file.partitionValues) ?? (stats ? statsLeaf(n, stats) : ALL));
  return (set & T) !== 0;
}

// ---- rows ----

function findIndex(names: string[], name: string): number {
  const exact = names.indexOf(name);
  return exact >= 0 ? exact : names.findIndex((x) => x.toLowerCase() === name.toLowerCase());
}

/** Row values of a column: typed values (null for SQL NULL), or a constant from `constants`, or all null. */
function rowValues(table: arrow.Table, col: Col, constants: Record<string, string | null> | undefined): (i: number) => PartitionLiteral {
  const type: PrimitiveType = typeof col.type === 'string' ? col.type : 'binary';
  const top = findIndex(table.schema.fields.map((f) => f.name), col.path[0]);
  if (top < 0) {
    const raw = col.path.length === 1 && constants ? lookup(constants, col.path[0]) : undefined;
    // A column missing from the file holds nulls (it was added after the file was written).
    const v = raw === undefined ? null : parsePartitionValue(raw, type);
    return () => v;
  }
  const values: PartitionLiteral[] = new Array(table.numRows);
  let base = 0;
  for (const chunk of table.getChildAt(top)?.data ?? []) {
    let data: arrow.Data | undefined = chunk;
    const parents: arrow.Data[] = [];
    for (const part of col.path.slice(1)) {
      const k: number = findIndex((data.type as arrow.DataType).children.map((c) => c.name), part);
      parents.push(data);
      data = k < 0 ? undefined : data.children[k];
      if (!data) break;
    }
    const read = data && typeof col.type === 'string' ? cellReader(data, type) : undefined;
    for (let i = 0; i < chunk.length; i++) {
      let v: PartitionLiteral = null;
      if (data && !parents.some((p) => p.nullCount !== 0 && !p.getValid(i))) {
        v = read ? read(i) : data.nullCount !== 0 && !data.getValid(i) ? null : true; // complex: only null-ness
      }
      values[base + i] = v;
    }
    base += chunk.length;
  }
  return (i) => values[i];
}

/** and2 / or2 of outcomes a, b (each 1, 2 or 4) at [a << 3 | b]: one lookup a row. */
const AND_TABLE = new Uint8Array(64);
const OR_TABLE = new Uint8Array(64);
for (const a of OUTCOMES) {
  for (const b of OUTCOMES) {
    AND_TABLE[(a << 3) | b] = and2(a, b);
    OR_TABLE[(a << 3) | b] = or2(a, b);
  }
}

/** A top-level leaf's one outcome when its column is not in `table`: a partition value, or null (a column the file lacks). */
function constantLeaf(n: Extract<Node, { col: Col }>, table: arrow.Table, constants: Record<string, string | null> | undefined): Outcome | undefined {
  if (n.col.path.length !== 1 || typeof n.col.type !== 'string') return undefined;
  if (findIndex(table.schema.fields.map((f) => f.name), n.col.path[0]) >= 0) return undefined;
  const raw = constants ? lookup(constants, n.col.path[0]) : undefined;
  return leafOutcome(n, raw === undefined ? null : parsePartitionValue(raw, n.col.type));
}

/**
 * Fills `out` with a top-level leaf's outcomes when every chunk of its column has a fast shape (see row-outcomes.ts);
 * false, with `out` untouched in meaning, when the general reader must do it.
 */
function fastLeaf(n: Extract<Node, { col: Col }>, table: arrow.Table, out: Uint8Array): boolean {
  if (n.col.path.length !== 1 || typeof n.col.type !== 'string') return false;
  const top = findIndex(table.schema.fields.map((f) => f.name), n.col.path[0]);
  if (top < 0) return false;
  const chunks = table.getChildAt(top)!.data;
  const type = n.col.type;
  const int64 = n.k === 'cmp' && typeof n.value === 'bigint' && (type === 'long' || type === 'timestamp' || type === 'timestamp_ntz');
  if (!chunks.every((d) => (int64 && isInt64Like(d.type)) || isDictionaryChunk(d))) return false;
  const nullOutcome = leafOutcome(n, null);
  let base = 0;
  for (const d of chunks) {
    if (int64 && n.k === 'cmp' && isInt64Like(d.type)) {
      int64CmpOutcomes(d, n.op, n.value as bigint, { t: T, f: F, null: nullOutcome }, out, base);
    } else {
      // One outcome per dictionary word, read as the general reader reads a value.
      const words: number[] = [];
      for (const w of d.dictionary!.data) {
        const read = cellReader(w, type);
        for (let k = 0; k < w.length; k++) words.push(leafOutcome(n, read(k)));
      }
      dictionaryOutcomes(d, (k) => words[k], nullOutcome, out, base);
    }
    base += d.length;
  }
  return true;
}

/**
 * 1 for each row of `table` that matches, else 0 (SQL semantics: NULL does not match). `constants` gives the
 * partition values of the file the rows came from, for partition columns the Parquet file does not hold; `fileStats`
 * its add.stats (keyed by the table's column names), to skip leaves they decide.
 */
export function evalOnRows(p: BoundPredicate, table: arrow.Table, constants?: Record<string, string | null>, fileStats?: string | null): Uint8Array {
  const rows = table.numRows;
  // A leaf the file's stats decide (every row TRUE, or every row FALSE) is not read row by row.
  const stats = fileStats ? parseStats(fileStats) : null;
  // A node's outcome per row, or one outcome (a number) when every row has it: such nodes cost no pass over rows.
  const run = (n: Node): Uint8Array | Outcome => {
    switch (n.k) {
      case 'const':
        return n.out;
      case 'not': {
        const a = run(n.arg);
        if (typeof a === 'number') return not1(a);
        const out = new Uint8Array(rows);
        for (let i = 0; i < rows; i++) out[i] = not1(a[i] as Outcome);
        return out;
      }
      case 'and':
      case 'or': {
        const op = n.k === 'and' ? and2 : or2;
        // FALSE decides an AND and TRUE an OR whatever the other rows say; the other constants fold in.
        const decisive = n.k === 'and' ? F : T;
        let acc: Outcome = n.k === 'and' ? T : F;
        const arrays: Uint8Array[] = [];
        for (const arg of n.args) {
          const a = run(arg);
          if (typeof a === 'number') {
            acc = op(acc, a);
            if (acc === decisive) return acc;
          } else arrays.push(a);
        }
        if (arrays.length === 0) return acc;
        const out = arrays[0];
        const lookupTable = n.k === 'and' ? AND_TABLE : OR_TABLE;
        if (acc !== (n.k === 'and' ? T : F)) for (let i = 0; i < rows; i++) out[i] = lookupTable[(out[i] << 3) | acc];
        for (const a of arrays.slice(1)) for (let i = 0; i < rows; i++) out[i] = lookupTable[(out[i] << 3) | a[i]];
        return out;
      }
      default: {
        const decided = stats ? statsLeaf(n, stats) : ALL;
        if (decided === T || decided === F) return decided;
        const constant = constantLeaf(n, table, constants);
        if (constant !== undefined) return constant;
        const out = new Uint8Array(rows);
        if (fastLeaf(n, table, out)) return out;
        const get = rowValues(table, n.col, constants);
        for (let i = 0; i < rows; i++) out[i] = leafOutcome(n, get(i));
        return out;
      }
    }
  };
  const result = run(nodeOf(p));
  if (typeof result === 'number') return new Uint8Array(rows).fill(result === T ? 1 : 0);
  for (let i = 0; i < rows; i++) result[i] = result[i] === T ? 1 : 0;
  return result;
}
