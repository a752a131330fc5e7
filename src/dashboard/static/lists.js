// The events and results pages: a burst row expands into its events (fetched as the server
// renders them), and the filter form's dates are the browser's local time (sent as UTC).
'use strict';

(() => {
  const adaclip = window.adaclip;

  document.addEventListener('click', async (ev) => {
    const a = ev.target.closest('a[data-expand]');
    if (!a) return;
    ev.preventDefault();
    const row = a.closest('tr');
    const open = row.nextElementSibling?.classList.contains('burst-body');
    if (open) {
      row.nextElementSibling.remove();
      a.setAttribute('aria-expanded', 'false');
      a.textContent = '▸';
      return;
    }
    const r = await fetch(a.dataset.expand, { credentials: 'same-origin' });
    if (!r.ok) {
      adaclip.toast((await r.json().catch(() => ({}))).error ?? `${r.status}`, 'error');
      return;
    }
    const tr = document.createElement('tr');
    tr.className = 'burst-body';
    const td = document.createElement('td');
    td.colSpan = row.children.length;
    td.innerHTML = await r.text();
    tr.append(td);
    row.after(tr);
    adaclip.localizeTimes(tr);
    a.setAttribute('aria-expanded', 'true');
    a.textContent = '▾';
  });

  const form = document.getElementById('filters');
  if (!form) return;
  const pad = (n) => String(n).padStart(2, '0');
  for (const input of form.querySelectorAll('input[type="datetime-local"][data-iso]')) {
    const iso = input.dataset.iso;
    if (!iso) continue;
    const d = new Date(iso);
    input.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(
      d.getMinutes(),
    )}:${pad(d.getSeconds())}`;
  }
  form.addEventListener('submit', () => {
    for (const input of form.querySelectorAll('input[type="datetime-local"]')) {
      if (!input.value) {
        input.disabled = true;
        continue;
      }
      const hidden = document.createElement('input');
      hidden.type = 'hidden';
      hidden.name = input.name;
      hidden.value = new Date(input.value).toISOString();
      input.disabled = true;
      form.append(hidden);
    }
    // empty selects and fields add nothing to the address
    for (const el of form.querySelectorAll('select, input[name="partId"]')) if (!el.value) el.disabled = true;
  });
})();
