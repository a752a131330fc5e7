// Progress of a long scoring run on stderr (stdout stays for the results): at most one line every
// few seconds, and one at the end.
export class Progress {
  private done = 0;
  private lastMs = 0;
  private readonly t0 = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
    private readonly everyMs = 3000,
  ) {}

  add(n = 1): void {
    this.done += n;
    const now = performance.now();
    if (now - this.lastMs < this.everyMs && this.done < this.total) return;
    this.lastMs = now;
    const s = (now - this.t0) / 1000;
    const rate = this.done / Math.max(s, 1e-9);
    const left = (this.total - this.done) / Math.max(rate, 1e-9);
    const pct = Math.floor((100 * this.done) / this.total);
    this.write(
      `${this.label}: ${this.done}/${this.total} images (${pct}%), ${rate.toFixed(1)} images/s` +
        (this.done < this.total ? `, about ${formatDuration(left)} left` : `, ${formatDuration(s)} in all`),
    );
  }
}

function formatDuration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
