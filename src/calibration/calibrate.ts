// Scores a folder of good images with the service's model stages (a camera's ROI and rotation
// applied when given) and proposes thresholds from them (rule.ts). Any unreadable image stops it,
// named: thresholds from part of the folder would not be what the user asked for.
import { existsSync, statSync } from 'node:fs';
import type { Calibration, ModelConfig } from '../config/schema.js';
import { listImages } from '../eval/mvtec-layout.js';
import { Progress } from '../eval/progress.js';
import { openScorer, scoreFiles } from '../eval/scorer.js';
import type { FrameView } from '../preprocess/preprocess.js';
import type { Logger } from '../util/log.js';
import { proposeThresholds, type CalibrationProposal } from './rule.js';

export class CalibrationInputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'CalibrationInputError';
  }
}

export interface CalibrateOptions {
  goodDir: string;
  className: string;
  model: ModelConfig;
  view?: FrameView;
  targetFpr?: number;
  marginSigmas?: number;
  logger: Logger;
  progress?: (line: string) => void;
}

export interface CalibrationResult {
  proposal: CalibrationProposal;
  /** What goes into the camera's config and state. */
  record: Calibration;
  /** demoModel: a synthetic-trained bundle's note ("trained on the synthetic line only, ..."). */
  bundle: { dir: string; provenance: string; untrained: boolean; demoModel?: string };
  hsf: string;
  /** Files skipped because their extension is not an image's. */
  ignoredFiles: string[];
}

export async function calibrate(o: CalibrateOptions): Promise<CalibrationResult> {
  if (!existsSync(o.goodDir) || !statSync(o.goodDir).isDirectory())
    throw new CalibrationInputError([`${o.goodDir}: not a folder of good images`]);
  const ignored: string[] = [];
  const files = listImages(o.goodDir, ignored);
  if (files.length === 0)
    throw new CalibrationInputError([
      `${o.goodDir}: no images (png, jpg, jpeg, bmp, tif, tiff) in this folder`,
    ]);
  const scorer = await openScorer(o.model, o.logger);
  const scores: number[] = [];
  const maxima: number[] = [];
  const problems: string[] = [];
  try {
    const progress = new Progress('calibrate', files.length, o.progress);
    await scoreFiles(scorer, files, {
      className: o.className,
      view: o.view,
      onError: (_, _file, message) => {
        problems.push(message);
        progress.add();
      },
      onImage: ({ result, smoothed }) => {
        progress.add();
        scores.push(result.score);
        let max = -Infinity;
        for (let i = 0; i < smoothed.length; i++) if (smoothed[i] > max) max = smoothed[i];
        maxima.push(max);
      },
    });
  } finally {
    await scorer.close();
  }
  if (problems.length) throw new CalibrationInputError(problems);
  const proposal = proposeThresholds({
    imageScores: scores,
    pixelMaxima: maxima,
    targetFpr: o.targetFpr,
    marginSigmas: o.marginSigmas,
  });
  return {
    proposal,
    record: {
      at: new Date().toISOString(),
      images: proposal.images,
      rule: proposal.rule,
      targetFpr: proposal.targetFpr,
      falseAlarmRate: proposal.image.rate,
      bundle: o.model.bundle,
    },
    bundle: {
      dir: scorer.bundle.dir,
      provenance: scorer.bundle.manifest.provenance.kind,
      untrained: scorer.bundle.untrained,
      ...(scorer.bundle.demoNote !== undefined && { demoModel: scorer.bundle.demoNote }),
    },
    hsf: scorer.hsf ? scorer.hsf.kind : 'off',
    ignoredFiles: ignored,
  };
}
