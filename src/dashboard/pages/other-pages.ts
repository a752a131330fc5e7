// The reviews page (what people labelled, counted per product; how to export it in the MVTec AD
// layout for `calibrate` and `eval`) and the sign-in page.
import type { Review } from '../../history/types.js';
import { classFolder } from '../../operator/review-export.js';
import { reviewCell } from './event-rows.js';
import { time } from './format.js';
import { html, type Html } from './html.js';
import { page, type PageContext } from './layout.js';

export type ReviewListItem = Review & { cameraId: string; className: string };

const SHOWN = 200;

export function reviewsPage(ctx: PageContext, reviews: ReviewListItem[] | { unavailable: string }): Html {
  if (!Array.isArray(reviews))
    return page(ctx, {
      title: 'Reviews',
      nav: 'reviews',
      body: html`<h1>Reviews</h1>
        <p class="problem">${reviews.unavailable}</p>`,
    });
  const counts = new Map<string, { good: number; defect: number }>();
  for (const r of reviews) {
    const c = counts.get(r.className) ?? { good: 0, defect: 0 };
    if (r.label === 'false-positive') c.good++;
    else c.defect++;
    counts.set(r.className, c);
  }
  const newest = [...reviews].sort((a, b) => b.at.localeCompare(a.at)).slice(0, SHOWN);
  return page(ctx, {
    title: 'Reviews',
    nav: 'reviews',
    body: html`<h1>Reviews</h1>
      <section class="panel">
        <h3>MVTec AD export</h3>
        <p>
          False positives become <b>good</b> images, confirmed defects <b>defect</b> images with approximate
          masks (the filled boxes of the reported regions):
        </p>
        <table class="list compact">
          <thead>
            <tr>
              <th>product (class)</th>
              <th>folder</th>
              <th class="num">good (false positives)</th>
              <th class="num">defect (confirmed)</th>
            </tr>
          </thead>
          <tbody>
            ${[...counts].map(
              ([cls, c]) =>
                html`<tr>
                  <td>${cls}</td>
                  <td class="mono">${classFolder(cls)}/test/</td>
                  <td class="num">${c.good}</td>
                  <td class="num">${c.defect}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <p>
          <a class="button" href="/api/reviews/export.tar" download>Download the export (.tar)</a> or on the
          station: <code>adaclip-edge review export --config &lt;config.yaml&gt; --out reviewed/</code>, then
          <code>adaclip-edge calibrate --good reviewed/&lt;class&gt;/test/good</code> and
          <code>adaclip-edge eval</code> on <code>reviewed/&lt;class&gt;/test</code> (docs/operator.md).
        </p>
      </section>
      <section class="panel">
        <h3>Latest reviews${reviews.length > SHOWN ? ` (${SHOWN} of ${reviews.length})` : ''}</h3>
        ${
          newest.length === 0
            ? html`<p class="empty">
                Nothing reviewed yet: open an event or a result and mark it as false positive or confirmed
                defect.
              </p>`
            : html`<table class="list">
                <thead>
                  <tr>
                    <th>reviewed</th>
                    <th>by</th>
                    <th>label</th>
                    <th>of</th>
                    <th>camera</th>
                    <th>product</th>
                    <th>comment</th>
                  </tr>
                </thead>
                <tbody>
                  ${newest.map(
                    (r) =>
                      html`<tr>
                        <td>${time(r.at)}</td>
                        <td>${r.by}</td>
                        <td>${reviewCell(r)}</td>
                        <td><a href="/${r.kind}s/${r.targetId}">${r.kind}</a></td>
                        <td>${r.cameraId}</td>
                        <td>${r.className}</td>
                        <td>${r.comment ?? ''}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>`,
  });
}

export function loginPage(o: {
  site: string;
  line: string;
  error?: string;
  next?: string;
  user?: string;
}): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>Sign in · ${o.site}/${o.line} · adaclip-edge</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/dashboard.css" />
      </head>
      <body class="login">
        <form class="login-box" method="post" action="/login">
          <h1>adaclip-edge</h1>
          <p class="muted">${o.site} / ${o.line}</p>
          ${o.error ? html`<p class="problem" id="login-error">${o.error}</p>` : ''}
          <label
            >User
            <input
              name="user"
              autocomplete="username"
              required
              maxlength="64"
              value="${o.user ?? ''}"
              autofocus
          /></label>
          <label
            >Password
            <input name="password" type="password" autocomplete="current-password" required maxlength="1024"
          /></label>
          <input type="hidden" name="next" value="${o.next ?? '/'}" />
          <button type="submit">Sign in</button>
        </form>
      </body>
    </html> `;
}
