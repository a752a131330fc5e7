// One event or one result in full: the frame (with its regions outlined and numbered) beside the
// heatmap overlay, at full size; scores against thresholds, the regions, the latencies, the
// model's provenance; and the operator's acts on it: acknowledge the alarm, review it.
import type { AnomalyEvent, SnapshotRef } from '../../events/anomaly-event.js';
import { demoModelLine } from '../../model/demo-note.js';
import type { EventRow, ResultRow, RowReview } from '../../history/types.js';
import { snapshotUrl } from './event-rows.js';
import { ms, score, time, duration } from './format.js';
import { html, type Html } from './html.js';
import { page, type PageContext } from './layout.js';
import { verdictBadge } from './result-rows.js';

type Regions = AnomalyEvent['regions'];

export function eventDetailPage(ctx: PageContext, e: EventRow): Html {
  const a = e.alarm;
  return page(ctx, {
    title: `Event ${e.cameraId}`,
    nav: 'events',
    body: html`<p class="crumbs">
        <a href="/events">Events</a> ›
        <a href="/events?camera=${encodeURIComponent(e.cameraId)}&amp;group=off">${e.cameraId}</a> › ${e.id}
      </p>
      <h1 class="detail-title sev-${e.severity}">
        <span class="sev ${e.severity}">${e.severity}</span> alarm
        ${e.transition === 'raise' ? 'RAISED' : 'CLEARED'} on
        <a href="/cameras/${encodeURIComponent(e.cameraId)}">${e.cameraId}</a>
        <small>${time(e.capturedAt, { ms: true })}</small>
      </h1>
      <div class="detail">
        ${pictures(e.snapshots, e.regions)}
        <aside class="side">${ackPanel(ctx, e)} ${reviewPanel(ctx, 'event', e.id, e.review)}</aside>
      </div>
      <div class="cards">
        <section class="panel">
          <h3>Scores</h3>
          ${facts([
            [
              'score',
              html`<b class="${e.score >= e.threshold ? 'alert-text' : ''}">${score(e.score)}</b> against
                image threshold ${score(e.threshold)}`,
            ],
            ['without HSF', score(e.scoreWithoutHsf)],
            [
              'thresholds',
              `image ${e.thresholds.image} · pixel ${e.thresholds.pixel} · clear ${e.thresholds.clear} · min region ${e.thresholds.minRegionAreaPct} %`,
            ],
            [
              'decision',
              `${e.anomalous ? 'anomalous' : 'normal'} frame · ${e.window.hits} of the last ${e.window.n} frames over (k = ${e.window.k})`,
            ],
          ])}
        </section>
        <section class="panel">
          <h3>Alarm</h3>
          ${facts([
            ['alarm id', html`<span class="mono">${e.alarmId}</span>`],
            ['raised', time(a.raisedAt, { ms: true })],
            [
              'cleared',
              a.clearedAt
                ? html`${time(a.clearedAt, { ms: true })} (after ${duration(a.durationMs ?? 0)})`
                : e.active
                  ? 'still active'
                  : '–',
            ],
            ['peak score', score(a.peakScore)],
            ['frames', String(a.frames)],
          ])}
        </section>
        <section class="panel">
          <h3>Frame</h3>
          ${facts([
            ['camera', `${e.cameraId} (${e.className})`],
            ['site / line', `${e.site} / ${e.line}`],
            ['frame', `#${e.frameSeq}`],
            ['part / trigger', `${e.partId ?? '–'} / ${e.triggerId ?? '–'}`],
            ['captured', time(e.capturedAt, { ms: true })],
            ['decided', time(e.decidedAt, { ms: true })],
          ])}
        </section>
        <section class="panel">
          <h3>Latencies (ms)</h3>
          ${latencyTable(e.latencyMs)}
        </section>
        <section class="panel wide">
          <h3>Regions (${e.regionCount})</h3>
          ${regionTable(e.regions, e.regionCount)}
        </section>
        <section class="panel wide">
          <h3>Model</h3>
          ${modelFacts(e.model)}
        </section>
      </div>
      ${reviewDialog()}`,
  });
}

export function resultDetailPage(ctx: PageContext, r: ResultRow): Html {
  return page(ctx, {
    title: `Result ${r.partId ?? r.triggerId}`,
    nav: 'results',
    body: html`<p class="crumbs">
        <a href="/results">Results</a> ›
        <a href="/results?camera=${encodeURIComponent(r.cameraId)}">${r.cameraId}</a> › ${r.id}
      </p>
      <h1 class="detail-title v-${r.verdict}">
        ${verdictBadge(r)} part <span class="mono">${r.partId ?? '(no part id)'}</span> on
        <a href="/cameras/${encodeURIComponent(r.cameraId)}">${r.cameraId}</a>
        <small>${time(r.triggeredAt, { ms: true })}</small>
      </h1>
      <div class="detail">
        ${r.verdict === 'error' ? html`<div class="pictures"><p class="problem">Not inspected: ${r.reason}${r.detail ? ` (${r.detail})` : ''}. No image.</p></div>` : pictures(r.snapshots, r.regions)}
        <aside class="side">
          ${
            r.eventId
              ? html`<section class="panel">
                  <h3>Alarm</h3>
                  <p>
                    This part changed the camera's alarm:
                    <a href="/events/${r.eventId}">event ${r.eventId}</a>.
                  </p>
                </section>`
              : ''
          }
          ${r.verdict === 'error' ? '' : reviewPanel(ctx, 'result', r.id, r.review)}
        </aside>
      </div>
      <div class="cards">
        <section class="panel">
          <h3>Verdict</h3>
          ${facts([
            ['verdict', verdictBadge(r)],
            [
              'score',
              r.score !== undefined
                ? html`<b>${score(r.score)}</b> against image threshold ${score(r.thresholds?.image)}`
                : '–',
            ],
            ['without HSF', score(r.scoreWithoutHsf)],
            [
              'thresholds',
              r.thresholds
                ? `image ${r.thresholds.image} · pixel ${r.thresholds.pixel} · clear ${r.thresholds.clear}`
                : '–',
            ],
          ])}
        </section>
        <section class="panel">
          <h3>Part</h3>
          ${facts([
            ['part id', r.partId ?? '–'],
            ['trigger id', html`<span class="mono">${r.triggerId}</span>`],
            ['camera', `${r.cameraId} (${r.className})`],
            ['triggered', time(r.triggeredAt, { ms: true })],
            ['captured', time(r.capturedAt, { ms: true })],
            ['decided', time(r.decidedAt, { ms: true })],
            ['frame', r.frameSeq !== undefined ? `#${r.frameSeq}` : '–'],
          ])}
        </section>
        <section class="panel">
          <h3>Latencies (ms)</h3>
          ${latencyTable(r.latencyMs)}
        </section>
        <section class="panel wide">
          <h3>Regions (${r.regionCount})</h3>
          ${regionTable(r.regions, r.regionCount)}
        </section>
        <section class="panel wide">
          <h3>Model</h3>
          ${modelFacts(r.model)}
        </section>
      </div>
      ${reviewDialog()}`,
  });
}

function facts(rows: [string, Html | string][]): Html {
  return html`<dl class="kv">
    ${rows.map(
      ([k, v]) =>
        html`<dt>${k}</dt>
          <dd>${v}</dd>`,
    )}
  </dl>`;
}

/** The frame with numbered region outlines (SVG in frame pixels) and the heatmap overlay. */
function pictures(snapshots: readonly SnapshotRef[], regions: Regions): Html {
  const frame = snapshots.find((s) => s.kind === 'frame');
  const frameUrl = snapshotUrl(snapshots, 'frame');
  const overlayUrl = snapshotUrl(snapshots, 'overlay');
  if (!frame && !overlayUrl)
    return html`<div class="pictures">
      <p class="empty">
        No snapshot was stored for this one (snapshots are off, or deleted by their retention).
      </p>
    </div>`;
  const stroke = frame ? Math.max(2, Math.round(frame.width / 400)) : 2;
  return html`<div class="pictures">
    ${
      frame && frameUrl
        ? html`<figure>
            <div class="boxed">
              <a href="${frameUrl}" target="_blank"
                ><img
                  id="frame-img"
                  src="${frameUrl}"
                  alt="the inspected frame"
                  width="${frame.width}"
                  height="${frame.height}"
              /></a>
              <svg
                class="regions"
                viewBox="0 0 ${frame.width} ${frame.height}"
                preserveAspectRatio="none"
                aria-hidden="true"
              >
                ${regions.map(
                  (r, i) =>
                    html`<rect
                        x="${r.x}"
                        y="${r.y}"
                        width="${r.width}"
                        height="${r.height}"
                        stroke-width="${stroke}"
                      ></rect
                      ><text
                        x="${r.x + stroke * 2}"
                        y="${Math.max(r.y - stroke * 2, stroke * 12)}"
                        font-size="${stroke * 10}"
                        >${i + 1}</text
                      >`,
                )}
              </svg>
            </div>
            <figcaption>
              Frame ${frame.width} × ${frame.height}, regions outlined ·
              <a href="${frameUrl}" target="_blank">full size</a>
            </figcaption>
          </figure>`
        : ''
    }
    ${
      overlayUrl
        ? html`<figure>
            <a href="${overlayUrl}" target="_blank"
              ><img id="overlay-img" src="${overlayUrl}" alt="heatmap overlay with region boxes"
            /></a>
            <figcaption>Heatmap overlay · <a href="${overlayUrl}" target="_blank">full size</a></figcaption>
          </figure>`
        : ''
    }
  </div>`;
}

function regionTable(regions: Regions, total: number): Html {
  if (regions.length === 0) return html`<p class="empty">No region reached the pixel threshold.</p>`;
  return html`<table class="list compact">
      <thead>
        <tr>
          <th>#</th>
          <th class="num">x</th>
          <th class="num">y</th>
          <th class="num">width</th>
          <th class="num">height</th>
          <th class="num">area %</th>
          <th class="num">max</th>
          <th class="num">mean</th>
        </tr>
      </thead>
      <tbody>
        ${regions.map(
          (r, i) =>
            html`<tr>
              <td>${i + 1}</td>
              <td class="num">${r.x}</td>
              <td class="num">${r.y}</td>
              <td class="num">${r.width}</td>
              <td class="num">${r.height}</td>
              <td class="num">${r.areaPct.toFixed(2)}</td>
              <td class="num">${score(r.maxScore)}</td>
              <td class="num">${score(r.meanScore)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${total > regions.length ? html`<p class="muted">${total - regions.length} smaller regions not listed.</p>` : ''}`;
}

function latencyTable(l: Record<string, number | undefined>): Html {
  const keys = [
    'trigger',
    'wait',
    'queue',
    'preprocess',
    'engine',
    'hsf',
    'decide',
    'publish',
    'total',
  ].filter((k) => l[k] !== undefined);
  if (keys.length === 0) return html`<p class="empty">none recorded</p>`;
  return html`<dl class="kv">
    ${keys.map(
      (k) =>
        html`<dt>${k === 'trigger' ? 'trigger → verdict' : k}</dt>
          <dd class="num">${ms(l[k])}</dd>`,
    )}
  </dl>`;
}

function trainingFact(t: NonNullable<AnomalyEvent['model']['training']>): [string, string] {
  return [
    'training',
    `${t.kinds.join(', ')} · synth seeds ${t.trainSeeds.join(', ')} · ${t.steps} steps · ` +
      `${Math.round(t.trainingSeconds)} s · record sha256 ${t.recordSha256.slice(0, 12)}`,
  ];
}

function modelFacts(m: AnomalyEvent['model']): Html {
  return facts([
    [
      'kind',
      m.untrained
        ? html`<span class="alert-text">${m.kind} (random weights: scores mean nothing)</span>`
        : m.training
          ? html`<span class="alert-text">${m.kind} (${demoModelLine(m.training.note)})</span>`
          : m.kind,
    ],
    ...(m.training ? [trainingFact(m.training)] : []),
    ['model.onnx sha256', html`<span class="mono">${m.bundleSha256}</span>`],
    ['architecture', `${m.architecture} · ${m.imageSize} px · HSF ${m.hsf ? 'on' : 'off'}`],
    [
      'checkpoints',
      m.checkpoints.adaclip || m.checkpoints.clip
        ? html`${m.checkpoints.adaclip ? html`AdaCLIP <span class="mono">${m.checkpoints.adaclip.file}</span> (${m.checkpoints.adaclip.sha256.slice(0, 12)}) ` : ''}${
            m.checkpoints.clip
              ? html`CLIP
                  <span class="mono">${m.checkpoints.clip.file}</span>
                  (${m.checkpoints.clip.sha256.slice(0, 12)})`
              : ''
          }`
        : 'none (untrained)',
    ],
  ]);
}

function ackPanel(ctx: PageContext, e: EventRow): Html {
  const ack = e.acknowledged;
  let body: Html;
  if (ack)
    body = html`<p class="ok-text" id="ack-state">Acknowledged by <b>${ack.by}</b> ${time(ack.at)}</p>
      ${ack.comment ? html`<blockquote>${ack.comment}</blockquote>` : ''}`;
  else if (ctx.canAct)
    body = html`<p class="alert-text" id="ack-state">Not acknowledged.</p>
      <form data-form="ack" data-url="/api/events/${e.id}/ack">
        <label
          >Comment (optional)<textarea
            name="comment"
            maxlength="500"
            rows="2"
            placeholder="what you found, what you did"
          ></textarea>
        </label>
        <button type="submit" class="danger">Acknowledge alarm</button>
      </form>`;
  else body = html`<p class="alert-text" id="ack-state">Not acknowledged. Only an operator acknowledges.</p>`;
  return html`<section class="panel ack">
    <h3>Acknowledgement</h3>
    ${body}
  </section>`;
}

function reviewPanel(
  ctx: PageContext,
  kind: 'event' | 'result',
  id: string,
  review: RowReview | undefined,
): Html {
  const url = `/api/${kind}s/${id}/review`;
  const current = review
    ? html`<p id="review-state">
          Reviewed as
          <span class="review ${review.label}"
            >${review.label === 'false-positive' ? 'false positive' : 'confirmed defect'}</span
          >
          by <b>${review.by}</b> ${time(review.at)}
        </p>
        ${review.comment ? html`<blockquote>${review.comment}</blockquote>` : ''}`
    : html`<p class="muted" id="review-state">Not reviewed.</p>`;
  return html`<section class="panel review-panel">
    <h3>Review</h3>
    ${current}${
      ctx.canAct
        ? html`<div class="actions">
            <button data-action="review" data-label="false-positive" data-url="${url}">False positive</button>
            <button data-action="review" data-label="confirmed" data-url="${url}" class="danger">
              Confirmed defect
            </button>
          </div>`
        : ''
    }
    <p class="muted">
      Reviewed images become the good / defect sets of <a href="/reviews">the MVTec export</a> for
      <code>calibrate</code> and <code>eval</code>.
    </p>
  </section>`;
}

function reviewDialog(): Html {
  return html`<dialog id="dlg-review">
    <form method="dialog">
      <h3>Mark as <span data-f="label"></span></h3>
      <label
        >Comment (optional)<textarea
          name="comment"
          maxlength="500"
          rows="2"
          placeholder="e.g. glare on the chamfer"
        ></textarea>
      </label>
      <menu><button value="cancel" class="ghost">Cancel</button><button value="ok">Save review</button></menu>
    </form>
  </dialog>`;
}
