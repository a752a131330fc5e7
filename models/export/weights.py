"""Weights for AdaClipGraph: the frozen OpenAI CLIP (TorchScript archive or plain state_dict in
OpenAI key naming), the learnable AdaCLIP checkpoint (keys clip_model.*), or seeded random values.

What the official loader does to the CLIP weights, reproduced here:
- build_model_from_openai_state_dict converts Conv/Linear/attention weights and biases and the two
  projections to fp16 before loading, then the model is cast back to fp32: those tensors are
  rounded through fp16; layer norms and embeddings are not.
- resize_pos_embed: the vision position grid is resized with bicubic interpolation,
  align_corners=False, the CLS position kept, in fp32."""
from __future__ import annotations

import math
import pickle
import re
import sys
import zipfile
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F

from adaclip_graph import AdaClipGraph
from arch import ModelConfig


class WeightError(ValueError):
    pass


def log(msg: str) -> None:
    print(f'[export] {msg}', file=sys.stderr, flush=True)


def _is_fp16_rounded(key: str) -> bool:
    """Keys whose tensors the official loader rounds through fp16 (convert_weights_to_lp)."""
    if key in ('visual.proj', 'text_projection', 'visual.conv1.weight'):
        return True
    return re.search(r'\.(attn\.in_proj_(weight|bias)|attn\.out_proj\.(weight|bias)|mlp\.c_(fc|proj)\.(weight|bias))$',
                     key) is not None


def safe_torch_load(path: str):
    """torch.load that never runs code: weights_only=True lets the unpickler build tensors and plain
    containers only. A checkpoint that holds other Python objects (a pickle's __reduce__ can run any
    command) is refused, saying how to make a plain one."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        why = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise WeightError(
            f'{path}: refused: it holds Python objects besides tensors, and unpickling them could run code '
            f'({why}). Only plain checkpoints (dicts of tensors, as the official save() writes) are loaded. '
            'If you trust the file, re-save its tensors on a machine of your own: '
            'ck = torch.load(path); torch.save({k: v for k, v in ck.items() if torch.is_tensor(v)}, "plain.pth")'
        ) from None


def load_clip_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """An OpenAI CLIP archive (TorchScript zip) or a plain state_dict (torch.save) in OpenAI naming."""
    sd = None
    if zipfile.is_zipfile(path):
        try:
            sd = torch.jit.load(path, map_location='cpu').state_dict()
        except RuntimeError:
            sd = None  # a torch.save zip, not TorchScript
    if sd is None:
        obj = safe_torch_load(path)
        if isinstance(obj, dict) and 'state_dict' in obj and isinstance(obj['state_dict'], dict):
            obj = obj['state_dict']
        if not isinstance(obj, dict):
            raise WeightError(f'{path}: neither a TorchScript CLIP archive nor a state_dict (got {type(obj).__name__})')
        sd = obj
    out = {}
    for k, v in sd.items():
        if not torch.is_tensor(v):
            raise WeightError(f'{path}: key {k} is not a tensor ({type(v).__name__})')
        out[k[7:] if k.startswith('module.') else k] = v
    return out


def resize_vision_pos_embed(pos: torch.Tensor, grid: int) -> torch.Tensor:
    """[1 + g0^2, W] -> [1 + grid^2, W] as the official resize_pos_embed (bicubic, align_corners=False)."""
    n = pos.shape[0] - 1
    g0 = int(math.sqrt(n))
    if g0 * g0 != n:
        raise WeightError(f'visual.positional_embedding: {n} patch positions is not a square grid')
    if g0 == grid:
        return pos
    cls, img = pos[:1], pos[1:]
    img = img.reshape(1, g0, g0, -1).permute(0, 3, 1, 2)
    img = F.interpolate(img, size=(grid, grid), mode='bicubic', align_corners=False)
    img = img.permute(0, 2, 3, 1).reshape(1, grid * grid, -1)[0]
    return torch.cat([cls, img], dim=0)


def clip_key_map(cfg: ModelConfig) -> Dict[str, str]:
    """Our parameter name -> OpenAI CLIP key."""
    m = {
        'visual.conv1.weight': 'visual.conv1.weight',
        'visual.class_embedding': 'visual.class_embedding',
        'visual.positional_embedding': 'visual.positional_embedding',
        'visual.ln_pre.weight': 'visual.ln_pre.weight',
        'visual.ln_pre.bias': 'visual.ln_pre.bias',
        'visual.ln_post.weight': 'visual.ln_post.weight',
        'visual.ln_post.bias': 'visual.ln_post.bias',
        'visual.proj': 'visual.proj',
        'text.token_embedding.weight': 'token_embedding.weight',
        'text.positional_embedding': 'positional_embedding',
        'text.ln_final.weight': 'ln_final.weight',
        'text.ln_final.bias': 'ln_final.bias',
        'text.text_projection': 'text_projection',
    }
    block_parts = {
        'ln_1.weight': 'ln_1.weight', 'ln_1.bias': 'ln_1.bias',
        'in_proj_weight': 'attn.in_proj_weight', 'in_proj_bias': 'attn.in_proj_bias',
        'out_proj.weight': 'attn.out_proj.weight', 'out_proj.bias': 'attn.out_proj.bias',
        'ln_2.weight': 'ln_2.weight', 'ln_2.bias': 'ln_2.bias',
        'c_fc.weight': 'mlp.c_fc.weight', 'c_fc.bias': 'mlp.c_fc.bias',
        'c_proj.weight': 'mlp.c_proj.weight', 'c_proj.bias': 'mlp.c_proj.bias',
    }
    for tower, prefix, layers in (('visual', 'visual.transformer.resblocks', cfg.vision_layers),
                                  ('text', 'transformer.resblocks', cfg.text_layers)):
        for i in range(layers):
            for ours, theirs in block_parts.items():
                m[f'{tower}.blocks.{i}.{ours}'] = f'{prefix}.{i}.{theirs}'
    return m


def adaclip_key_map(cfg: ModelConfig) -> Dict[str, str]:
    """Our parameter name -> key in the official AdaCLIP checkpoint (AdaCLIP_Trainer.save)."""
    m = {}
    if cfg.visual_prompts and cfg.static:
        for i in range(cfg.prompt_depth):
            m[f'visual_static_prompts.{i}'] = f'clip_model.visual_prompter.static_prompts.{i}'
    if cfg.text_prompts and cfg.static:
        # static prompt 0 exists in the checkpoint although block 0 never uses it
        for i in range(cfg.prompt_depth):
            m[f'text_static_prompts.{i}'] = f'clip_model.text_prompter.static_prompts.{i}'
    for i in range(len(cfg.output_layers)):
        for s in ('weight', 'bias'):
            m[f'patch_heads.{i}.{s}'] = f'clip_model.patch_token_layer.head.{i}.{s}'
    for s in ('weight', 'bias'):
        m[f'cls_head.{s}'] = f'clip_model.cls_token_layer.head.0.{s}'
    if cfg.dynamic:
        for p in range(cfg.prompt_length):
            for s in ('weight', 'bias'):
                m[f'dynamic_visual.{p}.{s}'] = f'clip_model.dynamic_visual_prompt_generator.head.{p}.{s}'
                m[f'dynamic_text.{p}.{s}'] = f'clip_model.dynamic_text_prompt_generator.head.{p}.{s}'
    return m


# Keys an OpenAI archive carries that are not weights of the graph.
_CLIP_IGNORED = {'input_resolution', 'context_length', 'vocab_size', 'logit_scale'}


def _assign(model: AdaClipGraph, values: Dict[str, torch.Tensor], key_map: Dict[str, str], source: Dict[str, torch.Tensor],
            source_name: str, ignored: set) -> None:
    params = dict(model.named_parameters())
    errors: List[str] = []
    wanted = set(key_map.values())
    for theirs in sorted(set(source) - wanted - ignored):
        errors.append(f'unexpected key {theirs} with shape {tuple(source[theirs].shape)}')
    for ours, theirs in key_map.items():
        target = params[ours]
        if theirs not in source:
            errors.append(f'missing key {theirs} (expected shape {tuple(target.shape)})')
            continue
        v = values.get(ours, source[theirs])
        if tuple(v.shape) != tuple(target.shape):
            errors.append(f'key {theirs}: checkpoint shape {tuple(v.shape)} != model shape {tuple(target.shape)}')
    if errors:
        raise WeightError(f'{source_name} does not fit architecture {model.cfg.name}:\n  ' + '\n  '.join(errors))
    with torch.no_grad():
        for ours, theirs in key_map.items():
            params[ours].copy_(values.get(ours, source[theirs]).to(torch.float32))


def load_clip_into(model: AdaClipGraph, sd: Dict[str, torch.Tensor], source_name: str) -> None:
    cfg = model.cfg
    key_map = clip_key_map(cfg)
    values: Dict[str, torch.Tensor] = {}
    for ours, theirs in key_map.items():
        if theirs not in sd:
            continue
        v = sd[theirs]
        v = v.half().float() if _is_fp16_rounded(theirs) else v.float()
        values[ours] = v
    pos = values.get('visual.positional_embedding')
    if pos is not None and pos.dim() == 2:
        values['visual.positional_embedding'] = resize_vision_pos_embed(pos, cfg.grid)
    _assign(model, values, key_map, sd, source_name, _CLIP_IGNORED)


def load_adaclip_into(model: AdaClipGraph, path: str) -> None:
    ck = safe_torch_load(path)
    if not isinstance(ck, dict):
        raise WeightError(f'{path}: expected a dict of tensors (official AdaCLIP save()), got {type(ck).__name__}')
    for k, v in ck.items():
        if not torch.is_tensor(v):
            raise WeightError(f'{path}: key {k} is not a tensor')
    _assign(model, {}, adaclip_key_map(model.cfg), ck, path, set())


def random_init(model: AdaClipGraph, seed: int) -> None:
    """Seeded random weights with CLIP-like scales, for untrained-test bundles and benchmarks.
    The CLIP part is rounded through fp16 like a real archive."""
    cfg = model.cfg
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if '.ln_' in name or name.startswith('text.ln_final') or name.startswith('visual.ln_'):
                p.copy_(torch.ones_like(p) if name.endswith('weight') else torch.zeros_like(p))
                continue
            if name.endswith('bias'):
                std = 0.01
            elif name.startswith('visual.') and name.split('.')[1] in ('class_embedding', 'positional_embedding', 'proj'):
                std = cfg.vision_width ** -0.5
            elif name == 'text.text_projection':
                std = cfg.text_width ** -0.5
            elif name == 'text.positional_embedding':
                std = 0.01
            else:
                fan_in = p.shape[-1] if p.dim() >= 2 else p.shape[0]
                if p.dim() == 4:
                    fan_in = p.shape[1] * p.shape[2] * p.shape[3]
                std = 0.02 if 'static_prompts' in name or 'token_embedding' in name else fan_in ** -0.5
            p.copy_(torch.randn(p.shape, generator=gen) * std)
        inv = {ours: theirs for ours, theirs in clip_key_map(cfg).items()}
        params = dict(model.named_parameters())
        for ours, theirs in inv.items():
            if _is_fp16_rounded(theirs):
                params[ours].copy_(params[ours].half().float())


def build_model(cfg: ModelConfig, clip_path: str | None = None, adaclip_path: str | None = None,
                seed: int | None = None) -> AdaClipGraph:
    model = AdaClipGraph(cfg)
    if seed is not None:
        log(f'random weights, seed {seed}')
        random_init(model, seed)
    else:
        assert clip_path and adaclip_path
        log(f'loading CLIP weights from {clip_path}')
        load_clip_into(model, load_clip_state_dict(clip_path), clip_path)
        log(f'loading AdaCLIP weights from {adaclip_path}')
        load_adaclip_into(model, adaclip_path)
    return model.eval()


def clip_state_dict_shapes(cfg: ModelConfig) -> List[Tuple[str, Tuple[int, ...]]]:
    """The OpenAI keys and shapes this architecture needs (native position grid), for error messages and tests."""
    model = AdaClipGraph(cfg)
    params = dict(model.named_parameters())
    out = []
    for ours, theirs in clip_key_map(cfg).items():
        shape = tuple(params[ours].shape)
        if theirs == 'visual.positional_embedding':
            shape = (cfg.native_grid ** 2 + 1, cfg.vision_width)
        out.append((theirs, shape))
    return out
