// Every benchmark suite, in the order `npm run bench` runs them. Add a suite: one import, one entry.
import type { Benchmark } from '../harness.js';
import { benchmarks as decide } from './decide.js';
import { benchmarks as evaluation } from './eval.js';
import { benchmarks as fleet } from './fleet.js';
import { benchmarks as gaussian } from './gaussian.js';
import { benchmarks as harness } from './harness.js';
import { benchmarks as hsf } from './hsf.js';
import { benchmarks as model } from './model.js';
import { benchmarks as mqtt } from './mqtt.js';
import { benchmarks as pipeline } from './pipeline.js';
import { benchmarks as preprocess } from './preprocess.js';

export const suites: Benchmark[][] = [
  harness,
  decide,
  hsf,
  model,
  preprocess,
  gaussian,
  pipeline,
  mqtt,
  fleet,
  evaluation,
];
