// Small helpers the eval and calibrate commands share: option parsing with errors that name the
// option, and problem lists that stay readable when a folder has hundreds of them.

/** A number in (0, 1), or [0, 1] with `closed`; throws naming the option otherwise. */
export function parseFraction(text: string, option: string, { closed = false } = {}): number {
  const v = Number(text);
  const ok = text.trim() !== '' && Number.isFinite(v) && (closed ? v >= 0 && v <= 1 : v > 0 && v < 1);
  if (!ok)
    throw new Error(
      `${option}: expected a number ${closed ? 'from 0 to 1' : 'between 0 and 1 (exclusive), e.g. 0.01'}, got "${text}"`,
    );
  return v;
}

const SHOWN = 20;

export function printProblems(command: string, headline: string, problems: string[]): void {
  console.error(`${command}: ${headline}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  for (const p of problems.slice(0, SHOWN)) console.error(`  - ${p}`);
  if (problems.length > SHOWN) console.error(`  ... and ${problems.length - SHOWN} more`);
}

/** 20261202-104512 (UTC): sortable, safe in a file name. */
export function timestampForPath(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
