// The operator page: one self-contained HTML document (no build step, no CDN: lines are often
// offline). Live updates arrive over server-sent events from /api/stream.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>adaclip-edge</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#111418;color:#e6e6e6}
 header{padding:12px 20px;background:#1b2027;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
 h1{font-size:18px;margin:0} .muted{color:#9aa4b1;font-size:13px}
 #untrained{display:none;background:#b3261e;color:#fff;padding:8px 20px;font-weight:600}
 main{padding:16px 20px;display:grid;gap:16px}
 #cams{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
 .cam{background:#1b2027;border-radius:8px;padding:12px;border-left:6px solid #3a4450}
 .cam.alarm{border-left-color:#e5484d} .cam.ok{border-left-color:#30a46c}
 .badge{font-size:12px;padding:2px 6px;border-radius:4px;background:#3a4450}
 .badge.online{background:#1f6f4a}.badge.stalled,.badge.reconnecting{background:#8a6d1d}.badge.offline{background:#7a2a2a}
 .bar{height:8px;background:#2a3038;border-radius:4px;margin:8px 0;position:relative}
 .bar>div{height:8px;border-radius:4px;background:#4f8cff}
 .bar>span{position:absolute;top:-3px;width:2px;height:14px;background:#fff}
 table{width:100%;border-collapse:collapse;font-size:13px} td,th{padding:6px;border-bottom:1px solid #2a3038;text-align:left}
 tr.critical td{color:#ff8a8a} tr.warning td{color:#ffd27a} img{height:48px;border-radius:3px}
 button{background:#4f8cff;color:#fff;border:0;border-radius:4px;padding:4px 10px;cursor:pointer}
</style></head>
<body>
<div id="untrained">UNTRAINED MODEL: this bundle has random weights (untrained-test). Its scores mean nothing.</div>
<header><h1>adaclip-edge</h1><span id="where" class="muted"></span><span id="model" class="muted"></span><span id="mqtt" class="muted"></span></header>
<main>
 <section><div id="cams"></div></section>
 <section><h2 style="font-size:15px">Recent events</h2>
  <table><thead><tr><th>time</th><th>camera</th><th>severity</th><th>score</th><th>regions</th><th>part</th><th>snapshot</th></tr></thead>
  <tbody id="events"></tbody></table></section>
</main>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
function renderStatus(s) {
  $('where').textContent = s.site + ' / ' + s.line;
  $('model').textContent = 'model: ' + s.model.bundle + ' (' + s.model.backend + ', HSF ' + s.model.hsf + ')';
  $('mqtt').textContent = 'MQTT ' + (s.mqtt.connected ? 'connected' : 'DISCONNECTED') + ' ' + s.mqtt.url +
    (s.mqtt.outboxDepth !== undefined ? ', outbox ' + s.mqtt.outboxDepth : '');
  $('untrained').style.display = s.model.untrained ? 'block' : 'none';
  $('cams').innerHTML = s.cameras.map((c) => {
    const score = c.lastScore ?? 0;
    return '<div class="cam ' + (c.anomalous ? 'alarm' : 'ok') + '" data-camera="' + esc(c.id) + '">' +
      '<b>' + esc(c.id) + '</b> <span class="badge ' + esc(c.state) + '">' + esc(c.state) + '</span>' +
      '<div class="muted">' + esc(c.className) + (c.fps ? ' · ' + c.fps.toFixed(1) + ' fps' : '') + '</div>' +
      '<div class="bar"><div style="width:' + (score * 100).toFixed(1) + '%"></div><span style="left:' + (c.thresholds.image * 100) + '%"></span></div>' +
      '<div class="muted">score <span class="score">' + (c.lastScore === undefined ? '-' : score.toFixed(3)) + '</span> · threshold ' + c.thresholds.image + '</div>' +
      '<div class="muted calibration">' + (c.calibration ? 'calibrated ' + esc(c.calibration.at.slice(0, 16).replace('T', ' ')) + ' UTC on ' + c.calibration.images +
        ' good images, target ' + (c.calibration.targetFpr * 100) + ' % false alarms (' + esc(c.calibration.rule) + ')' : 'thresholds not calibrated') + '</div>' +
      (c.triggerable ? '<button onclick="trigger(\\'' + esc(c.id) + '\\')">trigger</button>' : '') + '</div>';
  }).join('');
}
function addEvent(e) {
  const tr = document.createElement('tr');
  tr.className = e.severity || '';
  const ov = (e.snapshots || []).find((s) => s.kind === 'overlay');
  const name = ov ? ov.path.split('/').pop() : '';
  const snap = ov ? '<a href="/api/snapshots/' + esc(name) + '" target="_blank"><img alt="overlay" src="/api/snapshots/' + esc(name) + '"></a>' : '';
  tr.innerHTML = '<td>' + esc((e.capturedAt || e.time || '').replace('T', ' ').slice(0, 23)) + '</td><td>' + esc(e.cameraId) +
    '</td><td>' + esc(e.severity) + (e.transition ? ' (' + esc(e.transition) + ')' : '') + '</td><td>' + (typeof e.score === 'number' ? e.score.toFixed(3) : '') +
    '</td><td>' + (e.regions ? e.regions.length : '') + '</td><td>' + esc(e.partId) + '</td><td>' + snap + '</td>';
  $('events').prepend(tr);
  while ($('events').children.length > 100) $('events').lastChild.remove();
}
async function trigger(id) {
  const r = await fetch('/api/cameras/' + encodeURIComponent(id) + '/trigger', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{}'});
  if (!r.ok) alert((await r.json()).error);
}
fetch('/api/status').then((r) => r.json()).then(renderStatus);
fetch('/api/events?limit=50').then((r) => r.json()).then((page) => (page.items || []).slice().reverse().forEach(addEvent));
const es = new EventSource('/api/stream');
es.addEventListener('status', (m) => renderStatus(JSON.parse(m.data)));
es.addEventListener('anomaly', (m) => addEvent(JSON.parse(m.data)));
</script></body></html>
`;
