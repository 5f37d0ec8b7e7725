// Text formats of the Cassandra 4.1 tools: FileUtils.stringifyFileSize, nodetool's TableBuilder,
// cqlsh's result tables.

const KiB = 1024;
const MiB = KiB * 1024;
const GiB = MiB * 1024;
const TiB = GiB * 1024;

/** java.text.DecimalFormat("#.##"): at most two decimals, no trailing zeros, no grouping. */
function df(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** org.apache.cassandra.io.util.FileUtils.stringifyFileSize, e.g. "215.37 GiB", "0 bytes". */
export function stringifyFileSize(value: number): string {
  if (value >= TiB) return `${df(value / TiB)} TiB`;
  if (value >= GiB) return `${df(value / GiB)} GiB`;
  if (value >= MiB) return `${df(value / MiB)} MiB`;
  if (value >= KiB) return `${df(value / KiB)} KiB`;
  return `${df(value)} bytes`;
}

/** nodetool's TableBuilder: left-aligned columns padded to the widest cell, joined by two spaces (the last one padded too). */
export function tableBuilder(rows: string[][], delimiter = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => widths.map((w, i) => (r[i] ?? '').padEnd(w)).join(delimiter) + '\n').join('');
}

/** java.text.DecimalFormat("##0.0%"). */
export function percent(f: number): string {
  return `${(Math.round(f * 1000) / 10).toFixed(1)}%`;
}

/** cqlsh's formatting of a CQL value. */
export function cqlValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${quote(k)}: ${typeof x === 'string' ? quote(x) : cqlValue(x)}`).join(', ')}}`;
  }
  return String(v);
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** cqlsh (non-tty, -e) result: blank line, header, separator, right-aligned rows, blank line, "(N rows)". */
export function cqlshTable(columns: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map(cqlValue));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const out: string[] = [''];
  out.push(' ' + columns.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd());
  out.push('-' + widths.map((w) => '-'.repeat(w)).join('-+-') + '-');
  for (const r of cells) out.push(' ' + r.map((c, i) => c.padStart(widths[i]!)).join(' | '));
  out.push('');
  out.push(`(${rows.length} rows)`);
  return out.join('\n') + '\n';
}
