// Loads a model bundle (docs/model-bundle.md) and refuses one that does not match its manifest:
// unreadable or invalid manifest.json, a missing file, a wrong size or sha256, IO names, dtypes or
// shapes that differ from the contract. Every error names the bundle and the problem.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { demoNoteOf } from './demo-note.js';
import { IO, manifestSchema, type Manifest } from './manifest.js';
import { ClipTokenizer } from './tokenizer.js';

export interface Bundle {
  dir: string;
  manifest: Manifest;
  onnxPath: string;
  vocabPath: string;
  tokenizer: ClipTokenizer;
  /** Random weights: scores mean nothing, and every output must say so. */
  untrained: boolean;
  /**
   * A demo model trained on the synthetic line only (provenance synthetic-trained): the note every
   * output shows ("trained on the synthetic line only, not the released AdaCLIP weights").
   */
  demoNote?: string;
  /** K = min(grid^2, hsf.topK), L = output layers: derived sizes used everywhere. */
  topK: number;
  layers: number;
}

export interface LoadBundleOptions {
  /** Hash every file (default true; seconds for a ViT-L bundle). Sizes are always checked. */
  verifyHashes?: boolean;
}

export class BundleError extends Error {
  constructor(dir: string, problem: string) {
    super(`model bundle ${dir}: ${problem}`);
    this.name = 'BundleError';
  }
}

type Dim = number | 'batch' | 'sentences' | 'context';
type Spec = { dtype: string; shape: Dim[] };

/** The IO contract of docs/model-bundle.md for this manifest's sizes. */
export function expectedIo(m: Manifest): { inputs: Record<string, Spec>; outputs: Record<string, Spec> } {
  const S = m.imageSize;
  const D = m.architecture.embedDim;
  const K = Math.min(m.grid * m.grid, m.hsf.topK);
  const L = m.adaclip.outputLayers.length;
  return {
    inputs: {
      [IO.image]: { dtype: 'float32', shape: ['batch', 3, S, S] },
      [IO.tokens]: { dtype: 'int64', shape: ['batch', 'sentences', 'context'] },
    },
    outputs: {
      [IO.anomalyMap]: { dtype: 'float32', shape: ['batch', S, S] },
      [IO.globalFeature]: { dtype: 'float32', shape: ['batch', D] },
      [IO.textFeatures]: { dtype: 'float32', shape: ['batch', 2, D] },
      [IO.hsfIndices]: { dtype: 'int64', shape: ['batch', K] },
      [IO.hsfTokens]: { dtype: 'float32', shape: ['batch', K, L, D] },
    },
  };
}

function checkSpecs(
  dir: string,
  side: 'input' | 'output',
  actual: Manifest['onnx']['inputs'],
  expected: Record<string, Spec>,
): void {
  const names = actual.map((t) => t.name);
  for (const name of Object.keys(expected)) {
    if (!names.includes(name)) {
      throw new BundleError(dir, `manifest onnx.${side}s lacks "${name}" (has ${JSON.stringify(names)})`);
    }
  }
  for (const t of actual) {
    const want = expected[t.name];
    if (!want) throw new BundleError(dir, `manifest onnx.${side}s has unknown ${side} "${t.name}"`);
    if (t.dtype !== want.dtype) {
      throw new BundleError(dir, `${side} "${t.name}" has dtype ${t.dtype}, the contract says ${want.dtype}`);
    }
    const fits =
      t.shape.length === want.shape.length &&
      want.shape.every((w, i) => {
        const a = t.shape[i];
        if (w === 'batch') return typeof a === 'string'; // the batch must stay dynamic
        if (typeof w === 'string') return true; // sentences/context: fixed or symbolic
        return a === w;
      });
    if (!fits) {
      throw new BundleError(
        dir,
        `${side} "${t.name}" has shape ${JSON.stringify(t.shape)}, the contract says ${JSON.stringify(want.shape)}`,
      );
    }
  }
}

function parseManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new BundleError(dir, 'manifest.json is missing');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new BundleError(dir, `manifest.json is not valid JSON (${(err as Error).message})`);
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== undefined && version !== 1) {
    throw new BundleError(
      dir,
      `manifest formatVersion ${JSON.stringify(version)} is not supported (this build reads 1)`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new BundleError(dir, `manifest.json is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function checkFiles(dir: string, m: Manifest, verifyHashes: boolean): Promise<void> {
  for (const required of [m.onnx.file, m.tokenizer.vocab]) {
    if (!(required in m.files)) throw new BundleError(dir, `manifest files{} has no entry for ${required}`);
  }
  for (const [name, entry] of Object.entries(m.files)) {
    if (name.includes('..') || name.startsWith('/'))
      throw new BundleError(dir, `file name ${name} leaves the bundle`);
    const path = join(dir, name);
    if (!existsSync(path)) throw new BundleError(dir, `file ${name} is missing`);
    const bytes = statSync(path).size;
    if (bytes !== entry.bytes) {
      throw new BundleError(dir, `file ${name} is ${bytes} bytes, the manifest says ${entry.bytes}`);
    }
    if (verifyHashes) {
      const actual = await sha256File(path);
      if (actual !== entry.sha256) {
        throw new BundleError(dir, `file ${name} has sha256 ${actual}, the manifest says ${entry.sha256}`);
      }
    }
  }
}

function checkSizes(dir: string, m: Manifest): void {
  const { patchSize } = m.architecture.vision;
  if (m.imageSize % patchSize !== 0 || m.imageSize / patchSize !== m.grid) {
    throw new BundleError(dir, `grid ${m.grid} does not equal imageSize ${m.imageSize} / patch ${patchSize}`);
  }
  if (m.hsf.kClusters > Math.min(m.grid * m.grid, m.hsf.topK)) {
    throw new BundleError(
      dir,
      `hsf.kClusters ${m.hsf.kClusters} exceeds the ${Math.min(m.grid ** 2, m.hsf.topK)} selected tokens`,
    );
  }
}

export async function loadBundle(dirArg: string, opts: LoadBundleOptions = {}): Promise<Bundle> {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BundleError(dir, 'not a folder');
  const manifest = parseManifest(dir);
  checkSizes(dir, manifest);
  const io = expectedIo(manifest);
  checkSpecs(dir, 'input', manifest.onnx.inputs, io.inputs);
  checkSpecs(dir, 'output', manifest.onnx.outputs, io.outputs);
  await checkFiles(dir, manifest, opts.verifyHashes ?? true);
  const vocabPath = join(dir, manifest.tokenizer.vocab);
  let tokenizer: ClipTokenizer;
  try {
    tokenizer = ClipTokenizer.fromFile(vocabPath);
  } catch (err) {
    throw new BundleError(dir, (err as Error).message);
  }
  if (tokenizer.sot !== manifest.tokenizer.sot || tokenizer.eot !== manifest.tokenizer.eot) {
    throw new BundleError(
      dir,
      `tokenizer SOT/EOT ${manifest.tokenizer.sot}/${manifest.tokenizer.eot} in the manifest, but the vocabulary gives ${tokenizer.sot}/${tokenizer.eot}`,
    );
  }
  if (manifest.provenance.kind === 'checkpoint' && manifest.tokenizer.bytesOnly) {
    throw new BundleError(
      dir,
      'a trained checkpoint bundle must carry the real BPE vocabulary, not a bytes-only one',
    );
  }
  const demoNote = demoNoteOf(manifest.provenance);
  return {
    dir,
    manifest,
    onnxPath: join(dir, manifest.onnx.file),
    vocabPath,
    tokenizer,
    untrained: manifest.provenance.kind === 'untrained-test',
    ...(demoNote !== undefined && { demoNote }),
    topK: Math.min(manifest.grid * manifest.grid, manifest.hsf.topK),
    layers: manifest.adaclip.outputLayers.length,
  };
}

/** The IO metadata an onnxruntime session reports (names always; types and shapes where available). */
export interface SessionIo {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly unknown[];
  outputMetadata?: readonly unknown[];
}

const ORT_TYPES: Record<string, string> = {
  float32: 'float32',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
};

/** Checks a created session against the manifest: names, and dtypes/ranks/fixed dims when reported. */
export function checkSessionIo(bundle: Pick<Bundle, 'dir' | 'manifest'>, session: SessionIo): void {
  const { dir, manifest } = bundle;
  const io = expectedIo(manifest);
  for (const [side, names, expected, meta] of [
    ['input', session.inputNames, io.inputs, session.inputMetadata],
    ['output', session.outputNames, io.outputs, session.outputMetadata],
  ] as const) {
    for (const name of Object.keys(expected)) {
      if (!names.includes(name)) {
        throw new BundleError(dir, `model.onnx has no ${side} "${name}" (it has ${JSON.stringify(names)})`);
      }
    }
    for (const entry of meta ?? []) {
      const m = entry as { name?: string; isTensor?: boolean; type?: string; shape?: (number | string)[] };
      const want = m.name ? expected[m.name] : undefined;
      if (!want || !m.isTensor) continue;
      if (m.type && ORT_TYPES[m.type] && m.type !== want.dtype) {
        throw new BundleError(
          dir,
          `model.onnx ${side} "${m.name}" is ${m.type}, the contract says ${want.dtype}`,
        );
      }
      if (m.shape && m.shape.length > 0) {
        const ok =
          m.shape.length === want.shape.length &&
          want.shape.every(
            (w, i) => typeof w === 'string' || typeof m.shape![i] !== 'number' || m.shape![i] === w,
          );
        const dynamicBatch = typeof m.shape[0] !== 'number' || m.shape[0] < 0;
        if (!ok || !dynamicBatch) {
          throw new BundleError(
            dir,
            `model.onnx ${side} "${m.name}" has shape ${JSON.stringify(m.shape)}, the contract says ${JSON.stringify(want.shape)}`,
          );
        }
      }
    }
  }
}
