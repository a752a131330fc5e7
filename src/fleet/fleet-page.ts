// The fleet page: one self-contained HTML document (no build step, no CDN), read-only. It polls
// /api/fleet every two seconds. Everything shown comes from devices' MQTT messages, so every value
// is escaped and only http(s) addresses become links.
export const FLEET_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>adaclip-edge fleet</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#111418;color:#e6e6e6}
 header{padding:12px 20px;background:#1b2027;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
 h1{font-size:18px;margin:0} .muted{color:#9aa4b1;font-size:13px}
 main{padding:16px 20px}
 #summary span{margin-right:18px}
 table{width:100%;border-collapse:collapse;font-size:13px} td,th{padding:7px 8px;border-bottom:1px solid #2a3038;text-align:left;vertical-align:top}
 th{color:#9aa4b1;font-weight:500}
 .badge{font-size:12px;padding:2px 7px;border-radius:4px;background:#3a4450;white-space:nowrap}
 .badge.online{background:#1f6f4a}.badge.offline{background:#7a2a2a}.badge.stalled,.badge.reconnecting,.badge.suspended{background:#8a6d1d}
 .badge.alarm{background:#b3261e}.badge.ack{background:#6b4b16}
 .cam{display:flex;gap:8px;align-items:center;margin:2px 0}
 .cam b{min-width:70px;font-weight:500}
 .sha{font-family:ui-monospace,monospace}
 .odd{color:#ffd27a} .lost{color:#ff8a8a}
 tr.gone .cam{opacity:.55} .lastknown{font-size:11px;color:#9aa4b1}
 a{color:#7fb0ff}
</style></head>
<body>
<header><h1>adaclip-edge fleet</h1><span id="broker" class="muted"></span><span id="summary" class="muted"></span></header>
<main>
 <table><thead><tr><th>device</th><th>status</th><th>model</th><th>outbox</th><th>cameras (state, last score, alarm)</th><th>dashboard</th></tr></thead>
 <tbody id="devices"></tbody></table>
 <p class="muted" id="note">Read-only. Online/offline from each device's retained availability (its last will says offline when it vanishes).</p>
</main>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const score = (x) => (typeof x === 'number' ? x.toFixed(3) : '–');
// an offline device's cameras show what they last said, marked as such
function camera(c, gone) {
  const alarm = c.alarm && c.alarm.active
    ? (c.alarm.acknowledgedBy
        ? '<span class="badge ack alarm-open">alarm (ack ' + esc(c.alarm.acknowledgedBy) + ')</span>'
        : '<span class="badge alarm alarm-open">ALARM ' + esc(c.alarm.severity) + '</span>')
    : '<span class="muted alarm-none">no alarm</span>';
  return '<div class="cam" data-camera="' + esc(c.id) + '"><b>' + esc(c.id) + '</b>' +
    '<span class="badge cam-status ' + (gone ? '' : esc(c.status)) + '">' + esc(c.status || 'unknown') + '</span>' +
    '<span class="score" title="' + esc(c.lastScoreAt) + '">' + score(c.lastScore) + '</span>' + alarm +
    (gone ? '<span class="lastknown">last known</span>' : '') + '</div>';
}
function render(f) {
  $('broker').textContent = 'broker ' + f.broker.url + (f.broker.connected ? '' : ' (DISCONNECTED)');
  const s = f.summary;
  const common = s.models[0];
  $('summary').innerHTML = '<span>' + s.devices + ' devices</span><span>' + s.online + ' online</span><span>' +
    s.offline + ' offline</span><span>' + s.openAlarms + ' open alarms</span><span>' + s.models.length + ' model(s)</span>';
  $('devices').innerHTML = f.devices.map((d) => {
    const status = d.online === true ? 'online' : d.online === false ? 'offline' : 'unknown';
    const odd = d.model && common && d.model.sha256 !== common.sha256;
    const model = d.model
      ? '<span class="model' + (odd ? ' odd' : '') + '"' + (odd ? ' title="not the model most devices run"' : '') + '>' +
        esc(d.model.version) + ' <span class="sha" title="' +
        esc(d.model.sha256) + '">' + esc(d.model.sha256.slice(0, 12)) + '</span></span>'
      : '<span class="muted">–</span>';
    const o = d.outbox;
    const lost = o ? o.dropped + o.rejected + o.brokerRejected : 0;
    const outbox = o
      ? '<span class="outbox" data-pending="' + o.pending + '">' + o.pending + ' waiting</span>' +
        (lost > 0 ? ' <span class="lost">' + lost + ' lost</span>' : '')
      : '<span class="muted">–</span>';
    const link = /^https?:\\/\\//i.test(d.dashboardUrl || '')
      ? '<a class="dashboard" href="' + esc(d.dashboardUrl) + '" target="_blank" rel="noopener noreferrer">' + esc(d.dashboardUrl) + '</a>'
      : '<span class="muted">–</span>';
    return '<tr data-device="' + esc(d.base) + '"' + (d.online === false ? ' class="gone"' : '') + '><td><b>' + esc(d.site ?? '') + (d.line ? ' / ' + esc(d.line) : '') +
      '</b><div class="muted">' + esc(d.base) + '</div></td><td><span class="badge device-status ' + status + '">' + status +
      '</span></td><td>' + model + '</td><td>' + outbox + '</td><td>' +
      (d.cameras.map((c) => camera(c, d.online === false)).join('') || '–') +
      '</td><td>' + link + '</td></tr>';
  }).join('');
}
async function tick() {
  try { render(await (await fetch('/api/fleet')).json()); }
  catch (e) { $('broker').textContent = 'fleet view unreachable: ' + e.message; }
}
tick(); setInterval(tick, 2000);
</script></body></html>`;
