"""Writes a model bundle folder: model.onnx, the vocabulary and manifest.json (src/model/manifest.ts,
docs/model-bundle.md)."""
from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import json
import os
import shutil
from typing import Dict, List, Optional

from arch import (ABNORMAL_STATES, NORMAL_STATES, OPENAI_MEAN, OPENAI_STD, TEMPLATES, ModelConfig)

FORMAT = 'adaclip-edge-bundle'
FORMAT_VERSION = 1
OPSET = 17
# First line of bpe_simple_vocab_16e6.txt.gz; a bytes-only vocabulary is this line alone.
VOCAB_HEADER = '"bpe_simple_vocab_16e6.txt#version: 0.2'
BYTES_ONLY_VOCAB_NAME = 'vocab_bytes_only.txt.gz'


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def vocab_special_ids(path: str) -> Dict[str, object]:
    """SOT/EOT ids by the official SimpleTokenizer's rule: 256 byte tokens, 256 byte+'</w>' tokens,
    one token per merge line in lines[1 : 49152-256-2+1], then <|startoftext|>, <|endoftext|>."""
    try:
        with gzip.open(path, 'rb') as f:
            text = f.read().decode('utf-8')
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f'--vocab {path}: not a gzipped UTF-8 BPE merges file ({e})') from e
    lines = text.split('\n')
    if not lines[0].startswith('"bpe_simple_vocab'):
        raise ValueError(f'--vocab {path}: first line {lines[0][:60]!r} is not a CLIP BPE vocabulary header')
    merges = lines[1:49152 - 256 - 2 + 1]
    for i, m in enumerate(merges):
        if len(m.split()) != 2:
            raise ValueError(f'--vocab {path}: line {i + 2} {m!r} is not a merge pair '
                             '(a bytes-only vocabulary is the header line alone, without a newline)')
    sot = 512 + len(merges)
    return {'sot': sot, 'eot': sot + 1, 'bytesOnly': len(merges) == 0}


def write_bytes_only_vocab(path: str) -> None:
    """The header line alone, no trailing newline: no merges, so SOT 512 and EOT 513. mtime=0 keeps
    the file byte-identical between runs."""
    with open(path, 'wb') as raw:
        with gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0) as f:
            f.write(VOCAB_HEADER.encode('utf-8'))


def io_specs(cfg: ModelConfig) -> Dict[str, List[dict]]:
    s, d, k, n_layers = cfg.image_size, cfg.embed_dim, cfg.top_k, len(cfg.output_layers)
    return {
        'inputs': [
            {'name': 'image', 'dtype': 'float32', 'shape': ['batch', 3, s, s]},
            {'name': 'tokens', 'dtype': 'int64', 'shape': ['batch', cfg.n_sentences, 'context']},
        ],
        'outputs': [
            {'name': 'anomaly_map', 'dtype': 'float32', 'shape': ['batch', s, s]},
            {'name': 'global_feature', 'dtype': 'float32', 'shape': ['batch', d]},
            {'name': 'text_features', 'dtype': 'float32', 'shape': ['batch', 2, d]},
            {'name': 'hsf_indices', 'dtype': 'int64', 'shape': ['batch', k]},
            {'name': 'hsf_tokens', 'dtype': 'float32', 'shape': ['batch', k, n_layers, d]},
        ],
    }


def build_manifest(cfg: ModelConfig, files: Dict[str, dict], vocab_name: str, vocab_ids: Dict[str, object],
                   provenance: dict, onnx_file: str = 'model.onnx', bundle_version: Optional[str] = None) -> dict:
    return {
        'format': FORMAT,
        'formatVersion': FORMAT_VERSION,
        **({'version': bundle_version} if bundle_version else {}),
        'architecture': {
            'name': cfg.name,
            'embedDim': cfg.embed_dim,
            'vision': {
                'width': cfg.vision_width,
                'layers': cfg.vision_layers,
                'heads': cfg.vision_heads,
                'patchSize': cfg.patch_size,
                'nativeImageSize': cfg.native_image_size,
            },
            'text': {
                'width': cfg.text_width,
                'layers': cfg.text_layers,
                'heads': cfg.text_heads,
                'contextLength': cfg.context_length,
                'vocabSize': cfg.vocab_size,
            },
            'activation': 'quick_gelu' if cfg.quick_gelu else 'gelu',
        },
        'imageSize': cfg.image_size,
        'grid': cfg.grid,
        'normalize': {'mean': OPENAI_MEAN, 'std': OPENAI_STD},
        'adaclip': {
            'promptDepth': cfg.prompt_depth,
            'promptLength': cfg.prompt_length,
            'promptType': cfg.prompt_type,
            'promptBranch': cfg.prompt_branch,
            'outputLayers': list(cfg.output_layers),
        },
        'hsf': {'kClusters': cfg.k_clusters, 'topK': cfg.top_k, 'alpha': cfg.hsf_alpha},
        'prompts': {'normalStates': NORMAL_STATES, 'abnormalStates': ABNORMAL_STATES, 'templates': TEMPLATES},
        'tokenizer': {'vocab': vocab_name, **vocab_ids},
        'onnx': {'file': onnx_file, 'opset': OPSET, **io_specs(cfg)},
        'files': files,
        'provenance': provenance,
    }


def provenance_checkpoint(clip_path: str, adaclip_path: str, exporter: str) -> dict:
    return {
        'kind': 'checkpoint',
        'clip': {'file': os.path.basename(clip_path), 'sha256': sha256_file(clip_path)},
        'adaclip': {'file': os.path.basename(adaclip_path), 'sha256': sha256_file(adaclip_path)},
        'exporter': exporter,
        'createdAt': _now(),
    }


class TrainingRecordError(ValueError):
    """A training record (models/train/train.py OUT/NAME.json) that cannot vouch for the checkpoints."""


def read_training_record(record_path: str, clip_path: str, adaclip_path: str, image_size: int,
                         arch_name: str) -> dict:
    """The manifest's provenance.training from a training record, after checking that the record
    names exactly these checkpoint files (sha256) and this image size and architecture."""
    try:
        with open(record_path, 'rb') as f:
            raw = f.read()
        record = json.loads(raw.decode('utf-8'))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TrainingRecordError(f'--training {record_path}: not a readable JSON training record ({e})') from e
    if not isinstance(record, dict):
        raise TrainingRecordError(f'--training {record_path}: a JSON object expected')
    missing = [k for k in ('note', 'kinds', 'trainSeeds', 'steps', 'seconds', 'files', 'imageSize')
               if k not in record]
    if missing:
        raise TrainingRecordError(f'--training {record_path}: fields {missing} missing (written by models/train/train.py)')
    seconds = record['seconds']
    ok = (isinstance(record['note'], str) and record['note']
          and isinstance(record['kinds'], list) and record['kinds'] and all(isinstance(k, str) and k for k in record['kinds'])
          and isinstance(record['trainSeeds'], list) and record['trainSeeds']
          and all(isinstance(x, int) and not isinstance(x, bool) for x in record['trainSeeds'])
          and isinstance(record['steps'], int) and record['steps'] > 0
          and isinstance(seconds, dict) and isinstance(seconds.get('training'), (int, float))
          and isinstance(record['files'], dict))
    if not ok:
        raise TrainingRecordError(f'--training {record_path}: note, kinds, trainSeeds, steps, seconds.training or '
                                  'files has the wrong type')
    for label, path in (('--clip', clip_path), ('--adaclip', adaclip_path)):
        name = os.path.basename(path)
        want = record['files'].get(name)
        if want is None:
            raise TrainingRecordError(f'--training {record_path} does not name {label} {name} in its files '
                                      f'({sorted(record["files"])}): not the weights this record describes')
        got = sha256_file(path)
        if got != want:
            raise TrainingRecordError(f'{label} {path}: sha256 {got} is not the {want} its training record '
                                      f'{record_path} says: the weights and the record do not belong together')
    if record['imageSize'] != image_size:
        raise TrainingRecordError(f'--image-size {image_size}, but the weights were trained at '
                                  f'{record["imageSize"]} ({record_path})')
    if record.get('arch') is not None and record['arch'] != arch_name:
        raise TrainingRecordError(f'--arch {arch_name}, but the weights were trained as {record["arch"]} ({record_path})')
    return {
        'record': os.path.basename(record_path),
        'sha256': hashlib.sha256(raw).hexdigest(),
        'note': record['note'],
        'kinds': list(record['kinds']),
        'trainSeeds': list(record['trainSeeds']),
        'steps': record['steps'],
        'seconds': {k: seconds[k] for k in ('training', 'wall', 'cpu') if isinstance(seconds.get(k), (int, float))},
    }


def provenance_synthetic(clip_path: str, adaclip_path: str, training: dict, exporter: str) -> dict:
    """A model trained on the synthetic line only (models/train/train.py): kind synthetic-trained."""
    return {**provenance_checkpoint(clip_path, adaclip_path, exporter), 'kind': 'synthetic-trained',
            'training': training}


def provenance_random(seed: int, exporter: str) -> dict:
    return {'kind': 'untrained-test', 'exporter': exporter, 'createdAt': _now(), 'seed': seed}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def finish_bundle(out_dir: str, cfg: ModelConfig, vocab_path: str, provenance: dict,
                  onnx_file: str = 'model.onnx', vocab_name: Optional[str] = None,
                  bundle_version: Optional[str] = None) -> dict:
    """Copies the vocabulary in, hashes every file and writes manifest.json last (its presence marks
    a complete bundle)."""
    vocab_ids = vocab_special_ids(vocab_path)
    vocab_name = vocab_name or os.path.basename(vocab_path)
    dest = os.path.join(out_dir, vocab_name)
    if os.path.abspath(dest) != os.path.abspath(vocab_path):
        shutil.copyfile(vocab_path, dest)
    files = {}
    for name in sorted(os.listdir(out_dir)):
        full = os.path.join(out_dir, name)
        if name == 'manifest.json' or name.startswith('.') or not os.path.isfile(full):
            continue
        files[name] = {'sha256': sha256_file(full), 'bytes': os.path.getsize(full)}
    manifest = build_manifest(cfg, files, vocab_name, vocab_ids, provenance, onnx_file, bundle_version)
    tmp = os.path.join(out_dir, 'manifest.json.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    os.replace(tmp, os.path.join(out_dir, 'manifest.json'))
    return manifest
