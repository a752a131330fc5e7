// Checks a request's Host and Origin before anything else reads it.
// - Host: a page on another site could make its own name resolve to this machine (DNS rebinding)
//   and read the dashboard as a same-origin page. Such a request carries that site's name as its
//   Host, never an IP address: so IP literals, localhost, this machine's name and
//   dashboard.allowedHosts pass, any other name is refused ("*" turns the check off).
// - Origin: a state change (POST ...) sent by a browser names the page that sent it; it must be
//   this dashboard. Browsers that send no Origin send Sec-Fetch-Site; a client that sends neither
//   (curl, a PLC gateway) is not a browser page and passes here (login and CSRF still apply).
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export class RequestGuard {
  private readonly names: Set<string>;
  private readonly anyHost: boolean;

  constructor(allowedHosts: readonly string[], machineName = hostname()) {
    this.anyHost = allowedHosts.includes('*');
    const m = machineName.toLowerCase();
    this.names = new Set(['localhost', m, `${m}.local`, ...allowedHosts.map((h) => h.toLowerCase())]);
  }

  /** Why the Host header is refused, or undefined when it is fine. */
  hostRefusal(host: string | undefined): string | undefined {
    if (this.anyHost) return undefined;
    if (!host) return 'request without a Host header';
    const name = hostName(host);
    if (name === undefined) return `malformed Host header ${JSON.stringify(host.slice(0, 100))}`;
    if (isIP(name) !== 0 || this.names.has(name) || name.endsWith('.localhost')) return undefined;
    return `host ${JSON.stringify(name)} is not allowed: add it to dashboard.allowedHosts`;
  }

  /** Why a state-changing request is refused as cross-site, or undefined when it is same-site. */
  crossSiteRefusal(h: { host?: string; origin?: string; secFetchSite?: string }): string | undefined {
    if (h.origin !== undefined) {
      let url: URL;
      try {
        url = new URL(h.origin);
      } catch {
        return `cross-site request refused (Origin ${JSON.stringify(h.origin.slice(0, 100))})`;
      }
      const same =
        (url.protocol === 'http:' || url.protocol === 'https:') && url.host === (h.host ?? '').toLowerCase();
      return same ? undefined : `cross-site request refused (Origin ${url.origin})`;
    }
    if (h.secFetchSite !== undefined && h.secFetchSite !== 'same-origin' && h.secFetchSite !== 'none')
      return `cross-site request refused (Sec-Fetch-Site: ${h.secFetchSite.slice(0, 30)})`;
    return undefined;
  }
}

/** The host name of a Host header ("[::1]:8080" -> "::1"), lower case, or undefined when malformed. */
export function hostName(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
  if (v6) return v6[1];
  const m = /^([a-z0-9.-]{1,253})(?::\d{1,5})?$/.exec(h);
  return m ? m[1] : undefined;
}
