// OpenCV opens a capture synchronously, on the event loop: a camera that is off or unplugged would
// stall every other camera, MQTT and the dashboard for each reconnect attempt, up to FFmpeg's timeout
// (and without one for some GStreamer sources). So before opening a network stream we check, off
// the event loop, that its host accepts a TCP connection: a dead camera then fails in milliseconds
// and the supervisor backs off. What is left blocking is a host that accepts TCP and then does not
// answer, bounded by the FFmpeg timeout (videocapture.ts).
import { connect } from 'node:net';

const DEFAULT_PORTS: Record<string, number> = { rtsp: 554, rtsps: 322, http: 80, https: 443, rtmp: 1935 };

/** host and port of a stream URL, or of the location= of a GStreamer pipeline; undefined if none. */
export function streamEndpoint(uri: string): { host: string; port: number } | undefined {
  const url = uri.includes('!') ? /location=("?)([a-z][a-z0-9+.-]*:\/\/[^\s"!]+)\1/i.exec(uri)?.[2] : uri;
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[scheme];
  if (!port || !parsed.hostname) return undefined;
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
}

/** Resolves when host:port accepts a TCP connection within timeoutMs; rejects saying why not. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP connection to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`TCP connection to ${host}:${port} failed: ${err.code ?? err.message}`));
    });
  });
}
