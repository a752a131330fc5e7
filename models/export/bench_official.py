#!/usr/bin/python3
"""Times the OFFICIAL AdaCLIP code itself (github.com/caoyunkang/AdaCLIP: a checkout you provide, never
part of this repository) on the CPU, with random weights of a real architecture, stage by stage. It is
the check of model.reference.* (bench_reference.py, our re-statement of the official amount of work):
both should take about the same time on the same machine.

What it runs is the official inference of test.py for one image: AdaCLIP_Trainer(...).clip_model(image,
[class], aggregation=True) under torch.no_grad(), float32, batch 1, torch.set_num_threads(THREADS),
then scipy's gaussian_filter(sigma=4) of the map as the official evaluation does. Nothing of the official
code is edited; at run time, in a temporary copy:
- the random CLIP: the official loader (load_openai_model) is replaced by one that builds the official
  CLIP from the architecture's model_configs/*.json with its default initialisation (no download); the
  official create_model then resizes its positional embedding to S and loads it, as with real weights;
- stand-ins for modules only training, plotting and downloads use (ftfy, cv2, tqdm, tools,
  tensorboard), as the fixture README describes; the BPE vocabulary (a Git LFS pointer in the repository) is copied in.
Stages are timed by wrapping the official methods: the unprompted vision pass
(generate_and_set_dynamic_promtps), the prompted vision pass (encode_image), the text tower with its
tokenisation (text_embedding_layer), the patch and CLS heads (proj_visual_tokens), HSF (HSF.forward),
the rest of visual_text_similarity (logits, maps, score) and the smoothing.

  /usr/bin/python3 models/export/bench_official.py --official DIR --arch ViT-L-14-336 --image-size 518 --n 2
Prints one JSON line."""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VOCAB = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), 'shared', 'data',
                             'bpe_simple_vocab_16e6.txt.gz')
STAGES = ['vision_unprompted', 'vision_prompted', 'text', 'heads', 'hsf', 'maps_and_score', 'smoothing']


def prepare(official: str, vocab: str) -> str:
    """A temporary copy of the official code with the real vocabulary, on sys.path."""
    for f in ('method/adaclip.py', 'method/trainer.py', 'model_configs'):
        if not os.path.exists(os.path.join(official, f)):
            sys.exit(f'bench_official.py: {official} is not a checkout of the official AdaCLIP code (no {f})')
    if not os.path.isfile(vocab):
        sys.exit(f'bench_official.py: BPE vocabulary {vocab} not found (--vocab)')
    work = tempfile.mkdtemp(prefix='adaclip-official-')
    code = os.path.join(work, 'code')
    shutil.copytree(official, code, ignore=shutil.ignore_patterns('.git', 'asset', 'data_preprocess', 'dataset'))
    shutil.copyfile(vocab, os.path.join(code, 'method', 'bpe_simple_vocab_16e6.txt.gz'))
    sys.path.insert(0, code)
    return code


def stand_ins() -> None:
    """Modules the inference never calls but the official files import."""
    ftfy = types.ModuleType('ftfy')

    def fix_text(s: str) -> str:
        if not s.isascii():
            raise ValueError('ftfy stand-in: only ASCII text')
        return s
    ftfy.fix_text = fix_text
    sys.modules['ftfy'] = ftfy
    sys.modules['cv2'] = types.ModuleType('cv2')
    tqdm = types.ModuleType('tqdm')  # only the weight download shows progress
    tqdm.tqdm = object
    sys.modules['tqdm'] = tqdm
    tools = types.ModuleType('tools')
    for name in ('visualization', 'calculate_metric', 'calculate_average_metric'):
        setattr(tools, name, None)
    sys.modules['tools'] = tools
    tb = types.ModuleType('torch.utils.tensorboard')
    tb.SummaryWriter = object
    sys.modules['torch.utils.tensorboard'] = tb


def random_clip_loader(custom_clip):
    """load_openai_model's stand-in: the official CLIP at its native size, default initialisation."""
    def load(name, precision=None, device=None, jit=True, cache_dir=None):
        cfg = custom_clip.get_model_config(name)
        model = custom_clip.CLIP(**cfg)
        return model.to(device or 'cpu').float().eval()
    return load


def build(arch: str, size: int):
    import torch
    import method.custom_clip as custom_clip
    custom_clip.load_openai_model = random_clip_loader(custom_clip)
    from method import AdaCLIP_Trainer
    cfg = custom_clip.get_model_config(arch)
    if cfg is None:
        sys.exit(f'bench_official.py: the official code has no model_configs/{arch}.json')
    sub = cfg['vision_cfg']['layers'] // 4
    trainer = AdaCLIP_Trainer(backbone=arch, feat_list=[sub, 2 * sub, 3 * sub, 4 * sub],
                              input_dim=cfg['vision_cfg']['width'], output_dim=cfg['embed_dim'],
                              learning_rate=0., device='cpu', image_size=size, prompting_depth=4,
                              prompting_length=5, prompting_branch='VL', prompting_type='SD', use_hsf=True,
                              k_clusters=20)
    trainer.eval()
    torch.manual_seed(0)
    return trainer


def instrument(clip, timers: dict, cpu: dict) -> None:
    """Wraps the official stage methods (instance attributes: the class is untouched); wall-clock and
    CPU time (all threads of the process) per stage, ms."""
    def wrap(obj, attr: str, stage: str):
        inner = getattr(obj, attr)

        def timed(*args, **kwargs):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                timers[stage] += (time.perf_counter() - t0) * 1000.0
                cpu[stage] += (time.process_time() - c0) * 1000.0
        setattr(obj, attr, timed)
    wrap(clip, 'generate_and_set_dynamic_promtps', 'vision_unprompted')
    wrap(clip, 'encode_image', 'vision_prompted')
    wrap(clip.text_embedding_layer, 'forward', 'text')
    wrap(clip, 'proj_visual_tokens', 'heads')
    wrap(clip.HSF, 'forward', 'hsf')
    wrap(clip, 'visual_text_similarity', 'maps_and_score')  # HSF is inside: subtracted below


def bench(args) -> dict:
    prepare(args.official, args.vocab)
    stand_ins()
    import numpy as np
    import torch
    from scipy.ndimage import gaussian_filter
    torch.set_num_threads(args.threads)
    trainer = build(args.arch, args.image_size)
    clip = trainer.clip_model
    timers = {s: 0.0 for s in STAGES}
    cpu = {s: 0.0 for s in STAGES}
    instrument(clip, timers, cpu)
    image = torch.randn(1, 3, args.image_size, args.image_size, generator=torch.Generator().manual_seed(args.seed))
    samples, cpu_samples, stages, cpu_stages = [], [], [], []
    for i in range(args.warmup + args.n):
        for s in STAGES:
            timers[s] = cpu[s] = 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        with torch.no_grad():
            anomaly_map, _score = clip(image, [args.class_name], aggregation=True)
        t1, c1 = time.perf_counter(), time.process_time()
        gaussian_filter(anomaly_map[0].numpy(), sigma=4)
        timers['smoothing'] = (time.perf_counter() - t1) * 1000.0
        cpu['smoothing'] = (time.process_time() - c1) * 1000.0
        ms = (time.perf_counter() - t0) * 1000.0
        cpu_ms = (time.process_time() - c0) * 1000.0
        timers['maps_and_score'] -= timers['hsf']
        cpu['maps_and_score'] -= cpu['hsf']
        print(f'[official] run {i + 1}/{args.warmup + args.n}: {ms:.0f} ms (CPU {cpu_ms:.0f} ms)'
              f'{" (warm-up)" if i < args.warmup else ""}', file=sys.stderr, flush=True)
        if i >= args.warmup:
            samples.append(ms)
            cpu_samples.append(cpu_ms)
            stages.append(dict(timers))
            cpu_stages.append(dict(cpu))
    s = sorted(samples)
    return {
        'name': f'model.official.{args.name}',
        'unit': 'ms',
        'median_ms': float(np.median(s)),
        'n': len(s),
        'samples_ms': samples,
        'cpu_median_ms': float(np.median(cpu_samples)),
        'cpu_samples_ms': cpu_samples,
        'stages_ms': {k: float(np.median([st[k] for st in stages])) for k in STAGES},
        'stages_cpu_ms': {k: float(np.median([st[k] for st in cpu_stages])) for k in STAGES},
        'arch': args.arch,
        'image_size': args.image_size,
        'threads': args.threads,
        'batch': 1,
        'torch': torch.__version__,
        'python': platform.python_version(),
        'code': 'official AdaCLIP (github.com/caoyunkang/AdaCLIP), random weights',
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--official', default=os.environ.get('ADACLIP_OFFICIAL_DIR'),
                   help='a checkout of github.com/caoyunkang/AdaCLIP (default: $ADACLIP_OFFICIAL_DIR)')
    p.add_argument('--arch', default='ViT-B-16')
    p.add_argument('--image-size', type=int, default=224)
    p.add_argument('--n', '--repeats', dest='n', type=int, default=3)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--vocab', default=DEFAULT_VOCAB)
    p.add_argument('--class', dest='class_name', default='transistor-board')
    p.add_argument('--name', help='result name suffix (default <arch>_<S>, e.g. vitl14_336_518)')
    args = p.parse_args(argv)
    if not args.official:
        p.error('--official DIR (or ADACLIP_OFFICIAL_DIR): a checkout of github.com/caoyunkang/AdaCLIP')
    if not args.name:
        parts = args.arch.lower().split('-')
        args.name = '_'.join([''.join(parts[:3])] + parts[3:]) + f'_{args.image_size}'
    print(json.dumps(bench(args)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
