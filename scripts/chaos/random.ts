// A seeded random source, so that `--seed` replays a chaos run's schedule (mulberry32: small, fast and
// good enough for picking moments; node:crypto has no seeded generator and a dependency is not worth it).
import { createHash, randomInt } from 'node:crypto';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
}

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, between: (min, max) => min + next() * (max - min) };
}

/** One run's own stream, from the suite's seed and the run's name: `--only` reproduces a run without the others. */
export function randomFor(seed: number, run: string): Random {
  return seededRandom(createHash('sha256').update(`${seed}/${run}`).digest().readUInt32LE(0));
}

export const newSeed = (): number => randomInt(1, 2 ** 31 - 1);
