// The live page (a tile per camera) and a camera's own page (large, with its thresholds and its
// latest events and results).
import type { EventRow, ResultRow } from '../../history/types.js';
import type { CameraStatus } from '../types.js';
import { cameraTile } from './camera-tile.js';
import { eventTable } from './event-rows.js';
import { html, type Html } from './html.js';
import { page, type PageContext } from './layout.js';
import { resultTable } from './result-rows.js';

export function livePage(ctx: PageContext): Html {
  const cams = ctx.status.cameras;
  const count = (f: (c: CameraStatus) => boolean) => cams.filter(f).length;
  return page(ctx, {
    title: 'Live',
    nav: 'live',
    body: html`<section class="summary" id="summary">
        <span
          ><b data-f="n-alarm">${count((c) => c.alarm.active && !c.alarm.acknowledged)}</b> unacknowledged
          alarms</span
        >
        <span
          ><b data-f="n-online">${count((c) => c.state === 'online')}</b> / ${cams.length} cameras
          online</span
        >
        <span><b data-f="n-suspended">${count((c) => c.state === 'suspended')}</b> suspended</span>
        <span class="live-link" id="live-link">live updates: connecting…</span>
      </section>
      <section class="tiles" id="tiles">${cams.map((c) => cameraTile(c, { canAct: ctx.canAct }))}</section>
      ${actionDialogs()}`,
    script: 'live.js',
  });
}

export function cameraPage(
  ctx: PageContext,
  c: CameraStatus,
  recent: { events?: EventRow[]; results?: ResultRow[] },
): Html {
  const t = c.thresholds;
  const id = encodeURIComponent(c.id);
  return page(ctx, {
    title: c.id,
    nav: 'camera',
    body: html`<p class="crumbs"><a href="/">Live</a> › ${c.id}</p>
      <div class="camera-page">
        ${cameraTile(c, { canAct: ctx.canAct, large: true })}
        <section class="panel">
          <h3>Thresholds</h3>
          <form class="thresholds" data-form="thresholds" data-url="/api/cameras/${id}/thresholds">
            <label
              >image
              <input
                name="image"
                type="number"
                min="0"
                max="1"
                step="0.001"
                value="${t.image}"
                ${ctx.canAct ? '' : ' disabled'}
            /></label>
            <label
              >pixel
              <input
                name="pixel"
                type="number"
                min="0"
                max="1"
                step="0.001"
                value="${t.pixel}"
                ${ctx.canAct ? '' : ' disabled'}
            /></label>
            <label
              >clear
              <input
                name="clear"
                type="number"
                min="0"
                max="1"
                step="0.001"
                value="${t.clear}"
                ${ctx.canAct ? '' : ' disabled'}
            /></label>
            ${ctx.canAct ? html`<button type="submit">Apply</button>` : html`<span class="muted">only an operator changes thresholds</span>`}
          </form>
          <p class="muted">
            An alarm is raised when the image score reaches <b>image</b> and cleared below <b>clear</b>;
            regions are drawn where the pixel score reaches <b>pixel</b>. Calibrate on good parts with
            <code>adaclip-edge calibrate</code> (docs/calibration.md).
          </p>
        </section>
      </div>
      ${
        recent.events
          ? html`<section class="panel">
              <h3>
                Latest events
                <a class="more" href="/events?camera=${id}&amp;group=off">all events of ${c.id} ›</a>
              </h3>
              ${eventTable(recent.events)}
            </section>`
          : ''
      }
      ${
        recent.results && c.triggerable
          ? html`<section class="panel">
              <h3>
                Latest results <a class="more" href="/results?camera=${id}">all results of ${c.id} ›</a>
              </h3>
              ${resultTable(recent.results)}
            </section>`
          : ''
      }
      ${actionDialogs()}`,
    script: 'live.js',
  });
}

/** The dialogs the action buttons open (acknowledge with a comment, suspend with a duration). */
export function actionDialogs(): Html {
  return html`<dialog id="dlg-ack">
      <form method="dialog">
        <h3>Acknowledge the alarm on <span data-f="camera"></span></h3>
        <label
          >Comment (optional)<textarea
            name="comment"
            maxlength="500"
            rows="3"
            placeholder="what you found, what you did"
          ></textarea>
        </label>
        <menu>
          <button value="cancel" class="ghost">Cancel</button
          ><button value="ok" class="danger">Acknowledge</button>
        </menu>
      </form>
    </dialog>
    <dialog id="dlg-suspend">
      <form method="dialog">
        <h3>Suspend <span data-f="camera"></span></h3>
        <p class="muted">
          A suspended camera inspects nothing and raises nothing; a trigger camera answers every trigger with
          verdict error (suspended).
        </p>
        <label
          >For
          <select name="duration">
            <option value="900">15 minutes</option>
            <option value="3600" selected>1 hour</option>
            <option value="28800">8 hours (a shift)</option>
            <option value="86400">24 hours</option>
            <option value="">until resumed</option>
          </select>
        </label>
        <label
          >Reason (optional)<textarea
            name="comment"
            maxlength="500"
            rows="2"
            placeholder="e.g. lens cleaning"
          ></textarea>
        </label>
        <menu>
          <button value="cancel" class="ghost">Cancel</button><button value="ok" class="warn">Suspend</button>
        </menu>
      </form>
    </dialog>`;
}
