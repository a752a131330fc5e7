// One camera as a tile (the live page) or large (its own page): the latest frame with the heatmap
// and the region boxes, its true state, its alarm, score against threshold, fps, the calibration,
// and the operator's buttons. The script (static/dashboard.js) keeps the [data-f] fields and the
// data-state / data-alarm attributes current from the live stream.
import type { CameraStatus } from '../types.js';
import { alarmKind, calibrationLine, score, scoreBar, stateLabel, time } from './format.js';
import { html, type Html } from './html.js';

export function cameraTile(c: CameraStatus, o: { canAct: boolean; large?: boolean }): Html {
  const alarm = alarmKind(c);
  const url = `/cameras/${encodeURIComponent(c.id)}`;
  const dropped = Object.values(c.dropped ?? {}).reduce((a, b) => a + b, 0);
  return html`<article
    class="tile${o.large ? ' large' : ''}"
    data-camera="${c.id}"
    data-state="${c.state}"
    data-alarm="${alarm}"
  >
    <header>
      <h2>${o.large ? c.id : html`<a href="${url}">${c.id}</a>`}</h2>
      <span class="cls" data-f="class">${c.className}</span>
      <span class="badge state" data-f="state">${stateLabel(c.state)}</span>
    </header>
    <div class="alarmbar" data-f="alarm">${alarmText(c)}</div>
    <a
      class="frame"
      href="${o.large ? `/api/cameras/${encodeURIComponent(c.id)}/live.jpg` : url}"
      target="${o.large ? '_blank' : '_self'}"
    >
      <img
        data-f="live"
        alt="latest frame of ${c.id} with the heatmap overlay and region boxes"
        ${
          c.lastSeq !== undefined
            ? html` src="/api/cameras/${encodeURIComponent(c.id)}/live.jpg?seq=${c.lastSeq}"`
            : ''
        }
      />
      <span class="noframe">waiting for the first frame</span>
    </a>
    <div class="scoreline">
      <span class="big" data-f="score">${score(c.lastScore)}</span>
      <span class="muted"
        >score · threshold <span data-f="threshold">${c.thresholds.image.toFixed(3)}</span></span
      >
      ${scoreBar(c.lastScore, c.thresholds.image)}
    </div>
    <dl class="facts">
      <div>
        <dt>fps</dt>
        <dd data-f="fps">${(c.fps ?? 0).toFixed(1)}</dd>
      </div>
      <div>
        <dt>last frame</dt>
        <dd data-f="last">${time(c.lastFrameAt)}</dd>
      </div>
      <div>
        <dt>dropped</dt>
        <dd data-f="dropped">${dropped}</dd>
      </div>
    </dl>
    <p class="suspension" data-f="suspension">${suspensionText(c)}</p>
    <p class="calib">${calibrationLine(c.calibration)}</p>
    ${o.canAct ? actions(c) : ''}
  </article>`;
}

function actions(c: CameraStatus): Html {
  const id = encodeURIComponent(c.id);
  return html`<div class="actions">
    <button
      class="danger"
      data-action="ack"
      data-f="ack"
      data-event="${c.alarm.eventId ?? ''}"
      data-camera-id="${c.id}"
    >
      Acknowledge
    </button>
    <button data-action="suspend" data-url="/api/cameras/${id}/suspend" data-camera-id="${c.id}">
      Suspend…
    </button>
    <button data-action="resume" data-url="/api/cameras/${id}/resume" data-camera-id="${c.id}">Resume</button>
    ${c.triggerable ? html`<button data-action="trigger" data-url="/api/cameras/${id}/trigger" data-camera-id="${c.id}">Trigger</button>` : ''}
    <a class="button ghost" href="/events?camera=${id}">Events</a>
  </div>`;
}

export function alarmText(c: CameraStatus): Html | string {
  if (!c.alarm.active) return 'no active alarm';
  const since = c.alarm.since ? html` since ${time(c.alarm.since)}` : '';
  const ack = c.alarm.acknowledged;
  return ack
    ? html`ALARM${since} · acknowledged by ${ack.by}
      ${time(ack.at)}${ack.comment ? ` · “${ack.comment}”` : ''}`
    : html`ALARM${since} · NOT ACKNOWLEDGED`;
}

export function suspensionText(c: CameraStatus): Html | string {
  if (c.state !== 'suspended' || !c.suspension) return '';
  const until = c.suspendedUntil ? html`until ${time(c.suspendedUntil)}` : 'until resumed';
  return html`suspended by ${c.suspension.by}
  ${until}${c.suspension.comment ? ` · “${c.suspension.comment}”` : ''}`;
}
