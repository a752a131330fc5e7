// Rows of inspection results (one per triggered part): verdict OK / NG / ERROR with its reason.
import type { ResultRow } from '../../history/types.js';
import { reviewCell, snapshotUrl } from './event-rows.js';
import { ms, score, time } from './format.js';
import { html, type Html } from './html.js';

const HEAD = html`<thead>
  <tr>
    <th>triggered</th>
    <th>camera</th>
    <th>part</th>
    <th>trigger</th>
    <th>verdict</th>
    <th class="num">score / thr.</th>
    <th class="num">regions</th>
    <th class="num">trigger → verdict ms</th>
    <th>review</th>
    <th>overlay</th>
  </tr>
</thead>`;

export function resultTable(rows: readonly ResultRow[]): Html {
  if (rows.length === 0) return html`<p class="empty">No results.</p>`;
  return html`<table class="list results">
    ${HEAD}
    <tbody>
      ${rows.map(resultRow)}
    </tbody>
  </table>`;
}

export function verdictBadge(r: Pick<ResultRow, 'verdict' | 'reason'>): Html {
  return html`<span class="verdict ${r.verdict}">${r.verdict.toUpperCase()}</span>${
      r.reason ? html` <span class="muted">${r.reason}</span>` : ''
    }`;
}

function resultRow(r: ResultRow): Html {
  const href = `/results/${r.id}`;
  const thumb = snapshotUrl(r.snapshots, 'overlay');
  return html`<tr class="res v-${r.verdict}" data-id="${r.id}" data-href="${href}">
    <td><a href="${href}">${time(r.triggeredAt, { ms: true })}</a></td>
    <td>${r.cameraId}</td>
    <td>${r.partId ?? ''}</td>
    <td class="mono">${r.triggerId}</td>
    <td>${verdictBadge(r)}</td>
    <td class="num">${score(r.score)} / ${score(r.thresholds?.image)}</td>
    <td class="num">${r.regionCount}</td>
    <td class="num">${ms(r.latencyMs.trigger)}</td>
    <td>${reviewCell(r.review)}</td>
    <td>
      ${thumb ? html`<a href="${href}"><img class="thumb" loading="lazy" alt="overlay" src="${thumb}" /></a>` : ''}
    </td>
  </tr>`;
}
