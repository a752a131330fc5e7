#!/usr/bin/python3
"""Assigns every node of an exported AdaCLIP graph (model.onnx, or the graph onnxruntime optimised
from it: fused nodes keep working) to a stage of the official inference, by data flow. Both vision
passes start from the patch embedding, whose last step is ln_pre: the first layer normalisation
downstream of the image (the exporter computes the embedding once). The prompted pass starts where
the prompts are appended to it (a Concat reading it; without visual prompts, its last reader).
- vision_prompted: depends on that start and not on the tokens;
- text: depends on the tokens but not on the prompted pass (the text tower and the text features);
- post: depends on both (logits, top-K selection and gather for HSF, the map);
- vision_unprompted: depends on the image only (the frozen pass that makes the dynamic prompts, and
  the shared embedding);
- constant: depends on no input.

  /usr/bin/python3 models/export/graph_stages.py MODEL.onnx [IMAGE_INPUT TOKENS_INPUT]
Prints one JSON object {node name: stage}."""
from __future__ import annotations

import json
import sys

import onnx


def stages(model: onnx.ModelProto, image: str = 'image', tokens: str = 'tokens') -> dict:
    g = model.graph
    norms = ('LayerNormalization', 'SkipLayerNormalization', 'SimplifiedLayerNormalization')
    # tensors downstream of the image, and whether a layer normalisation lies on the way
    seen = {image: False}
    roots = []
    for n in g.node:
        ins = [seen[i] for i in n.input if i in seen]
        if not ins:
            continue
        if n.op_type in norms and not any(ins):
            roots.append(n)
        for o in n.output:
            seen[o] = any(ins) or n.op_type in norms
    if not roots:
        raise SystemExit('graph_stages.py: no layer normalisation downstream of the image (ln_pre)')
    embeddings = {r.output[0] for r in roots}
    readers = [n for n in g.node if embeddings & set(n.input)]
    concats = [n for n in readers if n.op_type == 'Concat']
    if not readers:
        raise SystemExit('graph_stages.py: nothing reads the patch embedding')
    prompted_start = (concats or readers)[-1].name
    # per tensor: (depends on image, on tokens, on the prompted pass), in topological order
    flags = {image: (True, False, False), tokens: (False, True, False)}
    out = {}
    for n in g.node:  # ONNX graphs are topologically sorted
        im = tok = pr = False
        for i in n.input:
            a, b, c = flags.get(i, (False, False, False))
            im, tok, pr = im or a, tok or b, pr or c
        # subgraphs (If/Loop bodies) read outer tensors by name: count those too
        for attr in n.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                for sub in attr.g.node:
                    for i in sub.input:
                        a, b, c = flags.get(i, (False, False, False))
                        im, tok, pr = im or a, tok or b, pr or c
        if n.name == prompted_start:
            pr = True
        for o in n.output:
            flags[o] = (im, tok, pr)
        if pr and tok:
            stage = 'post'
        elif pr:
            stage = 'vision_prompted'
        elif tok:
            stage = 'text'
        elif im:
            stage = 'vision_unprompted'
        else:
            stage = 'constant'
        out[n.name] = stage
    return out


def main(argv) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    model = onnx.load(argv[1], load_external_data=False)
    args = argv[2:4] if len(argv) >= 4 else ['image', 'tokens']
    print(json.dumps(stages(model, *args)))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
