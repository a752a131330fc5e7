// The TensorRT engine cache: build an engine from a bundle's model.onnx with trtexec and cache it
// beside the bundle, keyed by everything that makes an engine valid (ONNX bytes, TensorRT version,
// GPU, precision, shape profile). The tensorrt backend (select.ts) calls ensureEngine(): reuse when
// the key matches, else build; `adaclip-edge build-engine` (cli/build-engine.ts) calls either.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '../model/bundle.js';
import { IO, type Manifest } from '../model/manifest.js';
import {
  TRTEXEC_FALLBACK,
  findTrtexec,
  parseTrtexecVersion,
  runCapture,
  runTrtexec,
  trtexecArgs,
  type Precision,
  type ShapeProfile,
} from './trtexec.js';

/** The facts of this device that an engine is bound to. */
export interface DeviceFacts {
  /** "10.3.0" */
  tensorrtVersion: string;
  /** CUDA device name, e.g. "Orin" */
  gpuName: string;
}

export interface EngineKeyParts {
  onnxSha256: string;
  tensorrtVersion: string;
  gpuName: string;
  precision: Precision;
  profile: ShapeProfile;
}

export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface BuildEngineOptions {
  bundle: Pick<Bundle, 'dir' | 'manifest' | 'onnxPath'>;
  precision?: Precision;
  minBatch?: number;
  /** Default: maxBatch (the batch the pipeline fills under load). */
  optBatch?: number;
  maxBatch?: number;
  workspaceMiB?: number;
  /** Where <key>.plan and <key>.json go; default <bundle>/engines. */
  cacheDir?: string;
  /** trtexec to run; default: $TRTEXEC, PATH, then /usr/src/tensorrt/bin/trtexec. */
  trtexec?: string;
  /** TensorRT version and GPU name; default: asked from the node-tensorrt addon, then trtexec. */
  facts?: DeviceFacts;
  logger?: EngineLogger;
  /** Called with each trtexec output line and every `heartbeatMs` with the elapsed time. */
  onProgress?: (p: { elapsedS: number; line?: string }) => void;
  heartbeatMs?: number;
}

export interface EngineBuildResult {
  enginePath: string;
  metaPath: string;
  key: string;
  parts: EngineKeyParts;
  /** true when a cached engine matched and nothing was built */
  reused: boolean;
  buildSeconds?: number;
}

export class EngineBuildError extends Error {
  override name = 'EngineBuildError';
}

// ----- Key ------------------------------------------------------------------------------------------

/** Stable key: sha256 over the parts in a fixed order; any change in one part gives another engine. */
export function engineKey(parts: EngineKeyParts): string {
  const canonical = JSON.stringify([
    parts.onnxSha256,
    parts.tensorrtVersion,
    parts.gpuName,
    parts.precision,
    ...(['min', 'opt', 'max'] as const).map((k) =>
      Object.entries(parts.profile[k]).sort(([a], [b]) => a.localeCompare(b)),
    ),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The bundle's own hash of model.onnx when it lists one, else hashed now. */
async function onnxSha256(bundle: BuildEngineOptions['bundle']): Promise<string> {
  const entry = bundle.manifest.files[bundle.manifest.onnx.file];
  return entry?.sha256 ?? sha256File(bundle.onnxPath);
}

// ----- Shapes ---------------------------------------------------------------------------------------

/**
 * The dynamic-shape profile for image [B,3,S,S] and tokens [B,Q,T]: B in minBatch..maxBatch, Q fixed
 * by the manifest's prompt ensemble, T from SOT + learnable prompt tokens + EOT up to the context
 * length (the service cuts T to the longest sentence of the class, so it varies per class).
 */
export function shapeProfile(m: Manifest, batch: { min: number; opt: number; max: number }): ShapeProfile {
  const S = m.imageSize;
  const Q = (m.prompts.normalStates.length + m.prompts.abnormalStates.length) * m.prompts.templates.length;
  const maxT = m.architecture.text.contextLength;
  const minT = Math.min(maxT, m.adaclip.promptLength + 2);
  const at = (b: number, t: number) => ({ [IO.image]: [b, 3, S, S], [IO.tokens]: [b, Q, t] });
  return { min: at(batch.min, minT), opt: at(batch.opt, maxT), max: at(batch.max, maxT) };
}

// ----- Device facts ---------------------------------------------------------------------------------

/** TensorRT version and GPU name from the addon (the runtime that will load the engine). */
async function deviceFacts(trtexec: string): Promise<DeviceFacts> {
  const { loadNodeTensorrt } = await import('./tensorrt.js');
  const load = loadNodeTensorrt();
  const why: string[] = [];
  let tensorrtVersion: string | undefined;
  let gpuName: string | undefined;
  if (load.ok) {
    const trt = load.addon.loadTensorRt();
    if (trt.ok) tensorrtVersion = trt.version;
    else why.push(trt.error);
    const cuda = load.addon.cudaDevices();
    if (cuda.ok && cuda.devices.length > 0) gpuName = cuda.devices[0].name;
    else why.push(cuda.ok ? 'no CUDA device' : cuda.error);
  } else {
    why.push(load.reason);
  }
  if (!tensorrtVersion) {
    const banner = await runCapture(trtexec, ['--help']).catch((e: Error) => e.message);
    tensorrtVersion = parseTrtexecVersion(banner);
  }
  if (!tensorrtVersion || !gpuName) {
    throw new EngineBuildError(
      `cannot tell the TensorRT version and GPU this engine is for: ${why.join('; ')}`,
    );
  }
  return { tensorrtVersion, gpuName };
}

// ----- Build and cache ------------------------------------------------------------------------------

interface Resolved {
  trtexec: string;
  parts: EngineKeyParts;
  key: string;
  cacheDir: string;
  enginePath: string;
  metaPath: string;
  precision: Precision;
  workspaceMiB?: number;
}

async function resolveBuild(opts: BuildEngineOptions): Promise<Resolved> {
  const trtexec = opts.trtexec ?? findTrtexec();
  if (!trtexec) {
    throw new EngineBuildError(
      `trtexec not found (looked at $TRTEXEC, PATH and ${TRTEXEC_FALLBACK}): install TensorRT (JetPack: nvidia-tensorrt) ` +
        'or use the onnxruntime backend',
    );
  }
  const precision = opts.precision ?? 'fp16';
  const maxBatch = opts.maxBatch ?? 4;
  const minBatch = opts.minBatch ?? 1;
  const optBatch = opts.optBatch ?? maxBatch;
  for (const [name, v] of Object.entries({ maxBatch, minBatch, optBatch })) {
    if (!Number.isInteger(v) || v < 1)
      throw new EngineBuildError(`${name} must be a positive integer, got ${v}`);
  }
  if (!(minBatch <= optBatch && optBatch <= maxBatch)) {
    throw new EngineBuildError(
      `batch range must satisfy min <= opt <= max, got ${minBatch} <= ${optBatch} <= ${maxBatch}`,
    );
  }
  if (!existsSync(opts.bundle.onnxPath)) throw new EngineBuildError(`${opts.bundle.onnxPath} does not exist`);
  const facts = opts.facts ?? (await deviceFacts(trtexec));
  const parts: EngineKeyParts = {
    onnxSha256: await onnxSha256(opts.bundle),
    tensorrtVersion: facts.tensorrtVersion,
    gpuName: facts.gpuName,
    precision,
    profile: shapeProfile(opts.bundle.manifest, { min: minBatch, opt: optBatch, max: maxBatch }),
  };
  const key = engineKey(parts);
  const cacheDir = opts.cacheDir ?? join(opts.bundle.dir, 'engines');
  return {
    trtexec,
    parts,
    key,
    cacheDir,
    enginePath: join(cacheDir, `${key}.plan`),
    metaPath: join(cacheDir, `${key}.json`),
    precision,
    workspaceMiB: opts.workspaceMiB,
  };
}

/** The cached engine for these options, if its metadata says it was built for the same key. */
function cachedEngine(r: Resolved): boolean {
  if (!existsSync(r.enginePath) || !existsSync(r.metaPath)) return false;
  try {
    const meta = JSON.parse(readFileSync(r.metaPath, 'utf8')) as { key?: string };
    return meta.key === r.key && statSync(r.enginePath).size > 0;
  } catch {
    return false;
  }
}

/** Always builds (the `build-engine --force` path); writes <key>.plan and <key>.json atomically. */
export async function buildEngine(opts: BuildEngineOptions): Promise<EngineBuildResult> {
  return build(await resolveBuild(opts), opts);
}

/** Reuses the cached engine when its key matches, builds it otherwise. */
export async function ensureEngine(opts: BuildEngineOptions): Promise<EngineBuildResult> {
  const r = await resolveBuild(opts);
  if (cachedEngine(r)) {
    opts.logger?.info({ engine: r.enginePath, key: r.key }, 'TensorRT engine: reusing the cached engine');
    return { enginePath: r.enginePath, metaPath: r.metaPath, key: r.key, parts: r.parts, reused: true };
  }
  return build(r, opts);
}

async function build(r: Resolved, opts: BuildEngineOptions): Promise<EngineBuildResult> {
  mkdirSync(r.cacheDir, { recursive: true });
  // trtexec writes to a temporary name: a killed build never leaves a half engine under the key.
  const partial = `${r.enginePath}.partial`;
  rmSync(partial, { force: true });
  const args = trtexecArgs({
    onnxPath: opts.bundle.onnxPath,
    enginePath: partial,
    timingCachePath: join(r.cacheDir, 'timing.cache'),
    precision: r.precision,
    profile: r.parts.profile,
    workspaceMiB: r.workspaceMiB,
  });
  const log = opts.logger;
  log?.info(
    {
      trtexec: r.trtexec,
      key: r.key,
      precision: r.precision,
      gpu: r.parts.gpuName,
      tensorrt: r.parts.tensorrtVersion,
    },
    'TensorRT engine: building (several minutes on a Jetson; progress follows)',
  );
  const t0 = Date.now();
  const elapsedS = () => Math.round((Date.now() - t0) / 1000);
  let lastLine = '';
  const heartbeat = setInterval(() => {
    opts.onProgress?.({ elapsedS: elapsedS() });
    log?.info({ elapsedS: elapsedS(), last: lastLine }, 'TensorRT engine: still building');
  }, opts.heartbeatMs ?? 15000);
  const { code, tail } = await runTrtexec(r.trtexec, args, (line) => {
    lastLine = line;
    log?.debug?.({ trtexec: line });
    opts.onProgress?.({ elapsedS: elapsedS(), line });
  })
    .catch((e: Error) => {
      throw new EngineBuildError(`cannot run ${r.trtexec}: ${e.message}`);
    })
    .finally(() => clearInterval(heartbeat));
  if (code !== 0 || !existsSync(partial) || statSync(partial).size === 0) {
    rmSync(partial, { force: true });
    const errors = tail.filter((l) => /error|fail/i.test(l)).slice(-5);
    throw new EngineBuildError(
      `trtexec failed (exit ${code}) building ${opts.bundle.onnxPath}: ${(errors.length ? errors : tail.slice(-3)).join(' | ')}`,
    );
  }
  renameSync(partial, r.enginePath);
  const buildSeconds = (Date.now() - t0) / 1000;
  const meta = {
    key: r.key,
    ...r.parts,
    onnx: opts.bundle.onnxPath,
    trtexec: r.trtexec,
    args: trtexecArgs({
      onnxPath: opts.bundle.onnxPath,
      enginePath: r.enginePath,
      timingCachePath: join(r.cacheDir, 'timing.cache'),
      precision: r.precision,
      profile: r.parts.profile,
      workspaceMiB: r.workspaceMiB,
    }),
    buildSeconds,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(`${r.metaPath}.partial`, JSON.stringify(meta, null, 2) + '\n');
  renameSync(`${r.metaPath}.partial`, r.metaPath);
  log?.info({ engine: r.enginePath, seconds: Math.round(buildSeconds) }, 'TensorRT engine: built');
  return {
    enginePath: r.enginePath,
    metaPath: r.metaPath,
    key: r.key,
    parts: r.parts,
    reused: false,
    buildSeconds,
  };
}
