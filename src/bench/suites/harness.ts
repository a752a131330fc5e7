// Self-check of the harness: the cost of an empty timed call (the floor under every number).
import { measure, summarize, type Benchmark } from '../harness.js';

export const benchmarks: Benchmark[] = [
  {
    name: 'harness.noop',
    description: 'ms per empty timed call: the measurement floor',
    async run() {
      return summarize(
        'harness.noop',
        'ms',
        await measure(() => undefined, { iterations: 1000, warmup: 10 }),
      );
    },
  },
];
