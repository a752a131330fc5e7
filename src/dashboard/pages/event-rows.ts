// Rows of anomaly events: one per event, or one per burst (alert grouping: a burst on one camera is
// one row that expands into its events).
import type { SnapshotRef } from '../../events/anomaly-event.js';
import type { EventGroup } from '../../history/event-groups.js';
import type { EventRow } from '../../history/types.js';
import { score, time } from './format.js';
import { html, type Html } from './html.js';

export function snapshotUrl(
  snapshots: readonly SnapshotRef[],
  kind: 'frame' | 'overlay',
): string | undefined {
  const s = snapshots.find((x) => x.kind === kind);
  return s ? `/api/snapshots/${encodeURIComponent(s.path.split('/').pop() ?? '')}` : undefined;
}

const HEAD = html`<thead>
  <tr>
    <th>captured</th>
    <th>camera</th>
    <th>event</th>
    <th>severity</th>
    <th class="num">score / thr.</th>
    <th class="num">regions</th>
    <th>part</th>
    <th>alarm</th>
    <th>review</th>
    <th>overlay</th>
  </tr>
</thead>`;

export function eventTable(rows: readonly EventRow[]): Html {
  if (rows.length === 0) return html`<p class="empty">No events.</p>`;
  return html`<table class="list events">
    ${HEAD}
    <tbody>
      ${rows.map((e) => eventRow(e))}
    </tbody>
  </table>`;
}

export function eventRow(e: EventRow, o: { member?: boolean } = {}): Html {
  const href = `/events/${e.id}`;
  const thumb = snapshotUrl(e.snapshots, 'overlay');
  return html`<tr
    class="ev sev-${e.severity} tr-${e.transition}${o.member ? ' member' : ''}"
    data-id="${e.id}"
    data-href="${href}"
  >
    <td>${time(e.capturedAt, { ms: true })}</td>
    <td>${e.cameraId}</td>
    <td><a href="${href}">${e.transition === 'raise' ? 'RAISE' : 'CLEAR'}</a></td>
    <td><span class="sev ${e.severity}">${e.severity}</span></td>
    <td class="num">${score(e.score)} / ${score(e.threshold)}</td>
    <td class="num">${e.regionCount}</td>
    <td>${e.partId ?? ''}</td>
    <td>${ackCell(e)}</td>
    <td>${reviewCell(e.review)}</td>
    <td>
      ${thumb ? html`<a href="${href}"><img class="thumb" loading="lazy" alt="overlay" src="${thumb}" /></a>` : ''}
    </td>
  </tr>`;
}

function ackCell(e: EventRow): Html | string {
  if (e.acknowledged)
    return html`<span class="ok-text" title="${e.acknowledged.comment ?? ''}"
      >ack ${e.acknowledged.by}</span
    >`;
  return e.transition === 'raise' ? html`<span class="alert-text">unacknowledged</span>` : '';
}

export function reviewCell(r: EventRow['review']): Html | string {
  if (!r) return '';
  return html`<span class="review ${r.label}" title="${r.by} ${r.at}${r.comment ? ` · ${r.comment}` : ''}"
    >${r.label === 'false-positive' ? 'false positive' : 'confirmed'}</span
  >`;
}

const GROUP_HEAD = html`<thead>
  <tr>
    <th></th>
    <th>latest</th>
    <th>camera</th>
    <th class="num">events</th>
    <th>span</th>
    <th>worst</th>
    <th class="num">peak</th>
    <th class="num">alarms</th>
    <th>acknowledged</th>
    <th>reviewed</th>
    <th>overlay</th>
  </tr>
</thead>`;

/** Bursts: each row expands (the script fetches the burst's events; without it the link lists them). */
export function groupTable(groups: readonly EventGroup[]): Html {
  if (groups.length === 0) return html`<p class="empty">No events.</p>`;
  return html`<table class="list groups">
    ${GROUP_HEAD}
    <tbody>
      ${groups.map(groupRow)}
    </tbody>
  </table>`;
}

function groupRow(g: EventGroup): Html {
  const q = `camera=${encodeURIComponent(g.cameraId)}&since=${g.since}&until=${g.until}`;
  const thumb = snapshotUrl(g.latest.snapshots, 'overlay');
  const single = g.count === 1;
  const unacked = g.raises - g.acknowledged;
  return html`<tr class="group sev-${g.maxSeverity}" data-group="${g.id}">
    <td>
      ${
        single
          ? ''
          : html`<a
              class="expand"
              href="/events?${q}&amp;group=off"
              data-expand="/events/burst?${q}"
              aria-expanded="false"
              title="show the ${g.count} events"
              >▸</a
            >`
      }
    </td>
    <td><a href="/events/${g.latest.id}">${time(g.to, { ms: true })}</a></td>
    <td>${g.cameraId}</td>
    <td class="num">${single ? '1' : html`<b>${g.count}</b>`}</td>
    <td>${single ? '' : html`${time(g.from)} → ${time(g.to)}`}</td>
    <td><span class="sev ${g.maxSeverity}">${g.maxSeverity}</span></td>
    <td class="num">${score(g.peakScore)}</td>
    <td class="num">${g.raises}</td>
    <td>
      ${g.raises === 0 ? '' : unacked > 0 ? html`<span class="alert-text">${unacked} of ${g.raises} open</span>` : html`<span class="ok-text">all</span>`}
    </td>
    <td>${g.reviewed > 0 ? `${g.reviewed} of ${g.count}` : ''}</td>
    <td>
      ${thumb ? html`<a href="/events/${g.latest.id}"><img class="thumb" loading="lazy" alt="overlay" src="${thumb}" /></a>` : ''}
    </td>
  </tr>`;
}
