// faults.garbledReadRate: `nodetool status` / `netstats` output cut short or mangled, as a pod under
// memory pressure, a dropped exec stream or a half-written terminal buffer returns it. Never invents
// content: every garbled output is a prefix, or a subset of the rows, of the true one.

export type GarbledRead = 'headerOnly' | 'rowsDropped' | 'cutMidLine' | 'empty';

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;

/** Lines that are rows of the `nodetool status` table (they start with the two-letter state, e.g. UN). */
const isStatusRow = (line: string) => /^[UD][NLJM]\s/.test(line);

export function garble(command: 'status' | 'netstats', stdout: string, random: () => number = Math.random): { stdout: string; how: GarbledRead } {
  const lines = stdout.split('\n');
  const how = pick<GarbledRead>(command === 'status' ? ['headerOnly', 'rowsDropped', 'cutMidLine'] : ['empty', 'headerOnly', 'cutMidLine'], random);
  switch (how) {
    case 'empty':
      return { stdout: '', how };
    case 'headerOnly': {
      // status: the table's header without any member; netstats: the "Mode:" line alone, no streams.
      const keep = command === 'status' ? lines.findIndex(isStatusRow) : 1;
      return { stdout: lines.slice(0, keep < 0 ? lines.length : keep).join('\n') + '\n', how };
    }
    case 'rowsDropped': {
      const rows = lines.filter(isStatusRow);
      const drop = new Set(rows.filter(() => random() < 0.5));
      if (drop.size === 0 && rows.length > 0) drop.add(pick(rows, random));
      return { stdout: lines.filter((l) => !drop.has(l)).join('\n'), how };
    }
    case 'cutMidLine':
      return { stdout: stdout.slice(0, Math.floor(random() * stdout.length)), how };
  }
}
