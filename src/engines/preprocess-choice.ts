// Which preprocessing the service runs, said in advance (doctor): node-tensorrt's CUDA kernel writing
// into the engine's input when the engine runs on TensorRT (TensorRtEngine.open turns it on:
// EngineInfo.takesFrames), else the CPU path. Both give the same tensor bit for bit.
import { describeCpuPreprocessing } from '../preprocess/preprocess.js';
import type { AddonLoad } from './tensorrt.js';
import { tensorRtUnavailableReason, type TensorRtFacts } from './probe.js';

export interface PreprocessingPlace {
  where: 'gpu' | 'cpu';
  detail: string;
}

export function describePreprocessing(facts: TensorRtFacts, load: AddonLoad): PreprocessingPlace {
  const cpu = `cpu (${describeCpuPreprocessing()}, PIL-exact)`;
  const noTrt = tensorRtUnavailableReason(facts);
  if (noTrt !== undefined)
    return { where: 'cpu', detail: `${cpu}; GPU preprocessing needs TensorRT: ${noTrt}` };
  const binding = load.ok ? load.addon.preprocess : undefined;
  if (!binding)
    return { where: 'cpu', detail: `${cpu}; node-tensorrt has no preprocessing kernels (rebuild it)` };
  if (!binding.available()) return { where: 'cpu', detail: `${cpu}; ${binding.reason()}` };
  return {
    where: 'gpu',
    detail: 'gpu (node-tensorrt CUDA kernel into the TensorRT engine input, when the engine is TensorRT)',
  };
}
