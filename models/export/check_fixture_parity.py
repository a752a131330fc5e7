#!/usr/bin/python3
"""Parity of the exporter's PyTorch graph with the OFFICIAL AdaCLIP outputs recorded in
shared/fixtures/official-adaclip-tiny (tiny random CLIP, S = 126 and 154, 2 images x 3 classes).

Prints one JSON object of max abs errors: maps, scores without HSF, every recorded intermediate,
top-K indices, the resized position embedding, our tokenizer against the official ids, the HSF score
with the official K-Means (sklearn, random_state 0) run on our hsf_tokens, and the context cut
(77 tokens vs largest EOT + 1) as the largest difference over all outputs.

  /usr/bin/python3 models/export/check_fixture_parity.py [--fixture DIR] [--vocab FILE]"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from arch import build_config  # noqa: E402
from clip_bpe import ClipBpe, prompt_sentences, prompt_tokens  # noqa: E402
from weights import build_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures')  # the official outputs and the vocabulary
INTERMEDIATE = 'brushed_metal_dent_300x200__transistor-board'


def maxabs(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size != b.size:
        raise ValueError(f'size mismatch {a.shape} vs {b.shape}')
    return float(np.abs(a.reshape(-1) - b.reshape(-1)).max())


def official_hsf_score(hsf_tokens: np.ndarray, u: np.ndarray, t: np.ndarray, k_clusters: int, alpha: float):
    """The official HybridSemanticFusion + fusion + score on our top-K tokens ([K,L,D])."""
    from sklearn.cluster import KMeans
    k, n_layers, d = hsf_tokens.shape
    x = hsf_tokens.reshape(k, n_layers * d)  # layer-concatenated rows in top-K order, as the official
    labels = KMeans(n_clusters=k_clusters, n_init='auto', random_state=0).fit_predict(x)
    tok = torch.from_numpy(hsf_tokens)
    centres = []
    for c in range(k_clusters):
        rows = torch.cat([tok[:, l, :][torch.from_numpy(labels == c)] for l in range(n_layers)], dim=0)
        centres.append(rows.mean(dim=0, keepdim=True))
    f = torch.nn.functional.normalize(torch.cat(centres, 0).mean(dim=0)[None], dim=1)
    fused = torch.nn.functional.normalize(alpha * f + (1 - alpha) * torch.from_numpy(u)[None], dim=1)
    logits = (100.0 * fused.unsqueeze(1) @ torch.from_numpy(t).T[None]).squeeze(1)
    return labels, float(torch.softmax(logits, dim=1)[0, 1])


def check_case(fx: dict, fixture: str, size: int, bpe: ClipBpe, jsonl_ids: dict) -> dict:
    case = fx['cases'][f'tiny_s{size}']
    cfg = build_config(os.path.join(fixture, 'model_config.json'), size)
    model = build_model(cfg, os.path.join(fixture, 'weights', 'clip_state_dict.pt'),
                        os.path.join(fixture, 'weights', 'adaclip_ckpt.pth'))
    base = os.path.join(fixture, f'tiny_s{size}')
    err = {'map': 0.0, 'map_official_form': 0.0, 'score_no_hsf': 0.0, 'hsf_score_seed0': 0.0,
           'context_cut_vs_full77': 0.0, 'batch_vs_single': 0.0}
    pos = np.load(os.path.join(base, 'intermediates', 'visual_positional_embedding_resized.npy'))
    err['positional_embedding_resized'] = maxabs(model.visual.positional_embedding.detach().numpy(), pos)
    classes = fx['class_names']
    results = {(r['image'], r['class_name']): r for r in case['results']}
    images = sorted({r['image'] for r in case['results']})
    batch_inputs, batch_tokens, batch_single = [], [], []
    for image in images:
        x = np.load(os.path.join(base, 'inputs', f'{image}.npy'))[None]
        for cls in classes:
            full = np.array([prompt_tokens(bpe, cls, 77)], dtype=np.int64)
            ours = [list(r[:int(np.argmax(r)) + 1]) for r in full[0]]
            if ours != jsonl_ids[cls]:
                raise AssertionError(f'our tokenizer differs from the official ids for class {cls}')
            cut = full[:, :, :int(full.argmax(-1).max()) + 1]
            with torch.no_grad():
                o = model(torch.from_numpy(x), torch.from_numpy(cut), intermediates=True)
                o77 = model(torch.from_numpy(x), torch.from_numpy(full), intermediates=True)
            for k in o:
                err['context_cut_vs_full77'] = max(err['context_cut_vs_full77'], maxabs(o[k], o77[k]))
            r = results[(image, cls)]
            official_map = np.load(os.path.join(fixture, r['anomaly_map']))
            err['map'] = max(err['map'], maxabs(o['anomaly_map'][0], official_map))
            err['map_official_form'] = max(err['map_official_form'], maxabs(o['map_official_form'][0], official_map))
            err['score_no_hsf'] = max(err['score_no_hsf'], abs(float(o['score_no_hsf'][0]) - r['score_no_hsf']))
            labels, hsf = official_hsf_score(o['hsf_tokens'][0].numpy(), o['global_feature'][0].numpy(),
                                             o['text_features'][0].numpy(), cfg.k_clusters, cfg.hsf_alpha)
            err['hsf_score_seed0'] = max(err['hsf_score_seed0'], abs(hsf - r['score_hsf_seed0']))
            batch_inputs.append(x)
            batch_tokens.append(cut)
            batch_single.append(o)
            if (image, cls) == tuple(INTERMEDIATE.split('__')):
                err.update(check_intermediates(os.path.join(base, 'intermediates', INTERMEDIATE), o, full, labels))
                err['context_cut_vs_full77_float64'] = context_cut_float64(model, x, full, cut)
                err['shared_prefix_vs_plain_text'] = shared_vs_plain(model, x, cut)[0]
    # all 6 image x class pairs in one batch: each image keeps its own prompts and sentences
    width = max(t.shape[2] for t in batch_tokens)
    tokens = np.concatenate([np.pad(t, ((0, 0), (0, 0), (0, width - t.shape[2]))) for t in batch_tokens])
    with torch.no_grad():
        ob = model(torch.from_numpy(np.concatenate(batch_inputs)), torch.from_numpy(tokens))
    for i, single in enumerate(batch_single):
        for k in ob:
            err['batch_vs_single'] = max(err['batch_vs_single'], maxabs(ob[k][i], single[k][0]))
    err['batch'] = len(batch_single)
    return err


def context_cut_float64(model, x: np.ndarray, full: np.ndarray, cut: np.ndarray) -> float:
    """In float64 the cut and the full context agree to ~1e-15: the float32 difference above is
    rounding from different matrix shapes, not a change of the function."""
    m64 = copy.deepcopy(model).double()
    xx = torch.from_numpy(x).double()
    with torch.no_grad():
        a = m64(xx, torch.from_numpy(cut))
        b = m64(xx, torch.from_numpy(full))
    return max(maxabs(a[k], b[k]) for k in a)


def shared_vs_plain(model, x: np.ndarray, tokens: np.ndarray, float64: bool = False) -> tuple:
    """The text tower computing the prompt prefix once per image vs every sentence in full."""
    m = copy.deepcopy(model)
    xx = torch.from_numpy(x)
    if float64:
        m, xx = m.double(), xx.double()
    with torch.no_grad():
        m.share_prefix = True
        a = m(xx, torch.from_numpy(tokens))
        m.share_prefix = False
        b = m(xx, torch.from_numpy(tokens))
    return max(maxabs(a[k], b[k]) for k in a), a


def random_deep_checks(bpe: ClipBpe) -> dict:
    """An 8-layer random model (prompt depth 4 < 8: the pass-through blocks run), S=154 (position
    grid resized from 6x6, K=100 < 121 patches), batch 3 with different classes: the shared-prefix
    text path and the context cut are exact in float64."""
    arch = ('random-deep', {
        'embed_dim': 48,
        'vision_cfg': {'image_size': 84, 'layers': 8, 'width': 64, 'head_width': 32, 'patch_size': 14},
        'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': 48, 'heads': 4, 'layers': 8},
    })
    cfg = build_config(arch, 154)
    model = build_model(cfg, seed=5)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 3, 154, 154, generator=gen).numpy()
    full = np.array([prompt_tokens(bpe, c, 77) for c in ('screw', 'metal_nut', 'o-ring')], dtype=np.int64)
    cut = full[:, :, :int(full.argmax(-1).max()) + 1]
    e32, out = shared_vs_plain(model, x, cut)
    e64, _ = shared_vs_plain(model, x, cut, float64=True)
    return {
        'top_k': int(out['hsf_indices'].shape[1]),
        'context': int(cut.shape[2]),
        'shared_prefix_vs_plain_text': e32,
        'shared_prefix_vs_plain_text_float64': e64,
        'context_cut_vs_full77_float64': context_cut_float64(model, x, full, cut),
        'cls_only_unprompted_vs_full_float64': cls_only_vs_full(model, x, cut),
    }


def cls_only_vs_full(model, x: np.ndarray, tokens: np.ndarray) -> float:
    """The unprompted pass with only the CLS row in its last block vs all rows, in float64."""
    m = copy.deepcopy(model).double()
    xx = torch.from_numpy(x).double()
    with torch.no_grad():
        m.cls_only_unprompted = True
        a = m(xx, torch.from_numpy(tokens))
        m.cls_only_unprompted = False
        b = m(xx, torch.from_numpy(tokens))
    return max(maxabs(a[k], b[k]) for k in a)


def check_intermediates(d: str, o: dict, full_tokens: np.ndarray, labels: np.ndarray) -> dict:
    ld = lambda name: np.load(os.path.join(d, name))  # noqa: E731
    e = {
        'tokens_vs_official': maxabs(full_tokens[0], ld('prompt_tokens_48x77.npy')),
        'pooled_unprompted': maxabs(o['pooled_unprompted'], ld('pooled_unprompted_1xD.npy')),
        'dynamic_visual_prompts': maxabs(o['dynamic_visual_prompts'], ld('dynamic_visual_prompts_1x5xWv.npy')),
        'dynamic_text_prompts': maxabs(o['dynamic_text_prompts'], ld('dynamic_text_prompts_1x5xD.npy')),
        'pooled_prompted': maxabs(o['pooled_prompted'], ld('pooled_prompted_1xD.npy')),
        'global_feature': maxabs(o['global_feature'], ld('proj_cls_feature_1xD.npy')),
        'text_embeddings_raw': maxabs(o['text_embeddings_raw'][0], ld('text_embeddings_raw_48xD.npy')),
        'text_features': maxabs(o['text_features'][0].T, ld('text_features_Dx2.npy')),
        'proj_patch_tokens': max(maxabs(o[f'proj_patch_tokens_{i}'], ld(f'proj_patch_tokens_layer{i + 1}_1xNxD.npy'))
                                 for i in range(4)),
        'hsf_topk_indices_mismatches': int((o['hsf_indices'][0].numpy() != ld('hsf_topk_indices_K.npy')).sum()),
        'kmeans_labels_seed0_mismatches': int((labels != ld('kmeans_labels_seed0_K.npy')).sum()),
    }
    return e


def load_jsonl_ids(fixture: str, classes) -> dict:
    """The official ids of the 48 sentences of each class (tokenizer fixture, lines 509..988)."""
    with open(os.path.join(fixture, 'tokenizer', 'simple_tokenizer_ids.jsonl'), encoding='utf-8') as f:
        lines = [json.loads(l) for l in f]
    by_text = {l['text']: l['ids'] for l in lines}
    return {c: [by_text[s] for s in prompt_sentences(c)] for c in classes}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--fixture', default=os.path.join(FIXTURES, 'official-adaclip-tiny'))
    p.add_argument('--vocab', default=os.path.join(FIXTURES, 'bpe_simple_vocab_16e6.txt.gz'))
    args = p.parse_args(argv)
    torch.set_num_threads(2)  # as the fixture was made
    with open(os.path.join(args.fixture, 'fixture.json'), encoding='utf-8') as f:
        fx = json.load(f)
    bpe = ClipBpe(args.vocab)
    jsonl = load_jsonl_ids(args.fixture, fx['class_names'])
    report = {'fixture': args.fixture, 'torch': torch.__version__, 'cases': {}}
    for size in (126, 154):
        report['cases'][f'tiny_s{size}'] = check_case(fx, args.fixture, size, bpe, jsonl)
    report['random_deep'] = random_deep_checks(bpe)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
