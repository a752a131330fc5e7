// Failed sign-ins per client address: after `maxFailures` within `windowMs` the address must wait
// until the window has passed, so a password cannot be guessed at the speed of scrypt. Bounded:
// at most `maxClients` addresses are remembered (the oldest entry goes first).

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; firstAt: number }>();

  constructor(
    private readonly o = { maxFailures: 10, windowMs: 10 * 60_000, maxClients: 1000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds the address must still wait, or 0 when it may try. */
  waitS(address: string): number {
    const f = this.failures.get(address);
    if (!f) return 0;
    const left = f.firstAt + this.o.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return 0;
    }
    return f.count >= this.o.maxFailures ? Math.ceil(left / 1000) : 0;
  }

  failed(address: string): void {
    const at = this.now();
    const f = this.failures.get(address);
    if (f && at - f.firstAt < this.o.windowMs) {
      f.count++;
      return;
    }
    this.failures.delete(address);
    while (this.failures.size >= this.o.maxClients)
      this.failures.delete(this.failures.keys().next().value as string);
    this.failures.set(address, { count: 1, firstAt: at });
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
