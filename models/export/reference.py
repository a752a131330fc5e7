#!/usr/bin/python3
"""Runs the exporter's own PyTorch forward (the graph model.onnx was traced from) on preprocessed
inputs and writes every output as .npy, so onnxruntime / TensorRT results can be compared with it.

  # a bundle made with --random-init: its manifest holds everything needed to rebuild the weights
  /usr/bin/python3 models/export/reference.py --bundle models/bundles/demo-untrained \
      --input a.npy --input b.npy --class screw --class pill --out /tmp/ref
  # a checkpoint bundle also needs the weights it came from
  ... --bundle DIR --clip ViT-L-14-336px.pt --adaclip pretrained_all.pth ...

Inputs are float32 .npy [3,S,S] (or [B,3,S,S]); one --class for all inputs or one per input; or
--tokens FILE.npy int64 [B,Q,T] instead of --class. --context full|cut: 77 tokens, or cut to
max(largest EOT index + 1, prompt length + 2) (what the service feeds). Writes to --out: anomaly_map.npy [B,S,S],
global_feature.npy [B,D], text_features.npy [B,2,D], hsf_indices.npy int64 [B,K], hsf_tokens.npy
[B,K,L,D], score_no_hsf.npy [B], map_official_form.npy [B,S,S], tokens.npy [B,Q,T], and prints a
JSON summary on stdout."""
from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from arch import build_config, config_from_manifest  # noqa: E402
from clip_bpe import ClipBpe, prompt_tokens  # noqa: E402
from weights import build_model  # noqa: E402

OUTPUTS = ['anomaly_map', 'global_feature', 'text_features', 'hsf_indices', 'hsf_tokens', 'score_no_hsf',
           'map_official_form']


def load_inputs(paths, size: int) -> np.ndarray:
    arrays = []
    for p in paths:
        a = np.load(p)
        if a.dtype != np.float32:
            raise ValueError(f'{p}: dtype {a.dtype}, expected float32')
        if a.ndim == 3:
            a = a[None]
        if a.ndim != 4 or a.shape[1:] != (3, size, size):
            raise ValueError(f'{p}: shape {a.shape}, expected [3,{size},{size}] or [B,3,{size},{size}]')
        arrays.append(a)
    return np.concatenate(arrays, axis=0)


def cut_context(tokens: np.ndarray, prompt_length: int) -> np.ndarray:
    """[B,Q,77] -> [B,Q,T], T = max(largest EOT index + 1, P + 2): what the service feeds."""
    t = max(int(tokens.argmax(axis=-1).max()) + 1, prompt_length + 2)
    return tokens[:, :, :t]


def class_tokens(bpe: ClipBpe, classes, batch: int, context: str, prompt_length: int) -> np.ndarray:
    if len(classes) == 1:
        classes = classes * batch
    if len(classes) != batch:
        raise ValueError(f'{len(classes)} --class values for {batch} images: give one, or one per image')
    rows = [prompt_tokens(bpe, c, 77) for c in classes]
    tokens = np.array(rows, dtype=np.int64)  # [B,Q,77]
    return cut_context(tokens, prompt_length) if context == 'cut' else tokens


def run(model, images: np.ndarray, tokens: np.ndarray) -> dict:
    with torch.no_grad():
        out = model(torch.from_numpy(images), torch.from_numpy(tokens), intermediates=True)
    return {k: out[k].numpy() for k in OUTPUTS}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--bundle', help='bundle folder (architecture, settings, vocabulary and seed from its manifest)')
    p.add_argument('--arch', help='without --bundle: architecture name or JSON')
    p.add_argument('--image-size', type=int, help='without --bundle')
    p.add_argument('--vocab', help='without --bundle: BPE vocabulary for --class')
    p.add_argument('--clip')
    p.add_argument('--adaclip')
    p.add_argument('--random-init', type=int, metavar='SEED')
    p.add_argument('--input', action='append', required=True)
    p.add_argument('--class', dest='classes', action='append')
    p.add_argument('--tokens')
    p.add_argument('--context', choices=['full', 'cut'], default='cut')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        seed = args.random_init
        if args.bundle:
            with open(os.path.join(args.bundle, 'manifest.json'), encoding='utf-8') as f:
                manifest = json.load(f)
            cfg = config_from_manifest(manifest)
            vocab = os.path.join(args.bundle, manifest['tokenizer']['vocab'])
            prov = manifest['provenance']
            if seed is None and prov['kind'] == 'untrained-test' and not args.clip:
                seed = prov['seed']
        else:
            if not args.arch or not args.image_size:
                p.error('give --bundle, or --arch and --image-size')
            cfg = build_config(args.arch, args.image_size)
            vocab = args.vocab
        if seed is None and not (args.clip and args.adaclip):
            p.error('weights: --clip and --adaclip, --random-init, or an untrained-test --bundle')
        images = load_inputs(args.input, cfg.image_size)
        if args.tokens:
            tokens = np.load(args.tokens).astype(np.int64)
            if tokens.ndim == 2:
                tokens = np.broadcast_to(tokens, (images.shape[0],) + tokens.shape).copy()
            if args.context == 'cut':
                tokens = cut_context(tokens, cfg.prompt_length)
        else:
            if not args.classes or not vocab:
                p.error('give --class (and a vocabulary) or --tokens')
            tokens = class_tokens(ClipBpe(vocab), args.classes, images.shape[0], args.context, cfg.prompt_length)
        if tokens.shape[:2] != (images.shape[0], cfg.n_sentences):
            raise ValueError(f'tokens shape {tokens.shape}: expected [{images.shape[0]},{cfg.n_sentences},T]')
        model = build_model(cfg, args.clip, args.adaclip, seed)
    except (ValueError, OSError, KeyError) as e:
        print(f'reference.py: error: {e}', file=sys.stderr)
        return 2
    out = run(model, images, tokens)
    os.makedirs(args.out, exist_ok=True)
    for name, arr in out.items():
        np.save(os.path.join(args.out, f'{name}.npy'), arr)
    np.save(os.path.join(args.out, 'tokens.npy'), tokens)
    summary = {
        'out': args.out,
        'batch': int(images.shape[0]),
        'context': int(tokens.shape[2]),
        'score_no_hsf': [float(s) for s in out['score_no_hsf']],
        'files': sorted([f'{n}.npy' for n in out] + ['tokens.npy']),
    }
    print(json.dumps(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
