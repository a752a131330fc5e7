// The list pages' filter forms: the query string read leniently (a bad value is named on the page
// and ignored, never a bare 400), the history query it makes, and the form that shows it.
import type { AnomalyEvent } from '../../events/anomaly-event.js';
import type { Verdict } from '../../events/inspection-result.js';
import { cameraId, docId, timeBound } from '../routes/http.js';
import { html, type Html } from './html.js';

export interface ListFilters {
  camera?: string;
  severity?: AnomalyEvent['severity'];
  verdict?: Verdict;
  partId?: string;
  since?: number;
  until?: number;
  cursor?: string;
  /** Events: grouped into bursts (default) or one row each. */
  grouped: boolean;
  problems: string[];
}

const SEVERITIES = ['info', 'warning', 'critical'] as const;
const VERDICTS = ['ok', 'ng', 'error'] as const;

export function readFilters(query: unknown): ListFilters {
  const q = (typeof query === 'object' && query !== null ? query : {}) as Record<string, unknown>;
  const text = (k: string) => (typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined);
  const f: ListFilters = { grouped: text('group') !== 'off', problems: [] };
  const take = <T>(k: string, parse: (s: string) => T | undefined, what: string): T | undefined => {
    const s = text(k);
    if (s === undefined) return undefined;
    const v = parse(s);
    if (v === undefined) f.problems.push(`${k}: ${what} (got ${JSON.stringify(s.slice(0, 60))}, ignored)`);
    return v;
  };
  const zod =
    <T>(schema: { safeParse(s: string): { success: boolean; data?: T } }) =>
    (s: string) => {
      const r = schema.safeParse(s);
      return r.success ? r.data : undefined;
    };
  const one =
    <T extends string>(list: readonly T[]) =>
    (s: string) =>
      (list as readonly string[]).includes(s) ? (s as T) : undefined;
  // a datetime-local value has no zone: read it as UTC (the script sends the browser's time as UTC)
  const when = (s: string) => zod<number>(timeBound)(/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(s) ? `${s}Z` : s);
  f.camera = take('camera', zod<string>(cameraId), 'a camera id');
  f.severity = take('severity', one(SEVERITIES), 'info, warning or critical');
  f.verdict = take('verdict', one(VERDICTS), 'ok, ng or error');
  f.partId = take('partId', (s) => (s.length <= 256 ? s : undefined), 'at most 256 characters');
  f.since = take('since', when, 'a date and time');
  f.until = take('until', when, 'a date and time');
  f.cursor = take('cursor', zod<string>(docId), 'a ULID');
  return f;
}

/** The filters as a query string (without the cursor), for links: CSV, the next page. */
export function filterQuery(f: ListFilters, extra: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams();
  const put = (k: string, v: string | number | undefined) => v !== undefined && p.set(k, String(v));
  put('camera', f.camera);
  put('severity', f.severity);
  put('verdict', f.verdict);
  put('partId', f.partId);
  put('since', f.since !== undefined ? new Date(f.since).toISOString() : undefined);
  put('until', f.until !== undefined ? new Date(f.until).toISOString() : undefined);
  for (const [k, v] of Object.entries(extra)) put(k, v);
  return p.toString();
}

export function filterForm(
  f: ListFilters,
  o: { action: string; cameras: string[]; kind: 'events' | 'results' },
): Html {
  const sel = (name: string, current: string | undefined, options: readonly string[], any: string) =>
    html`<select name="${name}">
      <option value="">${any}</option>
      ${options.map((v) => html`<option value="${v}" ${v === current ? ' selected' : ''}>${v}</option>`)}
    </select>`;
  const dt = (name: string, ms: number | undefined) => {
    const iso = ms !== undefined ? new Date(ms).toISOString() : '';
    return html`<input
      type="datetime-local"
      name="${name}"
      step="1"
      value="${iso.slice(0, 19)}"
      data-iso="${iso}"
    />`;
  };
  return html`<form class="filters" method="get" action="${o.action}" id="filters">
      <label>camera ${sel('camera', f.camera, o.cameras, 'all cameras')}</label>
      ${
        o.kind === 'events'
          ? html`<label>severity ${sel('severity', f.severity, SEVERITIES, 'any severity')}</label>`
          : html`<label>verdict ${sel('verdict', f.verdict, VERDICTS, 'any verdict')}</label>
              <label
                >part id <input name="partId" value="${f.partId ?? ''}" maxlength="256" size="14"
              /></label>`
      }
      <label>from ${dt('since', f.since)}</label>
      <label>to ${dt('until', f.until)}</label>
      ${
        o.kind === 'events'
          ? html`<label class="check"
              ><input type="checkbox" name="group" value="off" ${f.grouped ? '' : ' checked'} /> one row per
              event</label
            >`
          : ''
      }
      <button type="submit">Filter</button>
      <a class="button ghost" href="${o.action}">Clear</a>
    </form>
    ${f.problems.length ? html`<p class="problem">${f.problems.join('; ')}</p>` : ''}`;
}
