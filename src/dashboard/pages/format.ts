// How values read on the pages: times in UTC with the browser turning them into local time
// (<time datetime>), scores with three decimals, states and alarms as words with their colour class.
import type { CameraStatus } from '../types.js';
import { html, type Html } from './html.js';

/** A time element: UTC text (the script shows it in the browser's time zone). */
export function time(iso: string | undefined, o: { ms?: boolean } = {}): Html | string {
  if (!iso) return '–';
  const text = iso.replace('T', ' ').slice(0, o.ms ? 23 : 19) + ' UTC';
  return html`<time datetime="${iso}" ${o.ms ? html` data-ms` : ''}>${text}</time>`;
}

export function score(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3);
}

export function ms(x: number | undefined): string {
  return x === undefined ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1);
}

/** Alarm condition of a camera: none, active (unacknowledged), acked (active, acknowledged). */
export function alarmKind(c: Pick<CameraStatus, 'alarm'>): 'none' | 'active' | 'acked' {
  if (!c.alarm.active) return 'none';
  return c.alarm.acknowledged ? 'acked' : 'active';
}

export function stateLabel(state: string): string {
  return state.toUpperCase();
}

/** A score bar: the score's fill and the threshold's mark, both on 0..1 (SVG: no inline styles). */
export function scoreBar(value: number | undefined, threshold: number): Html {
  const w = value === undefined ? 0 : Math.max(0, Math.min(1, value)) * 100;
  const t = Math.max(0, Math.min(1, threshold)) * 100;
  const over = value !== undefined && value >= threshold;
  return html`<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
    <rect class="track" x="0" y="2" width="100" height="6"></rect>
    <rect
      class="fill${over ? ' over' : ''}"
      data-f="bar"
      x="0"
      y="2"
      width="${w.toFixed(2)}"
      height="6"
    ></rect>
    <rect class="mark" data-f="mark" x="${(t - 0.4).toFixed(2)}" y="0" width="0.8" height="10"></rect>
  </svg>`;
}

/** "calibrated <when> on <n> good images, <rule>, target <fpr>" or that it was not. */
export function calibrationLine(c: CameraStatus['calibration']): Html {
  if (!c) return html`<span class="muted">thresholds set by hand (not calibrated)</span>`;
  const pct = (x: number) => `${+(x * 100).toPrecision(3)} %`;
  return html`calibrated ${time(c.at)} on <b>${c.images}</b> good images · rule ${c.rule} · target
    ${pct(c.targetFpr)} false
    alarms${c.falseAlarmRate !== undefined ? ` (measured ${pct(c.falseAlarmRate)})` : ''}`;
}

/** "2 h 5 min" for a span in ms. */
export function duration(msSpan: number): string {
  const s = Math.round(msSpan / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}
