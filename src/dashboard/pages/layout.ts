// The frame of every page: the header (site and line, navigation, MQTT link, who is signed in),
// the banners that must not be missed (demo without sign-in, read-only, untrained model, a demo
// model trained on the synthetic line only), the
// model provenance line, and the page's own content. No inline script or style (the Content
// Security Policy allows only this server's files).
import { demoModelLine } from '../../model/demo-note.js';
import type { DashboardUser } from '../routes/http.js';
import type { ServiceStatus } from '../types.js';
import { html, type Html } from './html.js';

export interface PageContext {
  status: ServiceStatus;
  auth: 'users' | 'none';
  readOnly: boolean;
  user?: DashboardUser;
  /** The visitor may act (operator, or the demo without sign-in). */
  canAct: boolean;
  /** The CSRF token the page's script sends with every state change. */
  csrf?: string;
  signInEnabled: boolean;
}

const NAV = [
  ['live', '/', 'Live'],
  ['events', '/events', 'Events'],
  ['results', '/results', 'Results'],
  ['reviews', '/reviews', 'Reviews'],
] as const;

export type NavKey = (typeof NAV)[number][0] | 'camera' | 'login';

export function page(ctx: PageContext, o: { title: string; nav: NavKey; body: Html; script?: string }): Html {
  const s = ctx.status;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <meta name="csrf-token" content="${ctx.csrf ?? ''}" />
        <title>${o.title} · ${s.site}/${s.line} · adaclip-edge</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/dashboard.css" />
        <script src="/static/dashboard.js" defer></script>
        ${o.script ? html`<script src="/static/${o.script}" defer></script>` : ''}
      </head>
      <body data-can-act="${ctx.canAct ? 'yes' : 'no'}">
        <header class="top">
          <a class="brand" href="/">adaclip-edge</a>
          <span class="where">${s.site} / ${s.line}</span>
          <nav>
            ${NAV.map(([key, href, label]) => html`<a href="${href}" ${key === o.nav ? html` class="current" aria-current="page"` : ''}>${label}</a>`)}
          </nav>
          <span class="spacer"></span>
          <span class="link ${s.mqtt.connected ? 'up' : 'down'}" id="mqtt-state" title="${s.mqtt.url}"
            ><span data-f="mqtt">MQTT ${s.mqtt.connected ? 'connected' : 'DISCONNECTED'}</span>${
              s.mqtt.outboxDepth !== undefined
                ? html` · outbox <span data-f="outbox">${s.mqtt.outboxDepth}</span>`
                : ''
            }</span
          >
          ${who(ctx)}
        </header>
        ${banners(ctx)}
        <div class="provenance" id="provenance">${provenanceLine(s.model)}</div>
        <main>${o.body}</main>
        <div id="toast" role="status" aria-live="polite"></div>
      </body>
    </html> `;
}

function who(ctx: PageContext): Html {
  if (ctx.user)
    return html`<span class="user">${ctx.user.name} <span class="role">${ctx.user.role}</span></span>
      <form method="post" action="/logout" class="inline">
        <input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}" /><button class="ghost" type="submit">
          Sign out
        </button>
      </form>`;
  if (ctx.signInEnabled) return html`<a class="button ghost" href="/login">Sign in</a>`;
  return html``;
}

function banners(ctx: PageContext): Html {
  return html`${
    ctx.auth === 'none'
      ? html`<div class="banner demo" id="banner-auth">
          DEMO MODE: sign-in is off (dashboard.auth: none). Anyone who can open this page can acknowledge,
          review and suspend. Never use this on a production line.
        </div>`
      : ''
  }${
    ctx.readOnly
      ? html`<div class="banner readonly" id="banner-auth">
          READ-ONLY: no users are configured (dashboard.users), so nobody can act here. See docs/dashboard.md
          to add operators.
        </div>`
      : ''
  }${
    ctx.status.model.untrained
      ? html`<div class="banner untrained" id="untrained">
          UNTRAINED MODEL: this bundle has random weights (untrained-test). Its scores mean nothing.
        </div>`
      : ''
  }${
    ctx.status.model.demoNote !== undefined
      ? html`<div class="banner demo-model" id="demo-model">${demoModelLine(ctx.status.model.demoNote)}</div>`
      : ''
  }`;
}

export function provenanceLine(m: ServiceStatus['model']): Html {
  const name = m.bundle.split(/[\\/]/).filter(Boolean).pop() ?? m.bundle;
  return html`model <b>${name}</b> ·
    ${m.provenance}${m.sha256 ? html` · sha256 <code>${m.sha256.slice(0, 12)}</code>` : ''}${
      m.architecture ? ` · ${m.architecture}` : ''
    }${m.checkpoint ? ` · checkpoint ${m.checkpoint}` : ''}
    · ${m.backend} · HSF ${m.hsf}`;
}
