// Severity of an anomaly by its image score: info below the warning level, then warning, then critical.
export type Severity = 'info' | 'warning' | 'critical';

export interface SeverityLevels {
  warning: number;
  critical: number;
}

export function severityOf(score: number, levels: SeverityLevels): Severity {
  if (score >= levels.critical) return 'critical';
  if (score >= levels.warning) return 'warning';
  return 'info';
}

export function validateSeverityLevels(levels: SeverityLevels): void {
  const ok = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;
  if (!ok(levels.warning) || !ok(levels.critical))
    throw new RangeError(`severity levels must be numbers in [0, 1], got ${JSON.stringify(levels)}`);
  if (levels.warning > levels.critical)
    throw new RangeError(
      `severity warning (${levels.warning}) must not exceed critical (${levels.critical})`,
    );
}
