#!/usr/bin/python3
"""Floating-point work per image of the official AdaCLIP inference and of our exported graph, by
stage, counted from the architecture (a multiply-add is 2 FLOP): the load-independent side of the
model benchmarks. Only the matrix products are counted (the linear layers, attention's two products,
the patch embedding); layer norms, softmax, GELU and the rest are under 1 % at these sizes.
- vision_unprompted: the frozen pass over CLS + patches; ours computes only the CLS row in its last
  block (the only row used);
- vision_prompted: the same blocks with the prompt tokens appended;
- text: the official code runs every one of the 48 sentences through every block at the 77-token
  context; ours cuts the context after the longest sentence's end token (at least prompt length + 2)
  and computes the prompt prefix once per image (AdaClipGraph.encode_text_shared).

  /usr/bin/python3 models/export/count_flops.py --arch ViT-L-14-336 --image-size 518 [--context 16]
Prints one JSON line: GFLOP per stage for official and ours."""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from arch import build_config  # noqa: E402


def block(rows: int, keys: int, width: int, mlp: float) -> float:
    """One pre-LN transformer block: `rows` query rows attending to `keys` rows."""
    hidden = int(width * mlp)
    qkv = 2 * rows * width * width + 2 * 2 * keys * width * width  # Q for the rows, K and V for all keys
    attention = 2 * 2 * rows * keys * width
    out_and_mlp = 2 * rows * width * width + 2 * 2 * rows * width * hidden
    return qkv + attention + out_and_mlp


def count(arch: str, size: int, context: int) -> dict:
    cfg = build_config(arch, size)
    w, layers, mlp = cfg.vision_width, cfg.vision_layers, cfg.mlp_ratio
    tokens = cfg.n_patches + 1
    p = cfg.prompt_length if cfg.visual_prompts else 0
    embed = 2 * cfg.n_patches * 3 * cfg.patch_size ** 2 * w
    full = layers * block(tokens, tokens, w, mlp)
    cls_last = (layers - 1) * block(tokens, tokens, w, mlp) + block(1, tokens, w, mlp)
    prompted = layers * block(tokens + p, tokens + p, w, mlp)
    tw, tl, q = cfg.text_width, cfg.text_layers, cfg.n_sentences
    official_text = q * tl * block(cfg.context_length, cfg.context_length, tw, mlp)
    t = max(context, cfg.prompt_length + 2)
    prefix = 1 + cfg.prompt_length
    # block 0 on every full sentence; then the shared prefix once and each sentence's suffix rows
    ours_text = q * block(t, t, tw, mlp) + (tl - 1) * (block(prefix, prefix, tw, mlp) + q * block(t - prefix, t, tw, mlp))
    g = 1e-9
    official = {'vision_unprompted': (embed + full) * g, 'vision_prompted': (embed + prompted) * g,
                'text': official_text * g}
    ours = {'vision_unprompted': (embed + cls_last) * g, 'vision_prompted': prompted * g, 'text': ours_text * g}
    r = lambda d: {k: round(v, 1) for k, v in {**d, 'total': sum(d.values())}.items()}  # noqa: E731
    return {'arch': arch, 'image_size': size, 'context_ours': t, 'official_gflop': r(official), 'ours_gflop': r(ours)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--arch', default='ViT-L-14-336')
    p.add_argument('--image-size', type=int, default=518)
    p.add_argument('--context', type=int, default=16,
                   help="our cut context: the longest sentence's tokens (16 for transistor-board)")
    args = p.parse_args(argv)
    print(json.dumps(count(args.arch, args.image_size, args.context)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
