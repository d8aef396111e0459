// Writing to stdout for CLI commands: plain lines and aligned text tables.

export function out(line: string): void {
  process.stdout.write(line + '\n');
}

export function printTable(rows: Record<string, string>[], indent = ''): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]): string => indent + cells.map((c, i) => c.padEnd(width[i])).join('  ').trimEnd();
  out(line(cols));
  out(line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) out(line(cols.map((c) => r[c] ?? '')));
}
