// Seeded pseudo-random numbers where the same seed must give the same stream on every machine
// (Math.random cannot): the K-Means inits of HSF, whose CUDA port (native/node-tensorrt/src/hsf)
// reproduces the exact stream, and the synthetic production line. Not for cryptography.

/** Mulberry32: a 32-bit PRNG made only of uint32 operations. */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  reset(seed: number): this {
    this.state = seed >>> 0;
    return this;
  }

  /** Next value in [0, 1), a multiple of 2^-32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** A function yielding Mulberry32's uniform numbers in [0, 1), fully determined by seed. */
export function mulberry32(seed: number): () => number {
  const rng = new Mulberry32(seed);
  return () => rng.next();
}

/** The seed of stream number r: spread with the golden-ratio constant so streams do not overlap. */
export function initSeed(seed: number, r: number): number {
  return (seed + Math.imul(r, 0x9e3779b9)) >>> 0;
}

/** 32-bit integer hash of several integers (for per-part seeds). */
export function hashInts(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h ^= v | 0;
    h = Math.imul(h, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}
