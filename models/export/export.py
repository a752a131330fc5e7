#!/usr/bin/python3
"""Exports an AdaCLIP model bundle (model.onnx + manifest.json + BPE vocabulary) from an OpenAI CLIP
archive and an official AdaCLIP checkpoint, or from seeded random weights (--random-init SEED).

  /usr/bin/python3 models/export/export.py --clip ViT-L-14-336px.pt --adaclip pretrained_all.pth \
      --arch ViT-L-14-336 --image-size 518 --vocab bpe_simple_vocab_16e6.txt.gz --out models/bundles/vitl

Weights trained on the synthetic line by models/train/train.py come with their training record:
--training NAME.json makes the bundle's provenance kind synthetic-trained (the record's note, kinds,
seeds, steps, times and sha256), after checking that the record names exactly these checkpoints.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import os
import sys
import threading
import time
import warnings
from contextlib import contextmanager

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

from adaclip_graph import OUTPUT_NAMES, AdaClipGraph, ExportWrapper  # noqa: E402
from arch import ConfigError, ModelConfig, build_config  # noqa: E402
from bundle import (OPSET, TrainingRecordError, finish_bundle, provenance_checkpoint, provenance_random,  # noqa: E402
                    provenance_synthetic, read_training_record)
from weights import WeightError, build_model, log  # noqa: E402

# ONNX ops TensorRT 10.3's parser supports that this graph may use; anything else is reported.
TRT_OPS = {
    'Add', 'ArgMax', 'Cast', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'Div', 'Equal', 'Erf', 'Expand',
    'Flatten', 'Gather', 'GatherElements', 'Gemm', 'LayerNormalization', 'MatMul', 'Mul', 'Pow', 'ReduceL2',
    'ReduceMean', 'ReduceSum', 'Reshape', 'Resize', 'Shape', 'Sigmoid', 'Slice', 'Softmax', 'Split', 'Sqrt',
    'Squeeze', 'Sub', 'TopK', 'Transpose', 'Unsqueeze', 'Where', 'Range', 'Clip', 'Max', 'Min', 'Identity',
}


@contextmanager
def heartbeat(label: str, every_s: float = 30.0):
    """A progress line every `every_s` seconds while a long step without its own progress runs."""
    done = threading.Event()
    t0 = time.time()

    def beat():
        while not done.wait(every_s):
            log(f'{label}: still running ({time.time() - t0:.0f} s)')

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def exporter_version() -> str:
    """Version plus a hash of the exporter's own sources, so a bundle names the code that made it."""
    h = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(HERE, '*.py'))):
        with open(path, 'rb') as f:
            h.update(os.path.basename(path).encode() + b'\0' + f.read())
    return f'adaclip-edge-exporter 1.0 ({h.hexdigest()[:12]})'


def example_inputs(cfg: ModelConfig, batch: int = 2, context: int = 16):
    """Dummy inputs for tracing: batch 2 and a short context so no size gets baked in as 1 or 77."""
    gen = torch.Generator().manual_seed(0)
    image = torch.randn(batch, 3, cfg.image_size, cfg.image_size, generator=gen)
    tokens = torch.zeros(batch, cfg.n_sentences, context, dtype=torch.int64)
    eot = min(cfg.vocab_size - 1, 49407)
    for b in range(batch):
        for q in range(cfg.n_sentences):
            n = 6 + (b + q) % (context - 7)
            tokens[b, q, 0] = eot - 1
            tokens[b, q, 1:n] = torch.randint(1, eot - 2, (n - 1,), generator=gen)
            tokens[b, q, n] = eot
    return image, tokens


def export_onnx(model: AdaClipGraph, path: str) -> None:
    cfg = model.cfg
    image, tokens = example_inputs(cfg)
    dyn = {'image': {0: 'batch'}, 'tokens': {0: 'batch', 2: 'context'}}
    for name in OUTPUT_NAMES:
        dyn[name] = {0: 'batch'}
    log(f'tracing and writing ONNX (opset {OPSET}) to {path}')
    t0 = time.time()
    # torch 1.13 warns about prim::Constant shape inference on every traced constant: noise only
    warnings.filterwarnings('ignore', message='The shape inference of prim::Constant')
    with torch.no_grad(), heartbeat('tracing and writing ONNX'):
        torch.onnx.export(ExportWrapper(model), (image, tokens), path, opset_version=OPSET,
                          input_names=['image', 'tokens'], output_names=OUTPUT_NAMES, dynamic_axes=dyn,
                          do_constant_folding=True)
    log(f'ONNX written in {time.time() - t0:.1f} s ({os.path.getsize(path) / 1e6:.1f} MB)')


def fix_io_dims(path: str, cfg: ModelConfig) -> None:
    """torch.onnx names some fixed output dims symbolically (e.g. TopK's K): declare every IO dim
    exactly as the manifest does, so runtimes and TensorRT see the static sizes."""
    import onnx
    from bundle import io_specs
    m = onnx.load(path)
    specs = io_specs(cfg)
    for values, spec in ((m.graph.input, specs['inputs']), (m.graph.output, specs['outputs'])):
        by_name = {t['name']: t['shape'] for t in spec}
        for v in values:
            dims = v.type.tensor_type.shape.dim
            shape = by_name[v.name]
            if len(dims) != len(shape):
                raise RuntimeError(f'ONNX {v.name} has rank {len(dims)}, the contract says {shape}')
            for d, want in zip(dims, shape):
                if isinstance(want, str):
                    d.dim_param = want
                else:
                    d.dim_value = want
    onnx.save(m, path)


def check_onnx(path: str) -> None:
    import onnx
    log('checking the ONNX graph (onnx.checker)')
    onnx.checker.check_model(path)
    m = onnx.load(path, load_external_data=False)
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    log('ops: ' + ', '.join(f'{k}x{v}' for k, v in sorted(ops.items())))
    odd = sorted(set(ops) - TRT_OPS)
    if odd:
        log(f'WARNING: ops not on the TensorRT 10.3 list of this exporter: {odd}')
    names_in = [i.name for i in m.graph.input]
    names_out = [o.name for o in m.graph.output]
    if names_in != ['image', 'tokens'] or names_out != OUTPUT_NAMES:
        raise RuntimeError(f'ONNX IO names {names_in} -> {names_out} differ from the bundle contract')


def prepare_out_dir(out: str) -> None:
    """A fresh folder, or an earlier bundle whose files are replaced (engines/ and others are kept)."""
    os.makedirs(out, exist_ok=True)
    manifest = os.path.join(out, 'manifest.json')
    if os.path.exists(manifest):
        os.remove(manifest)  # first: a crash below leaves a folder that is visibly not a bundle
    for name in os.listdir(out):
        if name == 'model.onnx' or name.endswith('.txt.gz') or name == 'manifest.json.tmp':
            os.remove(os.path.join(out, name))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--version', action='version', version=exporter_version(),
                   help='print the exporter version (as in manifest provenance.exporter) and exit')
    src = p.add_argument_group('weights (either --clip and --adaclip, or --random-init)')
    src.add_argument('--clip', help='OpenAI CLIP archive (TorchScript .pt) or a state_dict in OpenAI key naming')
    src.add_argument('--adaclip', help='official AdaCLIP checkpoint (keys clip_model.*)')
    src.add_argument('--random-init', type=int, metavar='SEED', help='seeded random weights: an untrained-test bundle')
    src.add_argument('--training', '--provenance-training', dest='training', metavar='RECORD.json',
                     help="with --clip/--adaclip from models/train/train.py: its training record; the bundle's "
                          'provenance becomes synthetic-trained (a demo model of the synthetic line)')
    p.add_argument('--arch', required=True, help='ViT-L-14-336, ViT-L-14, ViT-B-16, ViT-B-32 or a model_configs JSON')
    p.add_argument('--image-size', type=int, required=True, help='input size S (official: 518)')
    p.add_argument('--vocab', required=True, help='gzipped BPE vocabulary, copied into the bundle')
    p.add_argument('--out', required=True, help='bundle folder')
    p.add_argument('--bundle-version', default=None, metavar='NAME',
                   help='the model version this bundle is released as (manifest "version", in every event)')
    p.add_argument('--prompt-depth', type=int, default=4)
    p.add_argument('--prompt-length', type=int, default=5)
    p.add_argument('--prompt-type', default='SD', choices=['S', 'D', 'SD'])
    p.add_argument('--prompt-branch', default='VL', choices=['V', 'L', 'VL'])
    p.add_argument('--output-layers', default=None,
                   help='comma-separated 1-based block numbers (default: the layers//4 multiples)')
    p.add_argument('--k-clusters', type=int, default=20)
    p.add_argument('--hsf-top-k', type=int, default=None, help='default 5 * k-clusters')
    p.add_argument('--hsf-alpha', type=float, default=0.2)
    args = p.parse_args(argv)
    if args.random_init is None and (not args.clip or not args.adaclip):
        p.error('give --clip and --adaclip, or --random-init SEED')
    if args.random_init is not None and (args.clip or args.adaclip):
        p.error('--random-init excludes --clip/--adaclip')
    if args.training and args.random_init is not None:
        p.error('--training goes with --clip/--adaclip (trained weights), not --random-init')
    for flag in ('clip', 'adaclip', 'vocab', 'training'):
        v = getattr(args, flag)
        if v and not os.path.isfile(v):
            p.error(f'--{flag} {v}: no such file')
    if args.output_layers is not None:
        try:
            args.output_layers = [int(s) for s in args.output_layers.split(',') if s.strip()]
        except ValueError:
            p.error(f'--output-layers {args.output_layers!r}: comma-separated integers expected')
    return args


def config_from_args(args) -> ModelConfig:
    return build_config(args.arch, args.image_size, prompt_depth=args.prompt_depth,
                        prompt_length=args.prompt_length, prompt_type=args.prompt_type,
                        prompt_branch=args.prompt_branch, output_layers=args.output_layers,
                        k_clusters=args.k_clusters, hsf_top_k=args.hsf_top_k, hsf_alpha=args.hsf_alpha)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        cfg = config_from_args(args)
        from bundle import vocab_special_ids
        vocab_special_ids(args.vocab)  # fail early on a bad vocabulary
        training = (read_training_record(args.training, args.clip, args.adaclip, cfg.image_size, cfg.name)
                    if args.training else None)
        model = build_model(cfg, args.clip, args.adaclip, args.random_init)
    except (ConfigError, WeightError, TrainingRecordError, ValueError) as e:
        print(f'export.py: error: {e}', file=sys.stderr)
        return 2
    log(f'{cfg.name} at S={cfg.image_size}: grid {cfg.grid}, top-K {cfg.top_k}, output layers {cfg.output_layers}')
    prepare_out_dir(args.out)
    onnx_path = os.path.join(args.out, 'model.onnx')
    export_onnx(model, onnx_path)
    with heartbeat('fixing IO dims and checking the graph'):
        fix_io_dims(onnx_path, cfg)
        check_onnx(onnx_path)
    version = exporter_version()
    if args.random_init is not None:
        prov = provenance_random(args.random_init, version)
    elif training is not None:
        prov = provenance_synthetic(args.clip, args.adaclip, training, version)
        log(f'provenance synthetic-trained: {training["note"]} ({training["kinds"]}, seeds {training["trainSeeds"]}, '
            f'{training["steps"]} steps)')
    else:
        prov = provenance_checkpoint(args.clip, args.adaclip, version)
    log('hashing files and writing manifest.json')
    with heartbeat('hashing'):
        finish_bundle(args.out, cfg, args.vocab, prov, bundle_version=args.bundle_version)
    log(f'bundle ready: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
