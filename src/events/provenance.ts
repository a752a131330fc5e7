// Model provenance carried by every event: which exact model (sha256 of model.onnx) and which
// checkpoints produced the score, whether the weights were random (an untrained test bundle), and for
// a demo model trained on the synthetic line (synthetic-trained) what it was trained on and its note.
import type { Manifest, ProvenanceKind } from '../model/manifest.js';

export interface CheckpointRef {
  file: string;
  sha256: string;
}

export interface ModelProvenance {
  /** sha256 of the bundle's model.onnx, as recorded in manifest.json. */
  bundleSha256: string;
  /** The manifest's version (export.py --bundle-version), or "unversioned". */
  version: string;
  kind: ProvenanceKind;
  /** True when the weights are random: scores carry no meaning. */
  untrained: boolean;
  /** synthetic-trained only (since 1.2): what it was trained on, from its training record. */
  training?: ModelTraining;
  architecture: string;
  imageSize: number;
  /** Whether Hybrid Semantic Fusion contributed to the score. */
  hsf: boolean;
  checkpoints: { clip?: CheckpointRef; adaclip?: CheckpointRef };
}

/** A synthetic-trained model's training, as events and results carry it. */
export interface ModelTraining {
  /** "trained on the synthetic line only, not the released AdaCLIP weights" */
  note: string;
  kinds: string[];
  trainSeeds: number[];
  steps: number;
  /** Seconds of the training loop. */
  trainingSeconds: number;
  /** sha256 of the training record (models/train/weights/NAME.json). */
  recordSha256: string;
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
    ...(p.kind === 'synthetic-trained' &&
      p.training && {
        training: {
          note: p.training.note,
          kinds: [...p.training.kinds],
          trainSeeds: [...p.training.trainSeeds],
          steps: p.training.steps,
          trainingSeconds: p.training.seconds.training,
          recordSha256: p.training.sha256,
        },
      }),
  };
}
