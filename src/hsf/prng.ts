// Mulberry32: a 32-bit PRNG made only of uint32 operations, so the CUDA port
// (native/node-tensorrt/src/hsf) reproduces the exact same stream. Not for cryptography.
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

/** The seed of init number r: spread with the golden-ratio constant so inits do not overlap. */
export function initSeed(seed: number, r: number): number {
  return (seed + Math.imul(r, 0x9e3779b9)) >>> 0;
}
