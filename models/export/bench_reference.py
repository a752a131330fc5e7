#!/usr/bin/python3
"""Baseline for the benchmarks model.reference.*: a PyTorch forward doing what the OFFICIAL AdaCLIP
forward does per image, with random weights of a real architecture: tokenisation of the 48 prompt
sentences, two vision passes (unprompted, prompted), the text tower on the full 77-token context,
the official map (per-layer upsampling, softmax), K-Means HSF with scikit-learn and the score,
then the map's gaussian_filter(sigma=4) as the official evaluation does; float32, batch 1,
torch.set_num_threads(THREADS). Timed as a whole and by stage (wall-clock and CPU time): the two
vision passes, the text tower with its tokenisation, HSF, the rest (heads, logits, maps, score) and
the smoothing. bench_official.py times the official code itself the same way, as a check.
Prints one JSON line.

  /usr/bin/python3 models/export/bench_reference.py --arch ViT-B-16 --image-size 224 --n 3
  /usr/bin/python3 models/export/bench_reference.py --arch ViT-L-14-336 --image-size 518 --n 3
  /usr/bin/python3 models/export/bench_reference.py --export-random ViT-B-16 224 OUT_DIR [--vocab F]"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from scipy.ndimage import gaussian_filter  # noqa: E402

from arch import build_config  # noqa: E402
from bundle import write_bytes_only_vocab  # noqa: E402
from clip_bpe import ClipBpe, prompt_tokens  # noqa: E402
from weights import build_model  # noqa: E402

# the real CLIP vocabulary, kept with the test data (test/fixtures/README.md says where it came from)
DEFAULT_VOCAB = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'test', 'fixtures', 'bpe_simple_vocab_16e6.txt.gz')


def official_hsf_score(hsf_tokens: torch.Tensor, u: torch.Tensor, t: torch.Tensor, k_clusters: int,
                       alpha: float) -> float:
    """HybridSemanticFusion as the official code runs it: sklearn KMeans on the CPU, cluster means."""
    from sklearn.cluster import KMeans
    k, n_layers, d = hsf_tokens.shape
    labels = KMeans(n_clusters=min(k_clusters, k), n_init='auto').fit_predict(
        hsf_tokens.reshape(k, n_layers * d).numpy())
    centres = []
    for c in range(k_clusters):
        mask = torch.from_numpy(labels == c)
        rows = torch.cat([hsf_tokens[:, l, :][mask] for l in range(n_layers)], dim=0)
        centres.append(rows.mean(dim=0, keepdim=True))
    f = F.normalize(torch.cat(centres, 0).mean(dim=0)[None], dim=1)
    fused = F.normalize(alpha * f + (1 - alpha) * u[None], dim=1)
    logits = (100.0 * fused.unsqueeze(1) @ t.T[None]).squeeze(1)
    return float(torch.softmax(logits, dim=1)[0, 1])


def set_mode(model, mode: str) -> None:
    """official: the official amount of work (every sentence through every block, every row of both
    vision passes). ours: the exact shortcuts the exported graph takes."""
    model.share_prefix = mode == 'ours'
    model.cls_only_unprompted = mode == 'ours'


STAGES = ['vision_unprompted', 'vision_prompted', 'text', 'hsf', 'other', 'smoothing']


class StageClock:
    """Wall-clock and CPU time (all threads of the process) per stage, ms."""

    def __init__(self):
        self.wall = {s: 0.0 for s in STAGES}
        self.cpu = {s: 0.0 for s in STAGES}

    def timed(self, stage: str, fn):
        def run(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[stage] += (time.perf_counter() - t0) * 1000.0
                self.cpu[stage] += (time.process_time() - c0) * 1000.0
        return run


def one_image(model, bpe: ClipBpe, class_name: str, image: torch.Tensor, mode: str = 'official',
              clock: StageClock | None = None) -> dict:
    cfg = model.cfg
    clock = clock or StageClock()
    set_mode(model, mode)
    t0, c0 = time.perf_counter(), time.process_time()
    rows = clock.timed('text', prompt_tokens)(bpe, class_name, 77 if mode == 'official' else None)  # ours: cut
    if mode == 'ours' and len(rows[0]) < cfg.prompt_length + 2:
        rows = [r + [0] * (cfg.prompt_length + 2 - len(r)) for r in rows]
    tokens = torch.tensor([rows], dtype=torch.int64)
    # the stage methods, timed as instance attributes for this call
    stage_of = {'unprompted_pooled': 'vision_unprompted', 'prompted_vision': 'vision_prompted',
                'encode_text': 'text', 'text_features': 'text'}
    for name, stage in stage_of.items():
        setattr(model, name, clock.timed(stage, getattr(type(model), name).__get__(model)))
    try:
        with torch.no_grad():
            o = model(image, tokens, intermediates=True)  # includes the official per-layer map form
            score = clock.timed('hsf', official_hsf_score)(o['hsf_tokens'][0], o['global_feature'][0],
                                                           o['text_features'][0], cfg.k_clusters, cfg.hsf_alpha)
    finally:
        for name in stage_of:
            delattr(model, name)
    clock.timed('smoothing', gaussian_filter)(o['map_official_form'][0].numpy(), sigma=4)
    total, total_cpu = (time.perf_counter() - t0) * 1000.0, (time.process_time() - c0) * 1000.0
    clock.wall['other'] = total - sum(v for k, v in clock.wall.items() if k != 'other')
    clock.cpu['other'] = total_cpu - sum(v for k, v in clock.cpu.items() if k != 'other')
    return {'map': o['map_official_form'], 'score': score, 'ms': total, 'cpu_ms': total_cpu}


def short_name(arch: str) -> str:
    """ViT-B-16 -> vitb16, ViT-L-14-336 -> vitl14_336 (the benchmark names)."""
    parts = arch.lower().split('-')
    if len(parts) >= 3 and parts[0] == 'vit':
        return '_'.join([''.join(parts[:3])] + parts[3:])
    return arch.lower().replace('-', '_')


def percentile(sorted_ms, q: float) -> float:
    """Nearest-rank percentile."""
    i = max(0, min(len(sorted_ms) - 1, int(np.ceil(q / 100.0 * len(sorted_ms))) - 1))
    return sorted_ms[i]


def bench(args) -> dict:
    torch.set_num_threads(args.threads)
    cfg = build_config(args.arch, args.image_size)
    model = build_model(cfg, seed=args.seed)
    vocab = args.vocab
    tmp = None
    if not vocab:
        tmp = tempfile.TemporaryDirectory()
        vocab = os.path.join(tmp.name, 'vocab_bytes_only.txt.gz')
        write_bytes_only_vocab(vocab)
    gen = torch.Generator().manual_seed(args.seed)
    image = torch.randn(1, 3, cfg.image_size, cfg.image_size, generator=gen)
    modes = ['official', 'ours'] if args.mode == 'both' else [args.mode]
    runs = {m: [] for m in modes}
    for i in range(args.warmup + args.n):
        for mode in modes:  # alternated, so a load change on a shared machine hits both alike
            bpe = ClipBpe(vocab)  # the official layer tokenises on every call; a fresh cache per image
            clock = StageClock()
            r = one_image(model, bpe, args.class_name, image, mode, clock)
            if i >= args.warmup:
                runs[mode].append((r['ms'], r['cpu_ms'], clock))
            print(f'[bench] {mode} run {i + 1}/{args.warmup + args.n}: {r["ms"]:.0f} ms (CPU {r["cpu_ms"]:.0f} ms)'
                  f'{" (warm-up)" if i < args.warmup else ""}', file=sys.stderr, flush=True)
    result = summary(args, cfg, runs[modes[0]], modes[0])
    if args.mode == 'both':
        result['ours_torch'] = summary(args, cfg, runs['ours'], 'ours')
        result['speedup_ours_torch'] = result['median_ms'] / result['ours_torch']['median_ms']
    return result


def summary(args, cfg, runs, mode: str) -> dict:
    samples = [r[0] for r in runs]
    s = sorted(samples)
    prefix = 'model.reference' if mode == 'official' else 'model.torch_ours'
    return {
        'name': (args.name if mode == 'official' and args.name else
                 f'{prefix}.{short_name(cfg.name)}_{cfg.image_size}'),
        'unit': 'ms',
        'median_ms': float(np.median(s)),
        'p95_ms': percentile(s, 95),
        'n': len(s),
        'samples_ms': samples,
        'cpu_median_ms': float(np.median([r[1] for r in runs])),
        'stages_ms': {k: float(np.median([r[2].wall[k] for r in runs])) for k in STAGES},
        'stages_cpu_ms': {k: float(np.median([r[2].cpu[k] for r in runs])) for k in STAGES},
        'arch': cfg.name,
        'image_size': cfg.image_size,
        'threads': args.threads,
        'batch': 1,
        'context': 77 if mode == 'official' else 'cut',
        'vocab': os.path.basename(args.vocab) if args.vocab else 'bytes-only',
        'torch': torch.__version__,
        'python': platform.python_version(),
    }


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == '--export-random':
        if len(argv) < 4:
            print('usage: bench_reference.py --export-random ARCH S OUT [--seed N] [--vocab FILE]', file=sys.stderr)
            return 2
        arch, size, out = argv[1:4]
        rest = argv[4:]
        seed = rest[rest.index('--seed') + 1] if '--seed' in rest else '0'
        vocab = rest[rest.index('--vocab') + 1] if '--vocab' in rest else None
        if vocab is None:
            os.makedirs(out, exist_ok=True)
            vocab = os.path.join(tempfile.mkdtemp(), 'vocab_bytes_only.txt.gz')
            write_bytes_only_vocab(vocab)
        import export
        return export.main(['--random-init', seed, '--arch', arch, '--image-size', size, '--vocab', vocab,
                            '--out', out])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--arch', default='ViT-B-16')
    p.add_argument('--image-size', type=int, default=224)
    p.add_argument('--n', '--repeats', dest='n', type=int, default=3, help='measured runs (after --warmup)')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--vocab', default=DEFAULT_VOCAB if os.path.isfile(DEFAULT_VOCAB) else None,
                   help='BPE vocabulary (default: test/fixtures/bpe_simple_vocab_16e6.txt.gz when present, '
                        'else a bytes-only one made on the fly)')
    p.add_argument('--class', dest='class_name', default='transistor-board')
    p.add_argument('--mode', choices=['official', 'ours', 'both'], default='official',
                   help="official (the baseline); ours: the graph's exact shortcuts in torch; both: alternated")
    p.add_argument('--name', help='result name (default model.reference.<arch>_<S>, e.g. vitb16_224)')
    args = p.parse_args(argv)
    print(json.dumps(bench(args)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
