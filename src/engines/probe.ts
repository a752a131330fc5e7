// What this machine can run, for engine selection and `adaclip-edge doctor`: the node-tensorrt
// addon, libnvinfer, CUDA devices, trtexec and onnxruntime's execution providers. Every probe
// reports why something is unusable instead of throwing.
import { findTrtexec } from './trtexec.js';
import { loadNodeTensorrt, type AddonBuildInfo, type AddonLoad, type CudaDevice } from './tensorrt.js';

type Fact<T> = ({ ok: true } & T) | { ok: false; reason: string };

/** The GPU/TensorRT facts that decide whether the TensorRT backend can run. */
export interface TensorRtFacts {
  addon: Fact<{ path: string; build: AddonBuildInfo }>;
  tensorrt: Fact<{ version: string; library: string }>;
  cuda: Fact<{ devices: CudaDevice[]; driverVersion: string }>;
}

/** Asks the real addon; `load` is replaceable for tests of the callers. */
export function probeTensorRt(load: () => AddonLoad = loadNodeTensorrt): TensorRtFacts {
  const a = load();
  if (!a.ok) {
    const reason = a.reason;
    return { addon: { ok: false, reason }, tensorrt: { ok: false, reason }, cuda: { ok: false, reason } };
  }
  const build = a.addon.buildInfo();
  const trt = a.addon.loadTensorRt();
  const cuda = a.addon.cudaDevices();
  let tensorrt: TensorRtFacts['tensorrt'];
  if (!trt.ok) tensorrt = { ok: false, reason: trt.error };
  else if (!build.tensorrtHeaders) {
    tensorrt = {
      ok: false,
      reason: `libnvinfer ${trt.version} found, but node-tensorrt was built without TensorRT headers (rebuild with TENSORRT_INCLUDE_DIR)`,
    };
  } else tensorrt = { ok: true, version: trt.version, library: trt.library };
  let cudaFact: TensorRtFacts['cuda'];
  if (!cuda.ok) cudaFact = { ok: false, reason: cuda.error };
  else if (cuda.devices.length === 0) cudaFact = { ok: false, reason: 'no CUDA device' };
  else cudaFact = { ok: true, devices: cuda.devices, driverVersion: cuda.driverVersion };
  return { addon: { ok: true, path: a.path, build }, tensorrt, cuda: cudaFact };
}

/** Why the TensorRT backend cannot run here, or undefined when it can. */
export function tensorRtUnavailableReason(f: TensorRtFacts): string | undefined {
  if (!f.addon.ok) return f.addon.reason;
  if (!f.tensorrt.ok) return f.tensorrt.reason;
  if (!f.cuda.ok) return f.cuda.reason;
  return undefined;
}

// ----- onnxruntime providers ------------------------------------------------------------------------

/**
 * A one-node ONNX model (y = Identity(x), float [1], opset 17) as protobuf bytes, so that each
 * provider can be tried for real without shipping a model file. Hand-encoded: the protobuf is five
 * nested messages, not worth a dependency.
 */
export function tinyIdentityOnnx(): Uint8Array {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const field = (num: number, bytes: number[]): number[] => [
    ...varint((num << 3) | 2),
    ...varint(bytes.length),
    ...bytes,
  ];
  const int = (num: number, v: number): number[] => [...varint(num << 3), ...varint(v)];
  const str = (num: number, s: string): number[] => field(num, [...Buffer.from(s, 'utf8')]);
  // TypeProto{tensor_type{elem_type=FLOAT, shape{dim{dim_value=1}}}}
  const type = field(1, [...int(1, 1), ...field(2, field(1, int(1, 1)))]);
  const valueInfo = (name: string) => [...str(1, name), ...field(2, type)];
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Identity')];
  const graph = [
    ...field(1, node),
    ...str(2, 'probe'),
    ...field(11, valueInfo('x')),
    ...field(12, valueInfo('y')),
  ];
  const model = [...int(1, 8), ...field(7, graph), ...field(8, [...str(1, ''), ...int(2, 17)])];
  return Uint8Array.from(model);
}

export interface ProviderFact {
  provider: 'cpu' | 'cuda' | 'tensorrt';
  ok: boolean;
  detail: string;
}

/** Tries each provider by creating a session on the tiny model (onnxruntime never falls back by itself). */
export async function probeOrtProviders(): Promise<{ version: string; providers: ProviderFact[] }> {
  const ort = await import('onnxruntime-node');
  const model = tinyIdentityOnnx();
  const providers: ProviderFact[] = [];
  // A missing provider library makes onnxruntime print a multi-line error; the line below says it.
  const previousLevel = ort.env.logLevel;
  ort.env.logLevel = 'fatal';
  for (const provider of ['cpu', 'cuda', 'tensorrt'] as const) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [provider],
        logSeverityLevel: 4,
      });
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(42), [1]) });
      await session.release();
      const y = (out.y?.data as Float32Array | undefined)?.[0];
      providers.push({ provider, ok: y === 42, detail: y === 42 ? 'session runs' : `wrong result ${y}` });
    } catch (err) {
      providers.push({ provider, ok: false, detail: (err as Error).message.split('\n')[0] });
    }
  }
  ort.env.logLevel = previousLevel;
  return { version: ort.env.versions.common, providers };
}

// ----- doctor ---------------------------------------------------------------------------------------

export interface PlatformLine {
  name: string;
  ok: boolean;
  detail: string;
}

/** One line per fact for `adaclip-edge doctor`. */
export async function probePlatform(facts: TensorRtFacts = probeTensorRt()): Promise<PlatformLine[]> {
  const lines: PlatformLine[] = [];
  try {
    const ort = await probeOrtProviders();
    for (const p of ort.providers) {
      lines.push({ name: `ort ${p.provider}`, ok: p.ok, detail: `onnxruntime ${ort.version}: ${p.detail}` });
    }
  } catch (err) {
    lines.push({
      name: 'onnxruntime',
      ok: false,
      detail: `onnxruntime-node does not load: ${(err as Error).message}`,
    });
  }
  const a = facts.addon;
  lines.push({
    name: 'node-tensorrt',
    ok: a.ok,
    detail: a.ok
      ? `addon loaded (${a.build.cuda ? `CUDA ${a.build.cudaToolkit}, sm ${a.build.cudaArchs}` : 'CPU-only build'}, ` +
        `TensorRT headers ${a.build.tensorrtHeaders ?? 'none'}, HSF kernels ${a.build.hsf ? 'yes' : 'no'})`
      : a.reason,
  });
  lines.push({
    name: 'cuda',
    ok: facts.cuda.ok,
    detail: facts.cuda.ok
      ? facts.cuda.devices
          .map(
            (d) =>
              `${d.index}: ${d.name} (sm ${d.computeCapability}, ${(d.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB)`,
          )
          .join('; ') + `, driver ${facts.cuda.driverVersion}`
      : facts.cuda.reason,
  });
  lines.push({
    name: 'tensorrt',
    ok: facts.tensorrt.ok,
    detail: facts.tensorrt.ok
      ? `TensorRT ${facts.tensorrt.version} (${facts.tensorrt.library})`
      : facts.tensorrt.reason,
  });
  const trtexec = findTrtexec();
  lines.push({
    name: 'trtexec',
    ok: trtexec !== undefined,
    detail:
      trtexec ??
      'not found ($TRTEXEC, PATH, /usr/src/tensorrt/bin): build-engine cannot build TensorRT engines',
  });
  const why = tensorRtUnavailableReason(facts);
  lines.push({
    name: 'backend auto',
    ok: true,
    detail: why ? `onnxruntime (TensorRT unavailable: ${why})` : 'tensorrt',
  });
  return lines;
}
