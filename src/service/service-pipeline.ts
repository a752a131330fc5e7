// The service's pipeline: the model's stages, the decision and the publish stage composed by
// pipeline.ts, what it reports to the rest of the service (camera states and frames on the event
// bus, metrics, uninspected parts to the trigger desk) and what it follows (settings, suspensions).
import type { Config } from '../config/schema.js';
import type { Metrics } from '../metrics/prometheus.js';
import { createPipeline, type Pipeline } from '../pipeline/pipeline.js';
import type { Logger } from '../util/log.js';
import type { Decided, DecisionStage } from './decision-stage.js';
import type { ServiceBus } from './event-bus.js';
import { feedPipelineMetrics } from './metrics-feed.js';
import { modelStageSet, type LoadedModel } from './model-loader.js';
import type { BatchOut, ModelResult, ModelStages } from './model-stages.js';
import type { ResultPublisher } from './result-publisher.js';
import type { TriggerDesk } from './trigger-desk.js';

export type ServicePipeline = Pipeline<ReturnType<ModelStages['preprocess']>, BatchOut, ModelResult, Decided>;

export function buildServicePipeline(
  cfg: Config,
  d: {
    model: LoadedModel;
    decisions: DecisionStage;
    publisher: ResultPublisher;
    desk: TriggerDesk;
    bus: ServiceBus;
    metrics: Metrics;
    logger: Logger;
  },
): ServicePipeline {
  const { bus } = d;
  const pipeline: ServicePipeline = createPipeline({
    cameras: cfg.cameras,
    settings: cfg.pipeline,
    maxBatch: d.model.engine.info.maxBatch,
    log: d.logger,
    stages: {
      ...modelStageSet(d.model),
      decide: d.decisions.decide,
      publish: d.publisher.publish,
    },
  });
  pipeline.onState((e) => bus.emit('cameraState', { cameraId: e.cameraId, state: e.state }));
  pipeline.onResult((o) => bus.emit('frame', o));
  feedPipelineMetrics(pipeline, d.metrics);
  pipeline.drops.onDrop((e) => d.desk.answerDrop(e));
  bus.on('settings', ({ camera }) => pipeline.updateCamera(camera));
  bus.on('suspension', ({ cameraId, suspension }) =>
    pipeline.setSuspended(cameraId, suspension !== undefined),
  );
  return pipeline;
}
