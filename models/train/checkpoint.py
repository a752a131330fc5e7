"""Writes trained weights in the two formats the exporter reads (models/export/weights.py): the CLIP
part as a state_dict in OpenAI key naming, the AdaCLIP part with the official checkpoint's keys
(clip_model.*). The tensors the exporter rounds through fp16 (as the official loader does with
OpenAI's weights) are stored as fp16, so the exported model is exactly the stored one."""
from __future__ import annotations

import hashlib
from typing import Dict

import torch

from adaclip_graph import AdaClipGraph
from weights import _is_fp16_rounded, adaclip_key_map, clip_key_map


def clip_state_dict(model: AdaClipGraph) -> Dict[str, torch.Tensor]:
    params = dict(model.named_parameters())
    out = {}
    for ours, theirs in clip_key_map(model.cfg).items():
        v = params[ours].detach().clone()
        out[theirs] = v.half() if _is_fp16_rounded(theirs) else v.float()
    return out


def adaclip_state_dict(model: AdaClipGraph) -> Dict[str, torch.Tensor]:
    params = dict(model.named_parameters())
    return {theirs: params[ours].detach().clone().float() for ours, theirs in adaclip_key_map(model.cfg).items()}


def round_like_export(model: AdaClipGraph) -> None:
    """Rounds, in place, the parameters the exporter will round through fp16."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for ours, theirs in clip_key_map(model.cfg).items():
            if _is_fp16_rounded(theirs):
                params[ours].copy_(params[ours].half().float())


def save(model: AdaClipGraph, clip_path: str, adaclip_path: str) -> None:
    # torch.save's zip records no time, so the same tensors give the same bytes
    torch.save(clip_state_dict(model), clip_path)
    torch.save(adaclip_state_dict(model), adaclip_path)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()
