// The live page and a camera's page: keeps every [data-camera] tile current from the server-sent
// events of /api/stream (status every 2 s, a new live frame, an alarm change). When a camera's
// state, alarm or suspension changes, the tile is fetched again as the server renders it (one
// place formats it); numbers are patched in place. If the stream is refused (too many live
// connections) or breaks, the page polls /api/status every 5 s instead and says so.
'use strict';

(() => {
  const adaclip = window.adaclip;
  const tiles = () => [...document.querySelectorAll('article.tile[data-camera]')];
  const tileOf = (id) => document.querySelector(`article.tile[data-camera="${CSS.escape(id)}"]`);
  const seen = new Map(); // camera id -> signature of what the server renders in words
  const linkEl = document.getElementById('live-link');
  let last = null;

  const setLink = (text, kind) => {
    if (!linkEl) return;
    linkEl.textContent = text;
    linkEl.dataset.kind = kind;
  };

  const signature = (c) =>
    JSON.stringify([c.state, c.suspendedUntil, c.suspension, c.alarm, c.calibration, c.className]);

  const alarmKind = (c) => (!c.alarm.active ? 'none' : c.alarm.acknowledged ? 'acked' : 'active');

  const field = (tile, name) => tile.querySelector(`[data-f="${name}"]`);

  function patchNumbers(tile, c) {
    const set = (name, text) => {
      const el = field(tile, name);
      if (el && el.textContent !== text) el.textContent = text;
    };
    set('score', c.lastScore === undefined ? '–' : c.lastScore.toFixed(3));
    set('threshold', c.thresholds.image.toFixed(3));
    set('fps', (c.fps ?? 0).toFixed(1));
    set('dropped', String(Object.values(c.dropped ?? {}).reduce((a, b) => a + b, 0)));
    const lastEl = field(tile, 'last');
    if (lastEl && c.lastFrameAt) {
      lastEl.innerHTML = '';
      const t = document.createElement('time');
      t.setAttribute('datetime', c.lastFrameAt);
      t.textContent = adaclip.formatTime(new Date(c.lastFrameAt), false);
      lastEl.append(t);
    }
    const bar = field(tile, 'bar');
    if (bar) {
      const v = Math.max(0, Math.min(1, c.lastScore ?? 0));
      bar.setAttribute('width', (v * 100).toFixed(2));
      bar.classList.toggle('over', c.lastScore !== undefined && c.lastScore >= c.thresholds.image);
    }
    const mark = field(tile, 'mark');
    if (mark) mark.setAttribute('x', (Math.max(0, Math.min(1, c.thresholds.image)) * 100 - 0.4).toFixed(2));
    const ack = field(tile, 'ack');
    if (ack) ack.dataset.event = c.alarm.eventId ?? '';
  }

  /** The tile as the server renders it now, keeping the picture element (no reload, no flicker). */
  async function refreshTile(id) {
    const old = tileOf(id);
    if (!old) return;
    const large = old.classList.contains('large') ? '?large=1' : '';
    const r = await fetch(`/cameras/${encodeURIComponent(id)}/tile${large}`, { credentials: 'same-origin' });
    if (!r.ok) return;
    const tpl = document.createElement('template');
    tpl.innerHTML = (await r.text()).trim();
    const fresh = tpl.content.firstElementChild;
    if (!fresh) return;
    fresh.querySelector('.frame')?.replaceWith(old.querySelector('.frame'));
    if (old.classList.contains('has-frame')) fresh.classList.add('has-frame');
    old.replaceWith(fresh);
    adaclip.localizeTimes(fresh);
    if (last) {
      const c = last.cameras.find((x) => x.id === id);
      if (c) patchNumbers(fresh, c);
    }
  }

  function applyStatus(s) {
    last = s;
    for (const c of s.cameras) {
      const tile = tileOf(c.id);
      if (!tile) continue;
      tile.dataset.state = c.state;
      tile.dataset.alarm = alarmKind(c);
      patchNumbers(tile, c);
      const sig = signature(c);
      if (seen.has(c.id) && seen.get(c.id) !== sig) refreshTile(c.id).catch(() => undefined);
      seen.set(c.id, sig);
      const img = field(tile, 'live');
      if (img && !img.getAttribute('src') && c.lastSeq !== undefined) showFrame(c.id, c.lastSeq);
    }
    const count = (f) => String(s.cameras.filter(f).length);
    const put = (name, text) => {
      const el = document.querySelector(`#summary [data-f="${name}"]`);
      if (el) el.textContent = text;
    };
    put(
      'n-alarm',
      count((c) => c.alarm.active && !c.alarm.acknowledged),
    );
    put(
      'n-online',
      count((c) => c.state === 'online'),
    );
    put(
      'n-suspended',
      count((c) => c.state === 'suspended'),
    );
    const mqtt = document.getElementById('mqtt-state');
    if (mqtt) {
      mqtt.className = `link ${s.mqtt.connected ? 'up' : 'down'}`;
      mqtt.querySelector('[data-f="mqtt"]').textContent =
        `MQTT ${s.mqtt.connected ? 'connected' : 'DISCONNECTED'}`;
      const depth = mqtt.querySelector('[data-f="outbox"]');
      if (depth && s.mqtt.outboxDepth !== undefined) depth.textContent = String(s.mqtt.outboxDepth);
    }
  }

  /** Loads the camera's newest live frame off-screen, then swaps it in. */
  function showFrame(id, seq) {
    const tile = tileOf(id);
    const img = tile && field(tile, 'live');
    if (!img || img.dataset.loading === '1') return;
    img.dataset.loading = '1';
    const next = new Image();
    const url = `/api/cameras/${encodeURIComponent(id)}/live.jpg?seq=${seq}`;
    next.onload = () => {
      img.src = url;
      img.dataset.seq = String(seq);
      img.dataset.loading = '';
      tile.classList.add('has-frame');
    };
    next.onerror = () => (img.dataset.loading = '');
    next.src = url;
  }

  async function refreshStatus() {
    const r = await fetch('/api/status', { credentials: 'same-origin' });
    // the session ended (signed out elsewhere, expired, service restarted): back to the sign-in form
    if (r.status === 401)
      location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    if (r.ok) applyStatus(await r.json());
  }
  adaclip.onChanged = () => refreshStatus().catch(() => undefined);

  let pollTimer = null;
  function poll(reason) {
    setLink(`live updates: polling every 5 s (${reason})`, 'poll');
    if (pollTimer) return;
    pollTimer = setInterval(async () => {
      await refreshStatus().catch(() => undefined);
      for (const c of last?.cameras ?? []) if (c.lastSeq !== undefined) showFrame(c.id, c.lastSeq);
    }, 5000);
  }

  function connect() {
    const es = new EventSource('/api/stream');
    es.addEventListener('open', () => {
      setLink('live updates: connected', 'live');
      if (pollTimer) clearInterval(pollTimer);
      pollTimer = null;
    });
    es.addEventListener('status', (m) => applyStatus(JSON.parse(m.data)));
    es.addEventListener('frame', (m) => {
      const f = JSON.parse(m.data);
      showFrame(f.cameraId, f.seq);
    });
    es.addEventListener('alarm', () => refreshStatus().catch(() => undefined));
    es.addEventListener('error', () => {
      // CLOSED: the server refused the stream (503: too many live connections, or signed out)
      if (es.readyState === EventSource.CLOSED) {
        poll('live stream refused');
        setTimeout(connect, 60_000);
      } else setLink('live updates: reconnecting…', 'poll');
    });
  }

  for (const t of tiles()) {
    const img = field(t, 'live');
    if (img?.getAttribute('src'))
      img.addEventListener('load', () => t.classList.add('has-frame'), { once: true });
    if (img?.complete && img.naturalWidth > 0) t.classList.add('has-frame');
  }
  refreshStatus().catch(() => undefined);
  if (typeof EventSource === 'function') connect();
  else poll('no EventSource in this browser');
})();
