// The events page (bursts grouped by default, each expanding into its events) and the results page
// (one row per triggered part, exportable as CSV), both with their filters and older pages.
import type { EventGroup } from '../../history/event-groups.js';
import type { EventRow, Page, ResultRow } from '../../history/types.js';
import { eventTable, groupTable } from './event-rows.js';
import { filterForm, filterQuery, type ListFilters } from './filters.js';
import { html, type Html } from './html.js';
import { page, type PageContext } from './layout.js';
import { resultTable } from './result-rows.js';

export function eventsPage(
  ctx: PageContext,
  f: ListFilters,
  data: { grouped: Page<EventGroup> } | { flat: Page<EventRow> } | { unavailable: string },
): Html {
  let body: Html;
  let next: string | undefined;
  if ('unavailable' in data) body = html`<p class="problem">${data.unavailable}</p>`;
  else if ('grouped' in data) {
    body = html`<p class="muted">
        Bursts: events of one camera less than a minute apart are one row; ▸ shows them.
      </p>
      ${groupTable(data.grouped.items)}`;
    next = data.grouped.next;
  } else {
    body = eventTable(data.flat.items);
    next = data.flat.next;
  }
  return page(ctx, {
    title: 'Events',
    nav: 'events',
    body: html`<h1>Events</h1>
      ${filterForm(f, { action: '/events', cameras: ctx.status.cameras.map((c) => c.id), kind: 'events' })}
      ${body}
      ${next ? html`<p class="pager"><a class="button ghost" href="/events?${filterQuery(f, { group: f.grouped ? undefined : 'off', cursor: next })}">Older ›</a></p>` : ''}`,
    script: 'lists.js',
  });
}

export function resultsPage(
  ctx: PageContext,
  f: ListFilters,
  data: { page: Page<ResultRow> } | { unavailable: string },
): Html {
  const q = filterQuery(f);
  return page(ctx, {
    title: 'Results',
    nav: 'results',
    body: html`<h1>
        Results
        <a class="more" href="/api/results?${q}${q ? '&' : ''}format=csv" download>CSV of these filters ⤓</a>
      </h1>
      ${filterForm(f, { action: '/results', cameras: ctx.status.cameras.map((c) => c.id), kind: 'results' })}
      ${'unavailable' in data ? html`<p class="problem">${data.unavailable}</p>` : resultTable(data.page.items)}
      ${
        'page' in data && data.page.next
          ? html`<p class="pager">
              <a class="button ghost" href="/results?${filterQuery(f, { cursor: data.page.next })}"
                >Older ›</a
              >
            </p>`
          : ''
      }`,
    script: 'lists.js',
  });
}
