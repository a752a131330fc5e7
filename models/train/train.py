#!/usr/bin/python3
"""Trains the AdaCLIP graph of the exporter (models/export/adaclip_graph.py: CLIP towers, static and
dynamic prompts, patch and CLS projections) from scratch on `adaclip-edge synth` folders, with
AdaCLIP's objective: focal + dice on every output layer's map, cross-entropy on the image score.
There is no pretrained CLIP here, so the whole graph is trained; the result is a demo model of the
synthetic line only, not the released AdaCLIP weights.

  /usr/bin/python3 models/train/train.py --data /tmp/synth-train-1,/tmp/synth-train-2 \
      --val /tmp/synth-val --out models/train/weights --name demo-synthetic

Writes OUT/NAME-clip.pt (OpenAI key naming), OUT/NAME-adaclip.pt (official AdaCLIP keys) and
OUT/NAME.json (the training record: data, seeds, settings, losses, times), which
models/export/export.py turns into a bundle (--provenance-training OUT/NAME.json)."""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time

# Threads that sleep when idle instead of spinning (set before torch loads libgomp): on a shared,
# loaded machine spinning OpenMP threads took 5x the CPU time of a training step here.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'export'))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import adaclip_graph  # noqa: E402
from adaclip_graph import AdaClipGraph  # noqa: E402
from arch import build_config  # noqa: E402
from bundle import write_bytes_only_vocab  # noqa: E402
from checkpoint import round_like_export, save, sha256_file  # noqa: E402
from clip_bpe import ClipBpe, prompt_tokens  # noqa: E402
from data import load_folders, to_tensor_batch  # noqa: E402
from hsf_train import fuse, hsf_feature  # noqa: E402
from losses import map_loss, patch_loss, peak_loss  # noqa: E402
from metrics import auroc  # noqa: E402

NOTE = 'trained on the synthetic line only, not the released AdaCLIP weights'


def contiguous_heads() -> None:
    """Training only: q, k and v made contiguous before the attention products. Debian's torch 1.13
    (generic BLAS) runs a batched product of transposed views 13x slower than of contiguous tensors
    (82 vs 6.5 ms for [16,3,262,32] here); with it a step took 16 s instead of 0.9 s. The exported
    graph is unchanged (ONNX has no strides), so is the exporter's parity."""
    heads_of = adaclip_graph.Block.heads_of

    def contiguous(self, x):
        return tuple(t.contiguous() for t in heads_of(self, x))

    adaclip_graph.Block.heads_of = contiguous


def log(msg: str) -> None:
    print(f'[train] {msg}', file=sys.stderr, flush=True)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class ClassTokens:
    """The 48 prompt sentences of every class name, tokenised with the bundle's bytes-only vocabulary
    and cut to one common context (causal attention: the padding changes nothing)."""

    def __init__(self, names, prompt_length: int):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'vocab_bytes_only.txt.gz')
            write_bytes_only_vocab(path)
            bpe = ClipBpe(path)
        rows = {n: np.array(prompt_tokens(bpe, n, 77), np.int64) for n in sorted(set(names))}
        t = max(prompt_length + 2, max(int(r.argmax(axis=-1).max()) + 1 for r in rows.values()))
        self.by_name = {n: torch.from_numpy(r[:, :t].copy()) for n, r in rows.items()}
        self.context = t

    def batch(self, names, rows=None) -> torch.Tensor:
        t = torch.stack([self.by_name[n] for n in names])
        return t if rows is None else t[:, rows, :]


def sentence_sample(cfg, per_state: int, rng: np.random.Generator):
    """per_state normal and per_state abnormal sentences, drawn for one training step (0: all 48).
    The text feature of a state is the mean over its sentences: a sample estimates it, at a
    fraction of the text tower's cost, the largest part of a training step here."""
    n, a = cfg.n_normal_sentences, cfg.n_abnormal_sentences
    if per_state <= 0 or per_state >= min(n, a):
        return None, n
    normal = np.sort(rng.choice(n, per_state, replace=False))
    abnormal = n + np.sort(rng.choice(a, per_state, replace=False))
    return torch.from_numpy(np.concatenate([normal, abnormal])), per_state


def text_features(raw: torch.Tensor, n_normal: int) -> torch.Tensor:
    """AdaClipGraph.text_features for any number of sentences: the first n_normal are the normal ones."""
    e = raw / raw.norm(dim=-1, keepdim=True)
    states = []
    for part in (e[:, :n_normal, :], e[:, n_normal:, :]):
        m = part.mean(dim=1)
        states.append(m / m.norm(dim=-1, keepdim=True))
    return F.normalize(torch.stack(states, dim=1), dim=-1)


def forward(model: AdaClipGraph, image: torch.Tensor, tokens: torch.Tensor, n_normal: int, scale: float = 100.0,
            image_scale: float = 100.0, hsf: bool = False):
    """The graph's own pieces, returning what the loss needs: every output layer's patch logits
    [B,N,2] and the image logits [B,2] (scale u . t, the score without HSF, or with hsf scale u' . t,
    the product's score; the graph's scale is 100).
    tokens [B,Q,T] holds
    n_normal normal sentences, then abnormal ones (all 48, or a sample of them while training)."""
    cfg = model.cfg
    assert cfg.dynamic and cfg.static
    # The source of the dynamic prompts is the frozen CLIP in AdaCLIP: no gradient flows back
    # through this pass (the tower is trained through the prompted pass).
    with torch.no_grad():
        g = model.unprompted_pooled(image)
    dyn_v = torch.stack([lin(g) for lin in model.dynamic_visual], dim=1)
    dyn_t = torch.stack([lin(g) for lin in model.dynamic_text], dim=1)
    pooled, layer_tokens = model.prompted_vision(image, dyn_v)
    u = model.cls_head(pooled)
    u = u / u.norm(dim=-1, keepdim=True)
    t_cols = text_features(model.encode_text(tokens, dyn_t), n_normal).transpose(1, 2)  # [B,D,2]
    layer_logits, proj = [], []
    for head, tok in zip(model.patch_heads, layer_tokens):
        tl = head(tok)
        proj.append(tl / tl.norm(dim=-1, keepdim=True))
        layer_logits.append((scale * proj[-1]) @ t_cols)
    if hsf:
        u = fuse(u, hsf_feature(proj, layer_logits, cfg.k_clusters, cfg.top_k), cfg.hsf_alpha)
    image_logits = (image_scale * u.unsqueeze(1) @ t_cols).squeeze(1)
    # cosine of each image's normal and abnormal text features: near 1 (as from a random text
    # tower) every map and score is near 0.5 and the vision side gets almost no gradient
    forward.state_cosine = (t_cols[:, :, 0] * t_cols[:, :, 1]).sum(-1)
    return layer_logits, image_logits


def layer_probs(logits: torch.Tensor, grid: int, size: int) -> torch.Tensor:
    """[B,N,2] patch logits -> [B,2,S,S] probabilities, as the official per-layer map."""
    b = logits.shape[0]
    m = logits.permute(0, 2, 1).reshape(b, 2, grid, grid)
    m = F.interpolate(m, size=(size, size), mode='bilinear', align_corners=True)
    return torch.softmax(m, dim=1)


def augment(x: np.ndarray, m: np.ndarray, rng: np.random.Generator):
    """Mirror images (and masks) left-right and top-bottom at random: the belt looks the same."""
    x, m = x.copy(), m.copy()
    for i in range(len(x)):
        if rng.random() < 0.5:
            x[i], m[i] = x[i][:, ::-1], m[i][:, ::-1]
        if rng.random() < 0.5:
            x[i], m[i] = x[i][::-1], m[i][::-1]
    return x, m


@torch.no_grad()
def validate(model: AdaClipGraph, val, tokens: ClassTokens, batch: int, hsf: bool = False) -> dict:
    model.eval()
    cfg = model.cfg
    scores, maps, peaks = [], [], []
    for i in range(0, len(val.labels), batch):
        x = torch.from_numpy(to_tensor_batch(val.images[i:i + batch]))
        layer_logits, image_logits = forward(model, x, tokens.batch(val.kinds[i:i + batch]),
                                             cfg.n_normal_sentences, hsf=hsf)
        scores.append(torch.softmax(image_logits, dim=-1)[:, 1].numpy())
        mean = torch.stack(layer_logits).mean(0)
        diff = (mean[:, :, 1] - mean[:, :, 0]).reshape(-1, 1, cfg.grid, cfg.grid)
        up = F.interpolate(diff, size=(cfg.image_size, cfg.image_size), mode='bilinear', align_corners=True)
        maps.append(torch.sigmoid(up[:, 0]).numpy()[:, ::4, ::4])  # every 4th pixel: enough for the log
        peaks.append(diff.amax(dim=(1, 2, 3)).numpy())
    model.train()
    s = np.concatenate(scores)
    mp = np.concatenate(maps)
    out = {'imageAuroc': auroc(val.labels, s), 'pixelAuroc': auroc(val.masks[:, ::4, ::4], mp),
           'imageAurocMapPeak': auroc(val.labels, np.concatenate(peaks))}
    for kind in sorted(set(val.kinds)):
        sel = np.array([k == kind for k in val.kinds])
        out[f'imageAuroc.{kind}'] = auroc(val.labels[sel], s[sel])
    return out


def init_for_training(model: AdaClipGraph, seed: int) -> None:
    """A from-scratch initialisation (ViT/GPT practice), not the CLIP-like scales of random_init:
    small normal weights, residual projections scaled down with depth, zero biases, unit norms."""
    gen = torch.Generator().manual_seed(seed)
    cfg = model.cfg
    with torch.no_grad():
        for name, p in model.named_parameters():
            if '.ln_' in name or name.startswith(('text.ln_final', 'visual.ln_')):
                p.copy_(torch.ones_like(p) if name.endswith('weight') else torch.zeros_like(p))
            elif name.endswith('bias'):
                p.zero_()
            elif name == 'visual.proj':
                p.copy_(torch.randn(p.shape, generator=gen) * cfg.vision_width ** -0.5)
            elif name == 'text.text_projection':
                p.copy_(torch.randn(p.shape, generator=gen) * cfg.text_width ** -0.5)
            else:
                std = 0.02
                if name.endswith(('out_proj.weight', 'c_proj.weight')):
                    layers = cfg.vision_layers if name.startswith('visual.') else cfg.text_layers
                    std = 0.02 / math.sqrt(2 * layers)
                p.copy_(torch.randn(p.shape, generator=gen) * std)


TEXT_TOWER = ('text.',)


def separate_states(model: AdaClipGraph, train, tokens: ClassTokens, steps: int, lr: float, batch: int,
                    rng: np.random.Generator) -> list:
    """Stage 0, in place of CLIP's pretrained text tower: the text side alone (tower, static and
    dynamic text prompts) learns to give each class's normal and abnormal sentences different
    features (their cosine goes down). Without it the map's direction t_abnormal - t_normal starts
    near 0 (cosine 0.94 at initialisation), and the patch loss, while the vision side cannot yet tell a
    defect, pulls it to exactly 0 (the loss's minimum for a map that knows nothing): cosine 0.999 after
    100 steps in every run that skipped it, and the map never learned a defect."""
    cfg = model.cfg
    params = [p for n, p in model.named_parameters()
              if n.startswith(TEXT_TOWER) or n.startswith(('text_static_prompts', 'dynamic_text'))]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    kinds = sorted(set(train.kinds))
    out = []
    for step in range(steps):
        idx = rng.choice(len(train.labels), size=batch, replace=False)
        with torch.no_grad():
            g = model.unprompted_pooled(torch.from_numpy(to_tensor_batch(train.images[idx])))
        names = [kinds[i % len(kinds)] for i in range(batch)]  # every class in every step
        dyn_t = torch.stack([lin(g) for lin in model.dynamic_text], dim=1)
        t = text_features(model.encode_text(tokens.batch(names), dyn_t), cfg.n_normal_sentences)
        cosine = (t[:, 0] * t[:, 1]).sum(-1).mean()
        opt.zero_grad()
        cosine.backward()
        opt.step()
        if (step + 1) % 10 == 0 or step + 1 == steps:
            out.append({'step': step + 1, 'stateCos': round(float(cosine), 4)})
            log(f'stage 0 (text): {json.dumps(out[-1])}')
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True, help='comma-separated synth folders to train on (their test/ split)')
    p.add_argument('--val', help='synth folder for the validation numbers in the log (another seed)')
    p.add_argument('--val-limit', type=int, default=150, help='validation images used (the first ones)')
    p.add_argument('--kinds', default='nut,screw', help='part kinds to train on')
    p.add_argument('--arch', default=os.path.join(HERE, '..', 'export', 'archs', 'demo.json'))
    p.add_argument('--image-size', type=int, default=224)
    p.add_argument('--text-steps', type=int, default=50,
                   help='steps of stage 0: the text side learns to separate normal from abnormal sentences')
    p.add_argument('--text-lr', type=float, default=5e-4, help='learning rate of stage 0')
    p.add_argument('--train-text-tower', action='store_true',
                   help='keep training the text tower after stage 0 (default: frozen, as CLIP is in AdaCLIP; '
                        'the text prompts keep learning)')
    p.add_argument('--stage1-steps', type=int, default=400,
                   help='steps of stage 1 (in place of a pretrained CLIP): patch-level BCE at --stage1-scale')
    p.add_argument('--stage1-scale', type=float, default=10.0, help='logit scale of stage 1 (the graph has 100)')
    p.add_argument('--image-scale', type=float, default=100.0,
                   help="logit scale of the image score in every stage (the graph's: the score is used at 100; "
                        'trained at the maps\' stage-1 scale it saturated at 100, every score 0 or 1)')
    p.add_argument('--steps', type=int, default=200, help="steps of stage 2: AdaCLIP's objective at scale 100")
    p.add_argument('--hsf-train', action='store_true',
                   help="the image score in training and validation with HSF, as the product computes it (hsf_train.py)")
    p.add_argument('--image-label-smoothing', type=float, default=0.0,
                   help='label smoothing of the image score\'s cross-entropy: bounds how sure it gets of a good part')
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--lr', type=float, default=1e-3, help='peak learning rate of stage 1')
    p.add_argument('--lr2', type=float, default=3e-4, help='peak learning rate of stage 2')
    p.add_argument('--weight-decay', type=float, default=0.01)
    p.add_argument('--warmup', type=int, default=20, help='warm-up steps at the start of each stage')
    p.add_argument('--sentences', type=int, default=4,
                   help='normal and abnormal prompt sentences sampled per step (0: all 48)')
    p.add_argument('--separation', type=float, default=1.0,
                   help="weight of the normal/abnormal text features' cosine in the loss (what CLIP's "
                        'pretraining gives AdaCLIP: two states that differ)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--log-every', type=int, default=20)
    p.add_argument('--val-every', type=int, default=200)
    p.add_argument('--out', default=os.path.join(HERE, 'weights'))
    p.add_argument('--name', default='demo-synthetic')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    contiguous_heads()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    t_wall, t_cpu = time.time(), cpu_seconds()
    cfg = build_config(args.arch, args.image_size)
    kinds = [k for k in args.kinds.split(',') if k]
    folders = [f for f in args.data.split(',') if f]
    log(f'{NOTE}: arch {cfg.name} S={cfg.image_size} grid {cfg.grid}, kinds {kinds}, data {folders}')
    train = load_folders(folders, cfg.image_size, kinds=kinds, log=log)
    val = load_folders([args.val], cfg.image_size, kinds=None, limit=args.val_limit, log=log) if args.val else None
    log(f'{len(train.labels)} training images ({int(train.labels.sum())} defective)'
        + (f', {len(val.labels)} validation images' if val else '')
        + f', read in {time.time() - t_wall:.0f} s')
    tokens = ClassTokens(train.kinds + (val.kinds if val else []), cfg.prompt_length)
    model = AdaClipGraph(cfg)
    init_for_training(model, args.seed)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    log(f'{n_params} parameters, token context {tokens.context}')
    text_history = separate_states(model, train, tokens, args.text_steps, args.text_lr, 4, rng)
    if not args.train_text_tower:
        for name, p in model.named_parameters():
            if name.startswith(TEXT_TOWER):
                p.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=args.weight_decay, betas=(0.9, 0.98))
    total = args.stage1_steps + args.steps

    def lr_at(step: int) -> float:
        """Stage 1: warm-up, then cosine down to a tenth; stage 2: a short warm-up to lr2, cosine to 0."""
        if step < args.stage1_steps:
            if step < args.warmup:
                return args.lr * (step + 1) / args.warmup
            frac = (step - args.warmup) / max(1, args.stage1_steps - args.warmup)
            return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        k = step - args.stage1_steps
        if k < args.warmup:
            return args.lr2 * (k + 1) / args.warmup
        frac = (k - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr2 * 0.5 * (1 + math.cos(math.pi * frac))

    history = []
    window = []
    t_train = time.time()
    for step in range(total):
        stage = 1 if step < args.stage1_steps else 2
        for group in opt.param_groups:
            group['lr'] = lr_at(step)
        idx = rng.choice(len(train.labels), size=args.batch, replace=False)
        xb, mb = augment(train.images[idx], train.masks[idx], rng)
        x = torch.from_numpy(to_tensor_batch(xb))
        gt = torch.from_numpy(mb.astype(np.float32))
        y = torch.from_numpy(train.labels[idx])
        rows, n_normal = sentence_sample(cfg, args.sentences, rng)
        scale = args.stage1_scale if stage == 1 else 100.0
        layer_logits, image_logits = forward(model, x, tokens.batch([train.kinds[i] for i in idx], rows), n_normal,
                                             scale, args.image_scale, args.hsf_train)
        cls = F.cross_entropy(image_logits, y, label_smoothing=args.image_label_smoothing)
        if stage == 1:
            seg = sum(patch_loss(z, gt, cfg.grid) for z in layer_logits)
            cls = cls + peak_loss(layer_logits, image_logits)
        else:
            seg = sum(map_loss(layer_probs(z, cfg.grid, cfg.image_size), gt) for z in layer_logits)
        separation = forward.state_cosine.mean()
        loss = seg + cls + args.separation * separation
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        window.append((float(seg), float(cls), float(separation)))
        if (step + 1) % args.log_every == 0 or step + 1 == total:
            s, c, sep = np.mean(window, axis=0)
            elapsed = time.time() - t_train
            entry = {'step': step + 1, 'stage': stage, 'seg': round(float(s), 4), 'cls': round(float(c), 4), 'stateCos': round(float(sep), 3),
                     'lr': round(lr_at(step), 7), 'seconds': round(elapsed, 1),
                     'cpuSeconds': round(cpu_seconds() - t_cpu, 1)}
            window = []
            if val is not None and ((step + 1) % args.val_every == 0 or step + 1 == total):
                entry['val'] = {k: round(v, 4) for k, v in validate(model, val, tokens, 32, args.hsf_train).items()}
            history.append(entry)
            log(json.dumps(entry) + f'  ({elapsed / (step + 1):.2f} s/step)')
    round_like_export(model)
    final_val = validate(model, val, tokens, 32, args.hsf_train) if val is not None else None
    os.makedirs(args.out, exist_ok=True)
    clip_path = os.path.join(args.out, f'{args.name}-clip.pt')
    adaclip_path = os.path.join(args.out, f'{args.name}-adaclip.pt')
    save(model, clip_path, adaclip_path)
    record = {
        'note': NOTE,
        'command': 'models/train/train.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
        'kinds': kinds,
        'data': [{'folder': f, **{k: m[k] for k in ('seed', 'count', 'defectRate', 'kinds', 'width', 'height')}}
                 for f, m in zip(folders, train.sources)],
        'trainSeeds': sorted({m['seed'] for m in train.sources}),
        'validation': ({'seed': val.sources[0]['seed'], 'final': {k: round(v, 4) for k, v in final_val.items()}}
                       if val is not None else None),
        'steps': total,
        'images': int(len(train.labels)),
        'defectiveImages': int(train.labels.sum()),
        'arch': cfg.name,
        'imageSize': cfg.image_size,
        'parameters': n_params,
        'settings': {k: getattr(args, k) for k in ('text_steps', 'text_lr', 'train_text_tower', 'stage1_steps', 'stage1_scale', 'image_scale', 'hsf_train', 'image_label_smoothing', 'steps', 'separation', 'batch', 'lr', 'lr2',
                                                   'weight_decay', 'warmup', 'sentences', 'seed', 'threads')},
        'seconds': {'wall': round(time.time() - t_wall, 1), 'cpu': round(cpu_seconds() - t_cpu, 1),
                    'training': round(time.time() - t_train, 1)},
        'machine': f'{platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}',
        'files': {os.path.basename(p): sha256_file(p) for p in (clip_path, adaclip_path)},
        'textHistory': text_history,
        'history': history,
    }
    with open(os.path.join(args.out, f'{args.name}.json'), 'w', encoding='utf-8') as f:
        json.dump(record, f, indent=2)
        f.write('\n')
    log(f'done: {record["seconds"]}, weights {clip_path} ({os.path.getsize(clip_path) / 1e6:.2f} MB), '
        f'{adaclip_path} ({os.path.getsize(adaclip_path) / 1e6:.2f} MB)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
