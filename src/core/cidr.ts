// IPv4 CIDR blocks: parsing, overlap, and carving a node group's subnets out of the fleet's pool.
import type { ParseResult } from './input.js';

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

const SIZE = (prefix: number) => 2 ** (32 - prefix);

/** "10.0.0.0/16" → its block; undefined unless four octets, a prefix 0..32 and no host bits set. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((a, o) => a * 256 + o, 0);
  if (base % SIZE(prefix) !== 0) return undefined;
  return { base, prefix };
}

export function formatCidr({ base, prefix }: Cidr): string {
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + SIZE(b.prefix) && b.base < a.base + SIZE(a.prefix);
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return outer.prefix <= inner.prefix && inner.base >= outer.base && inner.base + SIZE(inner.prefix) <= outer.base + SIZE(outer.prefix);
}

/** The address of `host` (0 = the network address) inside the block, dotted. */
export function hostAddress(block: Cidr, host: number): string {
  return formatCidr({ base: block.base + host, prefix: 32 }).replace(/\/32$/, '');
}

/**
 * `count` blocks of /`prefix` from the pool, lowest first, none overlapping a block in use (the VCN's other
 * subnets, whoever made them) or each other. Refuses, allocating nothing, when the pool has too few free.
 */
export function allocateCidrs(pool: string[], used: string[], prefix: number, count: number): ParseResult<string[]> {
  const blocks = pool.map((p) => [p, parseCidr(p)] as const);
  const bad = blocks.find(([, b]) => !b);
  if (bad) return { ok: false, message: `subnetPool: ${bad[0]} is not an IPv4 CIDR block such as 10.0.128.0/17` };
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 30) return { ok: false, message: `prefixLength: ${prefix} is not between 1 and 30` };
  const taken: Cidr[] = [];
  for (const u of used) {
    const c = parseCidr(u);
    if (!c) return { ok: false, message: `a subnet in use has CIDR ${u}, which is not an IPv4 CIDR block` };
    taken.push(c);
  }
  const out: Cidr[] = [];
  for (const [, block] of blocks) {
    if (block!.prefix > prefix) continue; // smaller than one subnet
    for (let base = block!.base; base < block!.base + SIZE(block!.prefix) && out.length < count; base += SIZE(prefix)) {
      const candidate = { base, prefix };
      if (!taken.some((t) => overlaps(t, candidate))) {
        out.push(candidate);
        taken.push(candidate);
      }
    }
  }
  if (out.length < count) {
    return {
      ok: false,
      message: `subnetPool ${pool.join(', ')} has room for ${out.length} more /${prefix} subnet${out.length === 1 ? '' : 's'}, ${count} needed (${used.length} subnet${used.length === 1 ? '' : 's'} of the VCN in use): widen the pool or use a longer prefixLength`,
    };
  }
  return { ok: true, value: out.map(formatCidr) };
}
