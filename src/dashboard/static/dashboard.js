// Shared by every page (no framework, no build step): local times, the CSRF-carrying POST, the
// operator's buttons and forms (acknowledge, review, suspend, resume, trigger, thresholds) with
// their dialogs, and a toast that says what happened.
'use strict';

const adaclip = (window.adaclip = {
  csrf: document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '',

  /** Shows <time datetime> in the browser's time zone. */
  localizeTimes(root = document) {
    for (const t of root.querySelectorAll('time[datetime]')) {
      const d = new Date(t.getAttribute('datetime'));
      if (Number.isNaN(d.getTime())) continue;
      t.textContent = adaclip.formatTime(d, t.hasAttribute('data-ms'));
      t.title = d.toISOString();
    }
  },

  formatTime(d, withMs) {
    const p = (n, w = 2) => String(n).padStart(w, '0');
    const today = new Date().toDateString() === d.toDateString();
    const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `;
    return (
      (today ? '' : day) +
      `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
      (withMs ? `.${p(d.getMilliseconds(), 3)}` : '')
    );
  },

  /** POST JSON with the page's CSRF token; resolves to the answer's JSON, rejects with its error. */
  async post(url, body) {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': adaclip.csrf },
      body: JSON.stringify(body ?? {}),
      credentials: 'same-origin',
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || `${r.status} ${r.statusText}`);
    return data;
  },

  toast(text, kind = 'ok') {
    const el = document.getElementById('toast');
    if (!el) return;
    el.textContent = text;
    el.className = `show ${kind}`;
    clearTimeout(adaclip.toastTimer);
    adaclip.toastTimer = setTimeout(() => (el.className = ''), kind === 'error' ? 8000 : 4000);
  },

  /** Opens a dialog; resolves to its form's values, or null when cancelled. */
  ask(id, fill = {}) {
    const dlg = document.getElementById(id);
    if (!dlg) return Promise.resolve({});
    for (const [k, v] of Object.entries(fill)) {
      const el = dlg.querySelector(`[data-f="${k}"]`);
      if (el) el.textContent = v;
    }
    const form = dlg.querySelector('form');
    form.reset();
    return new Promise((resolve) => {
      dlg.addEventListener(
        'close',
        () => resolve(dlg.returnValue === 'ok' ? Object.fromEntries(new FormData(form)) : null),
        { once: true },
      );
      dlg.returnValue = '';
      dlg.showModal();
    });
  },

  /** After an action: the live page refreshes itself; other pages reload to show the new state. */
  changed() {
    if (typeof adaclip.onChanged === 'function') adaclip.onChanged();
    else setTimeout(() => location.reload(), 600);
  },
});

const comment = (v) => (v && v.trim() ? { comment: v.trim() } : {});

const ACTIONS = {
  async ack(btn) {
    const eventId = btn.dataset.event;
    if (!eventId) throw new Error('this alarm has no event to acknowledge yet');
    const v = await adaclip.ask('dlg-ack', { camera: btn.dataset.cameraId ?? '' });
    if (!v) return;
    await adaclip.post(`/api/events/${encodeURIComponent(eventId)}/ack`, comment(v.comment));
    adaclip.toast(`Alarm on ${btn.dataset.cameraId} acknowledged`);
  },
  async suspend(btn) {
    const v = await adaclip.ask('dlg-suspend', { camera: btn.dataset.cameraId ?? '' });
    if (!v) return;
    const body = { ...comment(v.comment), ...(v.duration ? { durationS: Number(v.duration) } : {}) };
    await adaclip.post(btn.dataset.url, body);
    adaclip.toast(`${btn.dataset.cameraId} suspended`, 'warn');
  },
  async resume(btn) {
    const r = await adaclip.post(btn.dataset.url, undefined);
    adaclip.toast(
      r.resumed ? `${btn.dataset.cameraId} resumed` : `${btn.dataset.cameraId} was not suspended`,
    );
  },
  async trigger(btn) {
    const r = await adaclip.post(btn.dataset.url, {});
    adaclip.toast(`Triggered ${btn.dataset.cameraId}: ${r.triggerId}`);
  },
  async review(btn) {
    const label = btn.dataset.label;
    const v = await adaclip.ask('dlg-review', {
      label: label === 'false-positive' ? 'false positive' : 'confirmed defect',
    });
    if (!v) return;
    await adaclip.post(btn.dataset.url, { label, ...comment(v.comment) });
    adaclip.toast(`Reviewed as ${label === 'false-positive' ? 'false positive' : 'confirmed defect'}`);
  },
};

const FORMS = {
  ack: (f) => comment(f.comment),
  thresholds: (f) => {
    const out = {};
    for (const k of ['image', 'pixel', 'clear']) if (f[k] !== undefined && f[k] !== '') out[k] = Number(f[k]);
    return out;
  },
};

document.addEventListener('click', async (ev) => {
  const btn = ev.target.closest('button[data-action]');
  const row = ev.target.closest('tr[data-href]');
  if (!btn && row && !ev.target.closest('a, button, input, select')) {
    location.href = row.dataset.href;
    return;
  }
  const act = btn && ACTIONS[btn.dataset.action];
  if (!act) return;
  ev.preventDefault();
  btn.disabled = true;
  try {
    await act(btn);
    adaclip.changed();
  } catch (err) {
    adaclip.toast(err.message, 'error');
  } finally {
    btn.disabled = false;
  }
});

document.addEventListener('submit', async (ev) => {
  const form = ev.target.closest('form[data-form]');
  if (!form) return;
  ev.preventDefault();
  const make = FORMS[form.dataset.form];
  try {
    await adaclip.post(form.dataset.url, make(Object.fromEntries(new FormData(form))));
    adaclip.toast(form.dataset.form === 'ack' ? 'Alarm acknowledged' : 'Saved');
    adaclip.changed();
  } catch (err) {
    adaclip.toast(err.message, 'error');
  }
});

document.addEventListener('DOMContentLoaded', () => adaclip.localizeTimes());
