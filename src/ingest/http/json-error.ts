// Where a JSON text stops being valid, for a 400 that names the spot: V8's JSON.parse gives a position for some errors
// ("... at position 12") but not for others ("Unexpected token 'x', ... is not valid JSON"). Only runs on failure.

export interface JsonErrorPlace {
  /** Byte offset in the UTF-8 body. */
  offset: number;
  line: number;
  column: number;
}

/** The place of the first syntax error in `text` (the body decoded as UTF-8), or null if it is valid JSON. */
export function jsonErrorPlace(text: string): JsonErrorPlace | null {
  const pos = firstInvalid(text);
  if (pos < 0) return null;
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset: Buffer.byteLength(text.slice(0, pos), 'utf8'), line, column: pos - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** Index of the first character that makes `text` invalid JSON (text.length when it ends too soon), or -1. */
function firstInvalid(text: string): number {
  const n = text.length;
  const stack: ('[' | '{')[] = [];
  let i = 0;
  const skipWs = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
      i++;
    }
  };
  /** Moves past a string starting at i; returns false at the offending character. */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = text[i];
      if (c === '"') {
        i++;
        return true;
      }
      if (c.charCodeAt(0) < 0x20) return false;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return false;
          }
          i += 6;
        } else if (e !== undefined && ESCAPES.has(e)) i += 2;
        else {
          i++;
          return false;
        }
      } else i++;
    }
    return false;
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (;;) {
    // A value is expected here.
    skipWs();
    if (i >= n) return n;
    const c = text[i];
    if (c === '[' || c === '{') {
      stack.push(c);
      i++;
      skipWs();
      if (text[i] === (c === '[' ? ']' : '}')) {
        stack.pop();
        i++;
      } else if (c === '{') {
        if (!key()) return i;
        continue;
      } else continue;
    } else if (c === '"') {
      if (!string()) return i;
    } else if (text.startsWith('true', i) || text.startsWith('null', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text) || NUMBER.lastIndex === i) return i;
      i = NUMBER.lastIndex;
    }
    // After a value: close containers or move to the next element.
    for (;;) {
      skipWs();
      if (stack.length === 0) return i < n ? i : -1;
      if (i >= n) return n;
      const top = stack[stack.length - 1];
      const ch = text[i];
      if (ch === (top === '[' ? ']' : '}')) {
        stack.pop();
        i++;
        continue;
      }
      if (ch !== ',') return i;
      i++;
      if (top === '{' && !key()) return i;
      break;
    }
  }

  /** A key and its colon, leaving i at the value. */
  function key(): boolean {
    skipWs();
    if (text[i] !== '"' || !string()) return false;
    skipWs();
    if (text[i] !== ':') return false;
    i++;
    return true;
  }
}
