// The real preprocess, engine and HSF stages for the pipeline: plain functions over the model
// bundle, the engine and the HSF runner. The pipeline (src/pipeline) decides when they run.
import type { CameraConfig, ModelConfig } from '../config/schema.js';
import type { Engine, EngineOutput } from '../engines/engine.js';
import { provenanceFromManifest, type ModelProvenance } from '../events/provenance.js';
import { createHsfRunner } from '../hsf/index.js';
import type { HsfRunner } from '../hsf/types.js';
import type { Bundle } from '../model/bundle.js';
import { PromptTokenCache } from '../model/prompts.js';
import { RegionMapper } from '../postprocess/region-map.js';
import { scoreBatch } from '../postprocess/score.js';
import { DeviceFramePreparer } from '../preprocess/device.js';
import { Preprocessor, type FrameView } from '../preprocess/preprocess.js';
import type { ImageTensor } from '../preprocess/tensor.js';
import type { Frame } from '../sources/frame.js';
import type { FrameJob } from '../pipeline/stages.js';
import type { Logger } from '../util/log.js';

/** What the model says about one frame: the input of the decision stage. */
export interface ModelResult {
  score: number;
  scoreWithoutHsf: number;
  /** Anomaly map float32 [S,S] before smoothing. */
  map: Float32Array;
  /**
   * Smoothed map (gaussian sigma 4, as the official evaluation), when fuse smoothed it whole;
   * smoothed(result) makes it on demand (snapshots).
   */
  mapSmoothed?: Float32Array;
  /**
   * The map regions are extracted from: the smoothed values wherever the camera's pixel threshold
   * can be reached, the raw map elsewhere, where neither reaches it (region-map.ts).
   */
  regionMap: Float32Array;
  mapSize: number;
  source: ImageTensor['source'];
  /** The class name the prompts were built from. */
  className: string;
  /** The model that scored it (a bundle swap changes it between two batches). */
  model: ModelProvenance;
}

export interface BatchOut {
  out: EngineOutput;
  tensors: ImageTensor[];
  classNames: string[];
  /** Per image; -Infinity smooths every map. */
  pixelThresholds?: number[];
}

export class ModelStages {
  private readonly pre: Preprocessor;
  /** Set when the engine preprocesses frames on the GPU (TensorRT with node-tensorrt's kernels). */
  private readonly onDevice?: DeviceFramePreparer;
  private readonly prompts: PromptTokenCache;
  private readonly regions: RegionMapper;
  private readonly S: number;
  /** The bundle's identity, stamped on every result of these stages. */
  readonly provenance: ModelProvenance;

  constructor(
    private readonly bundle: Bundle,
    private readonly engine: Engine,
    private readonly hsf: HsfRunner | undefined,
    /** The live class name of a camera (changed at run time by commands). */
    private readonly classNameOf: (cameraId: string) => string,
    /** The live pixel threshold of a camera; smoothing is skipped where it cannot matter. */
    private readonly pixelThresholdOf: (cameraId: string) => number = () => -Infinity,
    /** Class names whose prompt tokens are kept (model.classNameCacheSize). */
    classNameCacheSize?: number,
  ) {
    const m = bundle.manifest;
    this.S = m.imageSize;
    this.provenance = provenanceFromManifest(m, { hsf: hsf !== undefined });
    this.pre = new Preprocessor({
      size: this.S,
      mean: m.normalize.mean as [number, number, number],
      std: m.normalize.std as [number, number, number],
    });
    if (engine.info.takesFrames)
      this.onDevice = new DeviceFramePreparer(this.S, m.normalize.mean, m.normalize.std);
    this.prompts = new PromptTokenCache(bundle.tokenizer, m.prompts, classNameCacheSize);
    this.regions = new RegionMapper(this.S, { sigma: 4, truncate: 4 });
  }

  /** Tokenises a class name now, so a bad name fails at start or at set-class, not mid-stream. */
  checkClassName(name: string): void {
    this.prompts.get(name);
  }

  /** This is where a tensor is produced: ROI, rotation, PIL-exact resize, normalisation. */
  preprocess = (frame: Frame, camera: CameraConfig): ImageTensor => {
    const view = { roi: camera.roi, rotate: camera.rotate };
    return this.onDevice ? this.onDevice.tensor(frame.image, view) : this.pre.frame(frame.image, view);
  };

  engineRun = async (tensors: ImageTensor[], jobs: readonly FrameJob[]): Promise<BatchOut> => {
    const B = tensors.length;
    const per = 3 * this.S * this.S;
    // Frames for an engine that preprocesses on the GPU; else a batch of one is passed as it is and
    // larger batches are packed into one [B,3,S,S] buffer.
    const frames = this.onDevice ? tensors.map((t) => t.frame!) : undefined;
    let images = frames ? new Float32Array(0) : tensors[0].data;
    if (B > 1 && !frames) {
      images = new Float32Array(B * per);
      tensors.forEach((t, i) => images.set(t.data, i * per));
    }
    const classNames = jobs.map((j) => this.classNameOf(j.frame.cameraId));
    const tok = this.prompts.batch(classNames);
    const out = await this.engine.run({
      images,
      frames,
      batch: B,
      tokens: tok.tokens,
      sentences: tok.sentences,
      context: tok.context,
    });
    return {
      out,
      tensors,
      classNames,
      pixelThresholds: jobs.map((j) => this.pixelThresholdOf(j.frame.cameraId)),
    };
  };

  /**
   * Scores images of one class outside the pipeline (eval, calibrate): the same path as a frame,
   * with a camera's ROI and rotation when `view` gives them.
   */
  async scoreImages(
    images: Frame['image'][],
    className: string,
    view: FrameView = {},
  ): Promise<ModelResult[]> {
    const B = images.length;
    const per = 3 * this.S * this.S;
    const data = new Float32Array(B * per);
    const tensors = images.map((img, i) => {
      const source = this.pre.frameInto(img, data, i * per, view);
      return { data: data.subarray(i * per, (i + 1) * per), size: this.S, source };
    });
    const tok = this.prompts.batch(images.map(() => className));
    const out = await this.engine.run({
      images: data,
      batch: B,
      tokens: tok.tokens,
      sentences: tok.sentences,
      context: tok.context,
    });
    return this.fuse({ out, tensors, classNames: images.map(() => className) });
  }

  /**
   * One plain image (the normalisation mean; mid-grey for a GPU-preprocessing engine) through the
   * engine and the fusion, for a model loaded beside the running one: a bundle that cannot run, or
   * runs to a score that is not a number, is refused before any frame goes to it. Returns the score.
   */
  async warmUp(className: string): Promise<number> {
    const S = this.S;
    const source = { width: S, height: S, rotate: 0 as const, roi: { x: 0, y: 0, width: S, height: S } };
    const grey = { data: new Uint8Array(S * S * 3).fill(128), width: S, height: S };
    const tensor: ImageTensor = this.onDevice
      ? { data: new Float32Array(0), size: S, source, frame: grey }
      : { data: new Float32Array(3 * S * S), size: S, source };
    const tok = this.prompts.batch([className]);
    const out = await this.engine.run({
      images: tensor.data,
      frames: this.onDevice ? [grey] : undefined,
      batch: 1,
      tokens: tok.tokens,
      sentences: tok.sentences,
      context: tok.context,
    });
    const [r] = await this.fuse({ out, tensors: [tensor], classNames: [className] });
    if (!Number.isFinite(r.score)) throw new Error(`warm-up score is ${r.score}, not a number`);
    return r.score;
  }

  /**
   * The smoothed map of a result, computed now if fuse skipped it (snapshots of an event). A result
   * of another bundle's size (scored before a swap) is smoothed at its own size.
   */
  smoothed(r: ModelResult): Float32Array {
    if (r.mapSmoothed) return r.mapSmoothed;
    if (r.mapSize === this.S) return this.regions.full.run(r.map);
    return new RegionMapper(r.mapSize, { sigma: 4, truncate: 4 }).full.run(r.map);
  }

  fuse = async ({ out, tensors, classNames, pixelThresholds }: BatchOut): Promise<ModelResult[]> => {
    const scores = await scoreBatch(out, this.hsf, this.bundle.manifest.hsf);
    const SS = this.S * this.S;
    const results: ModelResult[] = [];
    for (let b = 0; b < out.batch; b++) {
      const map = out.anomalyMap.subarray(b * SS, (b + 1) * SS);
      const rm = this.regions.run(map, pixelThresholds?.[b] ?? -Infinity);
      results.push({
        score: scores.score[b],
        scoreWithoutHsf: scores.scoreWithoutHsf[b],
        map,
        mapSmoothed: rm.smoothed === 'full' ? rm.map : undefined,
        regionMap: rm.map,
        mapSize: this.S,
        source: tensors[b].source,
        className: classNames[b],
        model: this.provenance,
      });
    }
    return results;
  };
}

/** The HSF runner for the engine (model.hsf), or undefined when HSF is off. */
export function hsfFor(model: ModelConfig, engine: Engine, logger: Logger): HsfRunner | undefined {
  if (!model.hsf.enabled) return undefined;
  // auto: where the engine's outputs live (the GPU for TensorRT, else the CPU)
  const kind =
    model.hsf.device !== 'auto' ? model.hsf.device : engine.info.hsfInputsOn === 'device' ? 'auto' : 'cpu';
  return createHsfRunner(kind, logger, { threads: model.hsf.threads || undefined });
}
