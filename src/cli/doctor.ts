// `adaclip-edge doctor`: what is present and usable, one line each; exits non-zero when the given
// config cannot run. Each check is independent: one failing import never hides the others.
import { createConnection } from 'node:net';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { loadConfigFile, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { redactSecrets } from '../util/redact.js';

export interface DoctorLine {
  name: string;
  ok: boolean;
  detail: string;
  /** A failed required check makes the config unrunnable (exit 1); optional ones only inform. */
  required?: boolean;
  /** Passes, with a warning (printed WARN; the exit code does not change). */
  warn?: boolean;
}

export async function doctorCommand(opts: { config?: string }): Promise<number> {
  const lines: DoctorLine[] = [];
  const add = (l: DoctorLine) => {
    lines.push(l);
    const mark = l.ok ? (l.warn ? 'WARN' : 'ok  ') : l.required ? 'FAIL' : 'no  ';
    // details quote camera URIs, broker addresses and errors: never their passwords
    console.log(`${mark} ${l.name.padEnd(14)} ${redactSecrets(l.detail)}`);
  };
  add({ name: 'node', ok: true, detail: process.version });
  add(
    await check('opencv', true, async () => {
      const cv = (await import('../util/opencv.js')).loadOpenCV();
      return `OpenCV ${cv.version.major}.${cv.version.minor}.${cv.version.revision} (@u4/opencv4nodejs)`;
    }),
  );
  for (const l of await platformLines()) add(l);
  for (const l of await hsfLines()) add(l);
  add(await preprocessLine());

  let cfg: Config | undefined;
  if (opts.config) {
    try {
      cfg = loadConfigFile(opts.config);
      add({
        name: 'config',
        ok: true,
        detail: `${opts.config}: valid, ${cfg.cameras.length} camera(s)`,
        required: true,
      });
    } catch (err) {
      const detail = err instanceof ConfigError ? err.problems.join('; ') : (err as Error).message;
      add({ name: 'config', ok: false, detail: `${opts.config}: ${detail}`, required: true });
    }
  }
  if (cfg) {
    add(
      await check('bundle', true, async () => {
        const { loadBundle } = await import('../model/bundle.js');
        const { demoModelLine, trainingSummary } = await import('../model/demo-note.js');
        const b = await loadBundle(cfg.model.bundle);
        const kind = b.manifest.provenance.kind;
        const what =
          kind === 'untrained-test'
            ? 'UNTRAINED (random weights)'
            : kind === 'synthetic-trained'
              ? `synthetic-trained, ${demoModelLine(b.demoNote ?? '')} (${b.manifest.provenance.training ? trainingSummary(b.manifest.provenance.training) : 'no training record'})`
              : 'checkpoint ' + (b.manifest.provenance.adaclip?.file ?? '');
        return `${cfg.model.bundle}: ${b.manifest.architecture.name} @${b.manifest.imageSize}, ${what}`;
      }),
    );
    add(await stateLine(cfg));
    add(await brokerLine(cfg));
    for (const cam of cfg.cameras) add(sourceLine(cam));
  }
  const failed = lines.filter((l) => l.required && !l.ok);
  if (failed.length) console.log(`\n${failed.length} required check(s) failed: this config cannot run`);
  return failed.length ? 1 : 0;
}

async function check(name: string, required: boolean, fn: () => Promise<string>): Promise<DoctorLine> {
  try {
    return { name, ok: true, detail: await fn(), required };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message.split('\n')[0], required };
  }
}

/** onnxruntime, TensorRT, CUDA and the HSF implementation, from the engines' own probe. */
async function platformLines(): Promise<DoctorLine[]> {
  try {
    const probe = (await import('../engines/probe.js')) as unknown as {
      probePlatform: () => Promise<{ name: string; ok: boolean; detail: string }[]>;
    };
    return (await probe.probePlatform()).map((l) => ({ ...l, required: false }));
  } catch (err) {
    return [
      { name: 'engines', ok: false, detail: `probe unavailable: ${(err as Error).message}`, required: false },
    ];
  }
}

/** Where HSF can run; the service picks the GPU only when the engine's outputs live there. */
async function hsfLines(): Promise<DoctorLine[]> {
  try {
    const { describeHsf } = await import('../hsf/index.js');
    const d = describeHsf();
    const gpuOk = d.gpu.startsWith('available');
    return [
      { name: 'hsf cpu', ok: true, detail: d.cpu },
      {
        name: 'hsf gpu',
        ok: gpuOk,
        detail: gpuOk ? `${d.gpu}; used when the engine keeps its outputs on the GPU` : d.gpu,
      },
    ];
  } catch (err) {
    return [{ name: 'hsf', ok: false, detail: (err as Error).message, required: true }];
  }
}

/** Where frames are resized and normalised: the GPU kernel with a TensorRT engine, else the CPU. */
async function preprocessLine(): Promise<DoctorLine> {
  return check('preprocess', false, async () => {
    const { describePreprocessing } = await import('../engines/preprocess-choice.js');
    const { probeTensorRt } = await import('../engines/probe.js');
    const { loadNodeTensorrt } = await import('../engines/tensorrt.js');
    return describePreprocessing(probeTensorRt(), loadNodeTensorrt()).detail;
  });
}

/**
 * The state directory, as the service's start checks it (src/service/state-check.ts) but without
 * creating anything: writable by this user (or creatable), the free space against what the config
 * lets the service keep there, and whether the outbox on disk can be read. One line.
 */
async function stateLine(cfg: Config): Promise<DoctorLine> {
  const { inspectStateFolders } = await import('../service/state-check.js');
  const s = inspectStateFolders(cfg);
  const name = 'state';
  if (s.problem) return { name, ok: false, detail: s.problem, required: true };
  const user = safeUserName();
  const where = s.createdUnder
    ? `${s.stateDir}: does not exist yet, ${user} may create it in ${s.createdUnder} (the start does)`
    : `${s.stateDir}: writable by ${user}`;
  const free = s.freeBytes ?? 0;
  const low = free < s.neededBytes;
  const space = `${formatBytes(free)} free (${free} bytes)${low ? `, less than the ${formatBytes(s.neededBytes)} the config lets the service keep there (snapshots.maxBytes and a full outbox)` : ''}`;
  let outbox = '';
  if (s.outbox && 'error' in s.outbox) {
    return {
      name,
      ok: false,
      detail: `${where}; ${space}; mqtt.outbox.path: cannot read ${s.outbox.path}: ${s.outbox.error}`,
      required: true,
    };
  }
  if (s.outbox && s.outbox.exists)
    outbox = `; outbox ${s.outbox.path}: ${s.outbox.pending} document(s) waiting for the broker${s.outbox.walNotRead ? ' (not counting its -wal)' : ''}${s.outbox.lost ? `, ${s.outbox.lost} lost so far` : ''}`;
  else if (s.outbox) outbox = `; no outbox yet (${s.outbox.path} is made at the first start)`;
  return { name, ok: true, warn: low, detail: `${where}; ${space}${outbox}`, required: true };
}

function safeUserName(): string {
  try {
    return `${userInfo().username} (uid ${process.getuid?.() ?? '?'})`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Bytes, in the largest binary unit that keeps at least 1 (one decimal). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

async function brokerLine(cfg: Config): Promise<DoctorLine> {
  if (!cfg.mqtt.url) {
    return {
      name: 'broker',
      ok: true,
      detail: `embedded broker will listen on ${cfg.mqtt.embedded.host}:${cfg.mqtt.embedded.port}`,
    };
  }
  const u = new URL(cfg.mqtt.url);
  const secure = u.protocol === 'mqtts:' || u.protocol === 'wss:' || u.protocol === 'ssl:';
  const port = Number(u.port || (secure ? 8883 : 1883));
  const ok = await new Promise<string | undefined>((resolve) => {
    const s = createConnection({ host: u.hostname, port, timeout: 3000 });
    s.once('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve('timed out after 3 s');
    });
    s.once('error', (e) => resolve(e.message));
  });
  return {
    name: 'broker',
    ok: ok === undefined,
    detail:
      ok === undefined
        ? `${u.host} reachable (TCP)`
        : `${u.host} unreachable: ${ok} (events wait in the outbox)`,
    required: false,
  };
}

function sourceLine(cam: Config['cameras'][number]): DoctorLine {
  const src = cam.source.kind === 'trigger' ? cam.source.inner : cam.source;
  const name = `camera ${cam.id}`;
  if (src.kind === 'folder') {
    const ok = existsSync(src.path);
    return {
      name,
      ok,
      detail: ok ? `folder ${src.path}` : `folder ${src.path} does not exist`,
      required: true,
    };
  }
  if (src.kind === 'videocapture')
    return {
      name,
      ok: true,
      detail: `videocapture ${redactSecrets(String(src.uri))} (opened at run time, retried with backoff)`,
    };
  return { name, ok: true, detail: `${src.kind} source` };
}
