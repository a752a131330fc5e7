// The exporter's inputs and its bundle: TorchScript archive vs plain state_dict, the official loader's
// fp16 rounding, clear errors for checkpoints that do not fit (key and both shapes named), bad
// architectures and vocabularies, and a manifest that satisfies the zod schema and hashes every file.
// Runs the real exporter with Debian's python3-torch (random tiny weights).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT, VOCAB } from '../helpers/fixtures.js';
import { IO, manifestSchema } from '../../src/model/manifest.js';
import { readNpy, writeNpy } from '../../src/util/npy.js';

const PYTHON = process.env.ADACLIP_PYTHON ?? '/usr/bin/python3';
const EXPORT_DIR = join(ROOT, 'models', 'export');
const TINY = {
  embed_dim: 48,
  vision_cfg: { image_size: 84, layers: 4, width: 64, head_width: 64, patch_size: 14 },
  text_cfg: { context_length: 77, vocab_size: 49408, width: 48, heads: 2, layers: 4 },
};

let work = '';
let arch = '';
let vocab = '';

function py(args: string[], input?: string) {
  return spawnSync(PYTHON, args, { encoding: 'utf8', input, maxBuffer: 64 << 20, timeout: 300_000 });
}

function ok(args: string[], what: string): string {
  const res = py(args);
  assert.equal(res.status, 0, `${what} failed (${res.status}):\n${res.stderr.slice(-3000)}`);
  return res.stdout;
}

function exportArgs(clip: string, ada: string, out: string, extra: string[] = []): string[] {
  return [
    join(EXPORT_DIR, 'export.py'),
    '--clip',
    clip,
    '--adaclip',
    ada,
    '--arch',
    arch,
    '--image-size',
    '126',
    '--vocab',
    vocab,
    '--out',
    out,
    ...extra,
  ];
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// Writes random OpenAI-named CLIP weights (fp32 state_dict and the same as a TorchScript archive,
// as OpenAI ships them), an AdaCLIP checkpoint in the official key naming, and broken variants.
const MAKE_WEIGHTS = `
import sys, torch
sys.path.insert(0, sys.argv[1])
from torch import nn
from arch import build_config
from weights import clip_state_dict_shapes, adaclip_key_map
from adaclip_graph import AdaClipGraph
out, arch = sys.argv[2], sys.argv[3]
cfg = build_config(arch, 84)
g = torch.Generator().manual_seed(3)
sd = {k: torch.randn(s, generator=g) * 0.05 for k, s in clip_state_dict_shapes(cfg)}
for k in sd:
    if 'ln_' in k and k.endswith('weight'):
        sd[k] = sd[k] + 1.0
sd['logit_scale'] = torch.tensor(4.6052)
sd['input_resolution'] = torch.tensor(84)
torch.save(sd, out + '/clip_fp32.pt')
class Holder(nn.Module):
    pass
root = Holder()
for name, t in sd.items():
    mod = root
    for part in name.split('.')[:-1]:
        if not hasattr(mod, part):
            mod.add_module(part, Holder())
        mod = getattr(mod, part)
    mod.register_parameter(name.split('.')[-1], nn.Parameter(t.clone(), requires_grad=False))
torch.jit.script(root).save(out + '/clip_jit.pt')
params = dict(AdaClipGraph(cfg).named_parameters())
ck = {theirs: torch.randn(params[ours].shape, generator=g) * 0.05 for ours, theirs in adaclip_key_map(cfg).items()}
torch.save(ck, out + '/ada.pth')
bad = dict(ck); bad['clip_model.cls_token_layer.head.0.weight'] = torch.zeros(48, 47)
torch.save(bad, out + '/ada_badshape.pth')
missing = dict(ck); del missing['clip_model.patch_token_layer.head.2.bias']
torch.save(missing, out + '/ada_missing.pth')
extra = dict(ck); extra['clip_model.visual_prompter.static_prompts.9'] = torch.zeros(5, 64)
torch.save(extra, out + '/ada_extra.pth')
clip_missing = dict(sd); del clip_missing['visual.ln_post.bias']
torch.save(clip_missing, out + '/clip_missing.pt')
`;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'adaclip-exporter-'));
  arch = join(work, 'tiny.json');
  writeFileSync(arch, JSON.stringify(TINY));
  vocab = join(work, 'vocab_bytes_only.txt.gz');
  writeFileSync(vocab, gzipSync(Buffer.from('"bpe_simple_vocab_16e6.txt#version: 0.2', 'utf8')));
  ok(['-c', MAKE_WEIGHTS, EXPORT_DIR, work, arch], 'writing test weights');
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('bundle from a TorchScript archive: manifest valid, every file hashed, IO contract', () => {
  const out = join(work, 'bundle-jit');
  mkdirSync(join(out, 'engines'), { recursive: true });
  writeFileSync(join(out, 'engines', 'keep.txt'), 'engines built on a device survive a re-export');
  ok(exportArgs(join(work, 'clip_jit.pt'), join(work, 'ada.pth'), out), 'export');
  const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')));
  const names = readdirSync(out).filter((n) => statSync(join(out, n)).isFile() && n !== 'manifest.json');
  assert.deepEqual(Object.keys(manifest.files).sort(), names.sort());
  for (const [name, entry] of Object.entries(manifest.files)) {
    assert.equal(entry.sha256, sha256(join(out, name)), `${name} sha256`);
    assert.equal(entry.bytes, statSync(join(out, name)).size, `${name} bytes`);
  }
  assert.equal(readFileSync(join(out, 'engines', 'keep.txt'), 'utf8').length > 0, true);
  assert.equal(manifest.provenance.kind, 'checkpoint');
  assert.deepEqual(manifest.provenance.clip, {
    file: 'clip_jit.pt',
    sha256: sha256(join(work, 'clip_jit.pt')),
  });
  assert.deepEqual(manifest.provenance.adaclip, { file: 'ada.pth', sha256: sha256(join(work, 'ada.pth')) });
  assert.match(manifest.provenance.exporter, /^adaclip-edge-exporter /);
  assert.deepEqual(manifest.tokenizer, {
    vocab: 'vocab_bytes_only.txt.gz',
    sot: 512,
    eot: 513,
    bytesOnly: true,
  });
  assert.equal(manifest.onnx.file, 'model.onnx');
  assert.equal(manifest.onnx.opset, 17);
  assert.deepEqual(
    manifest.onnx.inputs.map((t) => t.name),
    [IO.image, IO.tokens],
  );
  assert.deepEqual(
    manifest.onnx.outputs.map((t) => t.name),
    [IO.anomalyMap, IO.globalFeature, IO.textFeatures, IO.hsfIndices, IO.hsfTokens],
  );
  // S=126: grid 9, 81 patches < 100, so K = 81; official settings
  assert.equal(manifest.grid, 9);
  assert.equal(manifest.hsf.topK, 81);
  assert.deepEqual(manifest.adaclip, {
    promptDepth: 4,
    promptLength: 5,
    promptType: 'SD',
    promptBranch: 'VL',
    outputLayers: [1, 2, 3, 4],
  });
  assert.deepEqual(manifest.architecture.vision, {
    width: 64,
    layers: 4,
    heads: 1,
    patchSize: 14,
    nativeImageSize: 84,
  });
  assert.equal(manifest.architecture.activation, 'gelu');
  assert.equal(manifest.prompts.normalStates.length * manifest.prompts.templates.length, 28);
  assert.equal(manifest.prompts.abnormalStates.length * manifest.prompts.templates.length, 20);
  // the ONNX graph itself, read back with the onnx package
  const io = ok(
    [
      '-c',
      `import onnx,sys,json
m=onnx.load(sys.argv[1]); onnx.checker.check_model(m)
d=lambda t:[x.dim_param or x.dim_value for x in t.type.tensor_type.shape.dim]
print(json.dumps({'opset':[o.version for o in m.opset_import if o.domain in ('','ai.onnx')][0],
 'inputs':{i.name:d(i) for i in m.graph.input},'outputs':{o.name:d(o) for o in m.graph.output}}))`,
      join(out, 'model.onnx'),
    ],
    'reading the ONNX graph',
  );
  const graph = JSON.parse(io);
  assert.equal(graph.opset, 17);
  assert.deepEqual(graph.inputs.image, ['batch', 3, 126, 126]);
  assert.deepEqual(graph.inputs.tokens, ['batch', 48, 'context']);
  assert.equal(graph.outputs.anomaly_map[0], 'batch');
  assert.deepEqual(graph.outputs.hsf_indices.slice(1), [81]);
  assert.deepEqual(graph.outputs.hsf_tokens.slice(1), [81, 4, 48]);
});

test('TorchScript archive and plain state_dict give identical outputs; fp32 weights are rounded like the official loader', () => {
  const S = 126;
  const input = join(work, 'x.npy');
  const img = new Float32Array(3 * S * S).map((_, i) => Math.sin(i * 0.013) * 1.5);
  writeNpy(input, img, [3, S, S]);
  const run = (clip: string, dir: string) =>
    ok(
      [
        join(EXPORT_DIR, 'reference.py'),
        '--clip',
        clip,
        '--adaclip',
        join(work, 'ada.pth'),
        '--arch',
        arch,
        '--image-size',
        String(S),
        '--vocab',
        vocab,
        '--input',
        input,
        '--class',
        'metal_nut',
        '--out',
        dir,
      ],
      'reference.py',
    );
  run(join(work, 'clip_jit.pt'), join(work, 'ref-jit'));
  run(join(work, 'clip_fp32.pt'), join(work, 'ref-sd'));
  for (const name of ['anomaly_map', 'global_feature', 'text_features', 'hsf_tokens']) {
    const a = readNpy(join(work, 'ref-jit', `${name}.npy`)).data as Float32Array;
    const b = readNpy(join(work, 'ref-sd', `${name}.npy`)).data as Float32Array;
    assert.deepEqual(Array.from(a), Array.from(b), name);
  }
  // which tensors go through fp16: Conv/Linear/attention weights and the projections, not LN or embeddings
  const check = ok(
    [
      '-c',
      `import sys, json, torch
sys.path.insert(0, sys.argv[1])
from arch import build_config
from weights import build_model
sd = torch.load(sys.argv[2])
m = build_model(build_config(sys.argv[3], 84), sys.argv[2], sys.argv[4])
r = lambda t: t.half().float()
pairs = {'fc': (m.visual.blocks[0].c_fc.weight, 'visual.transformer.resblocks.0.mlp.c_fc.weight', True),
 'in_proj': (m.text.blocks[1].in_proj_weight, 'transformer.resblocks.1.attn.in_proj_weight', True),
 'proj': (m.visual.proj, 'visual.proj', True), 'conv1': (m.visual.conv1.weight, 'visual.conv1.weight', True),
 'text_projection': (m.text.text_projection, 'text_projection', True),
 'ln_1': (m.visual.blocks[0].ln_1.weight, 'visual.transformer.resblocks.0.ln_1.weight', False),
 'token_embedding': (m.text.token_embedding.weight, 'token_embedding.weight', False),
 'class_embedding': (m.visual.class_embedding, 'visual.class_embedding', False)}
res = {}
for k, (p, key, rounded) in pairs.items():
    want = r(sd[key]) if rounded else sd[key]
    res[k] = {'equal': bool(torch.equal(p.detach(), want)), 'rounding_visible': bool(not torch.equal(sd[key], r(sd[key])))}
print(json.dumps(res))`,
      EXPORT_DIR,
      join(work, 'clip_fp32.pt'),
      arch,
      join(work, 'ada.pth'),
    ],
    'fp16 rounding check',
  );
  const res = JSON.parse(check) as Record<string, { equal: boolean; rounding_visible: boolean }>;
  for (const [k, v] of Object.entries(res)) {
    assert.ok(v.rounding_visible, `${k}: the test weights must be changed by fp16 rounding`);
    assert.ok(v.equal, `${k}: loaded value differs from the official loader's`);
  }
});

test('a checkpoint that does not fit stops the export naming the key and both shapes', () => {
  const cases: Array<[string, string, RegExp[]]> = [
    [
      'clip_fp32.pt',
      'ada_badshape.pth',
      [/clip_model\.cls_token_layer\.head\.0\.weight/, /\(48, 47\)/, /\(48, 48\)/],
    ],
    [
      'clip_fp32.pt',
      'ada_missing.pth',
      [/missing key clip_model\.patch_token_layer\.head\.2\.bias/, /\(48,\)/],
    ],
    [
      'clip_fp32.pt',
      'ada_extra.pth',
      [/unexpected key clip_model\.visual_prompter\.static_prompts\.9/, /\(5, 64\)/],
    ],
    ['clip_missing.pt', 'ada.pth', [/missing key visual\.ln_post\.bias/, /\(64,\)/]],
  ];
  for (const [clip, ada, patterns] of cases) {
    const out = join(work, `bad-${ada}-${clip}`);
    const res = py(exportArgs(join(work, clip), join(work, ada), out));
    assert.equal(res.status, 2, `${clip} + ${ada}: exit ${res.status}\n${res.stderr}`);
    for (const p of patterns) assert.match(res.stderr, p, `${clip} + ${ada}`);
    assert.doesNotMatch(res.stderr, /Traceback/, 'a clear message, not a stack trace');
  }
  // wrong architecture for the weights: every mismatching key is listed
  const wide = join(work, 'wide.json');
  writeFileSync(
    wide,
    JSON.stringify({ ...TINY, vision_cfg: { ...TINY.vision_cfg, width: 128, head_width: 64 } }),
  );
  const res = py([
    join(EXPORT_DIR, 'export.py'),
    '--clip',
    join(work, 'clip_fp32.pt'),
    '--adaclip',
    join(work, 'ada.pth'),
    '--arch',
    wide,
    '--image-size',
    '126',
    '--vocab',
    vocab,
    '--out',
    join(work, 'bad-wide'),
  ]);
  assert.equal(res.status, 2);
  assert.match(
    res.stderr,
    /key visual\.conv1\.weight: checkpoint shape \(64, 3, 14, 14\) != model shape \(128, 3, 14, 14\)/,
  );
});

// A checkpoint is a pickle, and a pickle's __reduce__ runs any call when it is loaded: this one
// creates a marker file. The exporter must refuse it (torch.load weights_only=True) before any of
// it runs, for both --clip and --adaclip.
const MAKE_EVIL = `
import os, sys, torch
class Payload:
    def __reduce__(self):
        return (os.system, ('touch ' + sys.argv[2],))
torch.save({'visual.proj': torch.zeros(48, 48), 'payload': Payload()}, sys.argv[1])
`;

test('a malicious pickle checkpoint is refused and nothing in it runs', () => {
  const evil = join(work, 'evil.pth');
  const marker = join(work, 'evil-ran');
  ok(['-c', MAKE_EVIL, evil, marker], 'writing the malicious checkpoint');
  assert.equal(existsSync(marker), false, 'writing it ran nothing');
  for (const [clip, ada] of [
    [evil, join(work, 'ada.pth')],
    [join(work, 'clip_fp32.pt'), evil],
  ]) {
    const res = py(exportArgs(clip, ada, join(work, 'bad-evil')));
    assert.equal(res.status, 2, `exit ${res.status}\n${res.stderr}`);
    assert.match(res.stderr, /evil\.pth: refused: it holds Python objects besides tensors/);
    assert.match(res.stderr, /Unsupported class posix\.system/, 'the error names what it would have called');
    assert.doesNotMatch(res.stderr, /Traceback/, 'a clear message, not a stack trace');
    assert.equal(existsSync(marker), false, 'the payload did not run');
  }
  // control: a plain torch.load of the same file does run it, so the check above can fail
  ok(['-c', 'import sys, torch; torch.load(sys.argv[1])', evil], 'plain torch.load');
  assert.equal(existsSync(marker), true, 'the payload is live');
});

test('bad architecture, size, settings and vocabulary are refused with a clear message', () => {
  const base = ['--random-init', '1', '--vocab', vocab, '--out', join(work, 'bad-cfg')];
  const cases: Array<[string[], RegExp]> = [
    [['--arch', 'ViT-Q-99', '--image-size', '224'], /neither a known architecture/],
    [['--arch', arch, '--image-size', '130'], /must be a positive multiple of the patch size 14/],
    [['--arch', arch, '--image-size', '126', '--output-layers', '2,9'], /each must be in 1\.\.4/],
    [['--arch', arch, '--image-size', '42', '--k-clusters', '20'], /exceeds the 9 tokens HSF selects/],
  ];
  for (const [args, pattern] of cases) {
    const res = py([join(EXPORT_DIR, 'export.py'), ...base, ...args]);
    assert.notEqual(res.status, 0, args.join(' '));
    assert.match(res.stderr, pattern, args.join(' '));
    assert.doesNotMatch(res.stderr, /Traceback/, args.join(' '));
  }
  // a vocabulary with a trailing newline would add an empty merge (the official rule): refused
  const badVocab = join(work, 'vocab_newline.txt.gz');
  writeFileSync(badVocab, gzipSync(Buffer.from('"bpe_simple_vocab_16e6.txt#version: 0.2\n', 'utf8')));
  const res = py([
    join(EXPORT_DIR, 'export.py'),
    '--random-init',
    '1',
    '--arch',
    arch,
    '--image-size',
    '126',
    '--vocab',
    badVocab,
    '--out',
    join(work, 'bad-vocab'),
  ]);
  assert.equal(res.status, 2);
  assert.match(res.stderr, /is not a merge pair/);
});

test('vocabulary special ids follow the official SimpleTokenizer rule', () => {
  const out = ok(
    [
      '-c',
      `import sys, json
sys.path.insert(0, sys.argv[1])
from bundle import vocab_special_ids
print(json.dumps([vocab_special_ids(sys.argv[2]), vocab_special_ids(sys.argv[3])]))`,
      EXPORT_DIR,
      VOCAB,
      vocab,
    ],
    'vocab ids',
  );
  const [real, bytesOnly] = JSON.parse(out);
  // the official tokenizer's own ids (fixture tokenizer/simple_tokenizer_ids.jsonl starts with 49406)
  assert.deepEqual(real, { sot: 49406, eot: 49407, bytesOnly: false });
  assert.deepEqual(bytesOnly, { sot: 512, eot: 513, bytesOnly: true });
});
