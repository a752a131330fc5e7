"""Architecture and AdaCLIP settings: named CLIP configs (values of the official model_configs/*.json)
or a JSON file in that format, validated into one plain dataclass the model and the manifest share."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import List

# Same numbers as the official model_configs (OpenAI CLIP ViTs); the JSON format is open_clip's.
NAMED_ARCHS = {
    'ViT-L-14-336': {
        'embed_dim': 768,
        'vision_cfg': {'image_size': 336, 'layers': 24, 'width': 1024, 'patch_size': 14},
        'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': 768, 'heads': 12, 'layers': 12},
    },
    'ViT-L-14': {
        'embed_dim': 768,
        'vision_cfg': {'image_size': 224, 'layers': 24, 'width': 1024, 'patch_size': 14},
        'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': 768, 'heads': 12, 'layers': 12},
    },
    'ViT-B-16': {
        'embed_dim': 512,
        'vision_cfg': {'image_size': 224, 'layers': 12, 'width': 768, 'patch_size': 16},
        'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': 512, 'heads': 8, 'layers': 12},
    },
    'ViT-B-32': {
        'embed_dim': 512,
        'vision_cfg': {'image_size': 224, 'layers': 12, 'width': 768, 'patch_size': 32},
        'text_cfg': {'context_length': 77, 'vocab_size': 49408, 'width': 512, 'heads': 8, 'layers': 12},
    },
}

# vision_cfg options the official code knows but AdaCLIP's released models never use: refuse them
# rather than silently computing something else.
_UNSUPPORTED_VISION = {
    'input_patchnorm': False,
    'global_average_pool': False,
    'attentional_pool': False,
    'ls_init_value': None,
    'timm_model_name': None,
}
_UNSUPPORTED_TEXT = {'ls_init_value': None, 'hf_model_name': None, 'embed_cls': False}

OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]

# The official prompt ensemble (TextEmbebddingLayer), phrase-major order.
NORMAL_STATES = ['{}', 'flawless {}', 'perfect {}', 'unblemished {}', '{} without flaw', '{} without defect',
                 '{} without damage']
ABNORMAL_STATES = ['damaged {}', 'broken {}', '{} with flaw', '{} with defect', '{} with damage']
TEMPLATES = ['a bad photo of a {}.', 'a low resolution photo of the {}.', 'a bad photo of the {}.',
             'a cropped photo of the {}.']


class ConfigError(ValueError):
    pass


@dataclass
class ModelConfig:
    name: str
    embed_dim: int
    vision_width: int
    vision_layers: int
    vision_heads: int
    patch_size: int
    native_image_size: int
    mlp_ratio: float
    text_width: int
    text_layers: int
    text_heads: int
    context_length: int
    vocab_size: int
    quick_gelu: bool
    image_size: int
    prompt_depth: int = 4
    prompt_length: int = 5
    prompt_type: str = 'SD'
    prompt_branch: str = 'VL'
    output_layers: List[int] = field(default_factory=list)
    k_clusters: int = 20
    hsf_top_k: int = 100
    hsf_alpha: float = 0.2
    n_normal_sentences: int = len(NORMAL_STATES) * len(TEMPLATES)
    n_abnormal_sentences: int = len(ABNORMAL_STATES) * len(TEMPLATES)

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    @property
    def native_grid(self) -> int:
        return self.native_image_size // self.patch_size

    @property
    def n_patches(self) -> int:
        return self.grid * self.grid

    @property
    def top_k(self) -> int:
        return min(self.n_patches, self.hsf_top_k)

    @property
    def n_sentences(self) -> int:
        return self.n_normal_sentences + self.n_abnormal_sentences

    @property
    def visual_prompts(self) -> bool:
        return 'V' in self.prompt_branch and self.prompt_length > 0

    @property
    def text_prompts(self) -> bool:
        return 'L' in self.prompt_branch and self.prompt_length > 0

    @property
    def dynamic(self) -> bool:
        return 'D' in self.prompt_type

    @property
    def static(self) -> bool:
        return 'S' in self.prompt_type


def load_arch(arch) -> tuple[str, dict]:
    """ARCH is a known name, a path to a JSON file in the official model_configs format, or a
    (name, dict) pair in that format."""
    if isinstance(arch, tuple):
        return arch[0], json.loads(json.dumps(arch[1]))
    if arch in NAMED_ARCHS:
        return arch, json.loads(json.dumps(NAMED_ARCHS[arch]))
    if os.path.isfile(arch):
        with open(arch, 'r', encoding='utf-8') as f:
            try:
                cfg = json.load(f)
            except json.JSONDecodeError as e:
                raise ConfigError(f'--arch {arch}: not valid JSON ({e})') from e
        name = os.path.splitext(os.path.basename(arch))[0]
        return name, cfg
    raise ConfigError(f'--arch {arch!r}: neither a known architecture ({", ".join(NAMED_ARCHS)}) nor a JSON file')


def _req_int(d: dict, key: str, where: str) -> int:
    if key not in d:
        raise ConfigError(f'{where}.{key} is missing')
    v = d[key]
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise ConfigError(f'{where}.{key} must be a positive integer, got {v!r}')
    return v


def build_config(arch, image_size: int, prompt_depth: int = 4, prompt_length: int = 5,
                 prompt_type: str = 'SD', prompt_branch: str = 'VL', output_layers: List[int] | None = None,
                 k_clusters: int = 20, hsf_top_k: int | None = None, hsf_alpha: float = 0.2) -> ModelConfig:
    name, cfg = load_arch(arch)
    for key in ('embed_dim', 'vision_cfg', 'text_cfg'):
        if key not in cfg:
            raise ConfigError(f'architecture {name}: key {key!r} missing (official model_configs format)')
    v, t = cfg['vision_cfg'], cfg['text_cfg']
    for key, default in _UNSUPPORTED_VISION.items():
        if v.get(key, default) != default:
            raise ConfigError(f'architecture {name}: vision_cfg.{key}={v[key]!r} is not supported')
    for key, default in _UNSUPPORTED_TEXT.items():
        if t.get(key, default) != default:
            raise ConfigError(f'architecture {name}: text_cfg.{key}={t[key]!r} is not supported')
    if isinstance(v.get('layers'), (list, tuple)):
        raise ConfigError(f'architecture {name}: ResNet vision towers are not supported (AdaCLIP needs a ViT)')
    embed_dim = _req_int(cfg, 'embed_dim', name)
    width = _req_int(v, 'width', 'vision_cfg')
    head_width = v.get('head_width', 64)
    if width % head_width:
        raise ConfigError(f'vision width {width} is not a multiple of head_width {head_width}')
    text_width = t.get('width', 512)
    text_heads = t.get('heads', 8)
    if text_width != embed_dim:
        # The official text prompts are built at embed_dim channels and spliced into the text tower.
        raise ConfigError(f'text_cfg.width {text_width} must equal embed_dim {embed_dim} (AdaCLIP text prompts)')
    if text_width % text_heads:
        raise ConfigError(f'text width {text_width} is not a multiple of text heads {text_heads}')
    patch = _req_int(v, 'patch_size', 'vision_cfg')
    native = v.get('image_size', 224)
    if native % patch:
        raise ConfigError(f'vision_cfg.image_size {native} is not a multiple of patch_size {patch}')
    if image_size <= 0 or image_size % patch:
        raise ConfigError(f'--image-size {image_size} must be a positive multiple of the patch size {patch}')
    layers = _req_int(v, 'layers', 'vision_cfg')
    if prompt_type not in ('S', 'D', 'SD'):
        raise ConfigError(f'--prompt-type {prompt_type!r}: one of S, D, SD')
    if prompt_branch not in ('V', 'L', 'VL'):
        raise ConfigError(f'--prompt-branch {prompt_branch!r}: one of V, L, VL')
    if prompt_depth < 0 or prompt_length < 0:
        raise ConfigError('--prompt-depth and --prompt-length must be >= 0')
    if output_layers is None:
        sub = layers // 4
        output_layers = [sub, sub * 2, sub * 3, sub * 4]
    if not output_layers or any(l < 1 or l > layers for l in output_layers):
        raise ConfigError(f'--output-layers {output_layers}: each must be in 1..{layers}')
    if len(set(output_layers)) != len(output_layers):
        raise ConfigError(f'--output-layers {output_layers}: duplicates')
    # The official code collects block outputs in block order, whatever order the list has.
    output_layers = sorted(output_layers)
    text_layers = t.get('layers', 12)
    if 'L' in prompt_branch and prompt_depth > text_layers:
        raise ConfigError(f'--prompt-depth {prompt_depth} exceeds the text layers {text_layers}')
    if 'V' in prompt_branch and prompt_depth > layers:
        raise ConfigError(f'--prompt-depth {prompt_depth} exceeds the vision layers {layers}')
    if k_clusters <= 0:
        raise ConfigError('--k-clusters must be positive')
    if not 0.0 <= hsf_alpha <= 1.0:
        raise ConfigError('--hsf-alpha must be in [0, 1]')
    n_patches = (image_size // patch) ** 2
    top_k = min(n_patches, hsf_top_k if hsf_top_k is not None else 5 * k_clusters)
    if k_clusters > top_k:
        raise ConfigError(f'--k-clusters {k_clusters} exceeds the {top_k} tokens HSF selects (min(grid^2, top-K))')
    context = t.get('context_length', 77)
    if 'L' in prompt_branch and context < prompt_length + 2:
        raise ConfigError(f'context_length {context} too short for {prompt_length} text prompts')
    return ModelConfig(
        name=name,
        embed_dim=embed_dim,
        vision_width=width,
        vision_layers=layers,
        vision_heads=width // head_width,
        patch_size=patch,
        native_image_size=native,
        mlp_ratio=float(v.get('mlp_ratio', 4.0)),
        text_width=text_width,
        text_layers=text_layers,
        text_heads=text_heads,
        context_length=context,
        vocab_size=t.get('vocab_size', 49408),
        quick_gelu=bool(cfg.get('quick_gelu', False)),
        image_size=image_size,
        prompt_depth=prompt_depth,
        prompt_length=prompt_length,
        prompt_type=prompt_type,
        prompt_branch=prompt_branch,
        output_layers=output_layers,
        k_clusters=k_clusters,
        hsf_top_k=hsf_top_k if hsf_top_k is not None else 5 * k_clusters,
        hsf_alpha=hsf_alpha,
    )


def arch_dict_from_manifest(manifest: dict) -> tuple[str, dict]:
    """The model_configs-style description of a bundle's architecture (for rebuilding its model)."""
    a = manifest['architecture']
    v, t = a['vision'], a['text']
    cfg = {
        'embed_dim': a['embedDim'],
        'vision_cfg': {'image_size': v['nativeImageSize'], 'layers': v['layers'], 'width': v['width'],
                       'head_width': v['width'] // v['heads'], 'patch_size': v['patchSize']},
        'text_cfg': {'context_length': t['contextLength'], 'vocab_size': t['vocabSize'], 'width': t['width'],
                     'heads': t['heads'], 'layers': t['layers']},
    }
    if a.get('activation') == 'quick_gelu':
        cfg['quick_gelu'] = True
    return a['name'], cfg


def config_from_manifest(manifest: dict) -> ModelConfig:
    ada, hsf = manifest['adaclip'], manifest['hsf']
    return build_config(arch_dict_from_manifest(manifest), manifest['imageSize'], prompt_depth=ada['promptDepth'],
                        prompt_length=ada['promptLength'], prompt_type=ada['promptType'],
                        prompt_branch=ada['promptBranch'], output_layers=ada['outputLayers'],
                        k_clusters=hsf['kClusters'], hsf_top_k=hsf['topK'], hsf_alpha=hsf['alpha'])
