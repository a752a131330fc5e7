"""Loads `adaclip-edge synth` folders for training: every image preprocessed once the way the service
does it (PIL bicubic resize of the whole frame to S x S, antialiased when shrinking; aspect ratio not
kept), masks shrunk to S x S by area averaging and kept where more than half a pixel is defective (the
rule of `adaclip-edge eval`, src/eval/ground-truth.ts). Kept as uint8 in memory."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np
from PIL import Image

from arch import OPENAI_MEAN, OPENAI_STD


@dataclass
class Samples:
    images: np.ndarray  # uint8 [N,S,S,3] RGB
    masks: np.ndarray  # uint8 [N,S,S] 0/1
    labels: np.ndarray  # int64 [N]
    kinds: List[str]  # part kind (the class name) of each image
    files: List[str]
    sources: List[dict]  # synth.json of every folder read


def read_parts(folder: str) -> List[dict]:
    path = os.path.join(folder, 'parts.jsonl')
    if not os.path.isfile(path):
        raise ValueError(f'{folder}: no parts.jsonl (make the folder with `adaclip-edge synth`)')
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def read_meta(folder: str) -> dict:
    with open(os.path.join(folder, 'synth.json'), encoding='utf-8') as f:
        return json.load(f)


def subject_kind(record: dict) -> str:
    for p in record['parts']:
        if p['subject']:
            return p['kind']
    raise ValueError(f'{record["file"]}: no subject part in parts.jsonl')


def resize_image(path: str, size: int) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert('RGB').resize((size, size), Image.BICUBIC), dtype=np.uint8)


def resize_mask(path: str, size: int) -> np.ndarray:
    """Area average of the binary mask, then > half (OpenCV INTER_AREA equals PIL BOX for shrinking)."""
    with Image.open(path) as im:
        binary = (np.asarray(im.convert('L')) > 0).astype(np.float32)
    small = np.asarray(Image.fromarray(binary, mode='F').resize((size, size), Image.BOX))
    return (small >= 0.5).astype(np.uint8)


def load_folders(folders: Sequence[str], size: int, splits=('test',), kinds: Sequence[str] | None = None,
                 limit: int | None = None, log=print) -> Samples:
    images, masks, labels, names, files, metas = [], [], [], [], [], []
    for folder in folders:
        metas.append(read_meta(folder))
        records = [r for r in read_parts(folder) if r['split'] in splits]
        if kinds:
            records = [r for r in records if subject_kind(r) in kinds]
        if limit is not None:
            records = records[:limit]
        for i, r in enumerate(records):
            images.append(resize_image(os.path.join(folder, r['file']), size))
            if r['label']:
                masks.append(resize_mask(os.path.join(folder, r['mask']), size))
            else:
                masks.append(np.zeros((size, size), np.uint8))
            labels.append(int(r['label']))
            names.append(subject_kind(r))
            files.append(os.path.join(folder, r['file']))
            if (i + 1) % 500 == 0:
                log(f'{folder}: {i + 1}/{len(records)} images read')
    if not images:
        raise ValueError(f'no images in {", ".join(folders)} (splits {splits}, kinds {kinds})')
    return Samples(np.stack(images), np.stack(masks), np.array(labels, np.int64), names, files, metas)


MEAN = np.array(OPENAI_MEAN, np.float32).reshape(1, 3, 1, 1)
STD = np.array(OPENAI_STD, np.float32).reshape(1, 3, 1, 1)


def to_tensor_batch(images: np.ndarray) -> np.ndarray:
    """uint8 [B,S,S,3] -> float32 [B,3,S,S], CLIP-normalised as the service does."""
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    return (x - MEAN) / STD
