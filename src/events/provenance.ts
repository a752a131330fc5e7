// Model provenance carried by every event: which exact model (sha256 of model.onnx) and which
// checkpoints produced the score, and whether the weights were random (an untrained test bundle).
import type { Manifest } from '../model/manifest.js';

export interface CheckpointRef {
  file: string;
  sha256: string;
}

export interface ModelProvenance {
  /** sha256 of the bundle's model.onnx, as recorded in manifest.json. */
  bundleSha256: string;
  /** The manifest's version (export.py --bundle-version), or "unversioned". */
  version: string;
  kind: 'checkpoint' | 'untrained-test';
  /** True when the weights are random: scores carry no meaning. */
  untrained: boolean;
  architecture: string;
  imageSize: number;
  /** Whether Hybrid Semantic Fusion contributed to the score. */
  hsf: boolean;
  checkpoints: { clip?: CheckpointRef; adaclip?: CheckpointRef };
}

/** The version of a bundle whose manifest names none. */
export const UNVERSIONED = 'unversioned';

export function provenanceFromManifest(manifest: Manifest, opts: { hsf: boolean }): ModelProvenance {
  const onnx = manifest.files[manifest.onnx.file];
  if (!onnx) throw new Error(`manifest.json lists no sha256 for its model file "${manifest.onnx.file}"`);
  const p = manifest.provenance;
  const checkpoints: ModelProvenance['checkpoints'] = {};
  if (p.clip) checkpoints.clip = { file: p.clip.file, sha256: p.clip.sha256 };
  if (p.adaclip) checkpoints.adaclip = { file: p.adaclip.file, sha256: p.adaclip.sha256 };
  return {
    bundleSha256: onnx.sha256,
    version: manifest.version ?? UNVERSIONED,
    kind: p.kind,
    untrained: p.kind === 'untrained-test',
    architecture: manifest.architecture.name,
    imageSize: manifest.imageSize,
    hsf: opts.hsf,
    checkpoints,
  };
}
