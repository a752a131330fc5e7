"""Our own PyTorch re-implementation of the official AdaCLIP inference graph (caoyunkang/AdaCLIP,
method/adaclip.py + transformer.py), written so that torch.onnx can export it for onnxruntime and
TensorRT: batch-first tensors, attention written out by hand (torch 1.13 has no fused attention and
TensorRT 10.3 has no ONNX Attention op), batch > 1 with per-image dynamic prompts and sentences.

Numerics follow the official operation order where it matters (see the fixture README):
q / sqrt(head_dim) before q @ k^T, additive -inf causal mask, x / ||x|| (no eps) for tokens and
sentence features, F.normalize for the final text features, batched [B,1,D] @ [B,D,2] for scores."""
from __future__ import annotations

import math
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from arch import ModelConfig


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    """Pre-LN transformer block with the weight layout of OpenAI CLIP (packed in_proj)."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, quick_gelu: bool):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.ln_1 = nn.LayerNorm(width)
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        hidden = int(width * mlp_ratio)
        self.c_fc = nn.Linear(width, hidden)
        # The official model is built without quick_gelu: exact (erf) GELU, although OpenAI trained
        # with QuickGELU. The released AdaCLIP weights were trained on that model.
        self.act = QuickGELU() if quick_gelu else nn.GELU()
        self.c_proj = nn.Linear(hidden, width)

    def heads_of(self, x: torch.Tensor):
        """[N,L,W] -> q, k, v as [N,H,L,hd]."""
        n, length, _ = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.chunk(3, dim=-1)
        return tuple(t.reshape(n, length, self.heads, self.head_dim).transpose(1, 2) for t in (q, k, v))

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        n, _, length, _ = q.shape
        q = q / math.sqrt(self.head_dim)
        scores = torch.matmul(q, k.transpose(-1, -2))
        if mask is not None:
            scores = scores + mask
        weights = torch.softmax(scores, dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(n, length, self.heads * self.head_dim)
        return self.out_proj(out)

    def mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(self.act(self.c_fc(self.ln_2(x))))

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = x + self.attend(*self.heads_of(self.ln_1(x)), mask)
        return x + self.mlp(x)

    def forward_first_row(self, x: torch.Tensor) -> torch.Tensor:
        """Output row 0 only (all rows still serve as keys and values): [N,L,W] -> [N,1,W]."""
        q, k, v = self.heads_of(self.ln_1(x))
        first = x[:, :1, :] + self.attend(q[:, :, :1, :], k, v, None)
        return first + self.mlp(first)

    def forward_shared_prefix(self, prefix: torch.Tensor, suffix: torch.Tensor, per_prefix: int,
                              mask_prefix: torch.Tensor, mask_suffix: torch.Tensor):
        """The block on sequences [prefix_b, suffix_{b,q}] whose first Lp positions are the same for
        the `per_prefix` sentences of a prefix (causal attention keeps them the same): the prefix
        rows are computed once, the suffix rows attend to the prefix keys and values plus their own.
        prefix [B,Lp,W], suffix [B*per_prefix,Ls,W]."""
        qp, kp, vp = self.heads_of(self.ln_1(prefix))
        qs, ks, vs = self.heads_of(self.ln_1(suffix))
        b, h, lp, hd = kp.shape
        kp_all = kp.unsqueeze(1).expand(b, per_prefix, h, lp, hd).reshape(b * per_prefix, h, lp, hd)
        vp_all = vp.unsqueeze(1).expand(b, per_prefix, h, lp, hd).reshape(b * per_prefix, h, lp, hd)
        prefix = prefix + self.attend(qp, kp, vp, mask_prefix)
        suffix = suffix + self.attend(qs, torch.cat([kp_all, ks], dim=2), torch.cat([vp_all, vs], dim=2), mask_suffix)
        return prefix + self.mlp(prefix), suffix + self.mlp(suffix)


class VisionTower(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w = cfg.vision_width
        self.conv1 = nn.Conv2d(3, w, kernel_size=cfg.patch_size, stride=cfg.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(w))
        # Already resized to the export grid (official resize_pos_embed): a constant of the graph.
        self.positional_embedding = nn.Parameter(torch.empty(cfg.n_patches + 1, w))
        self.ln_pre = nn.LayerNorm(w)
        self.blocks = nn.ModuleList(
            [Block(w, cfg.vision_heads, cfg.mlp_ratio, cfg.quick_gelu) for _ in range(cfg.vision_layers)])
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(torch.empty(w, cfg.embed_dim))

    def embed(self, image: torch.Tensor) -> torch.Tensor:
        x = self.conv1(image)
        x = x.flatten(2).transpose(1, 2)  # [B, grid^2, W]
        cls = self.class_embedding.reshape(1, 1, -1).expand(x.shape[0], 1, x.shape[-1])
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        return self.ln_pre(x)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln_post(x[:, 0, :]) @ self.proj


class TextTower(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w = cfg.text_width
        self.token_embedding = nn.Embedding(cfg.vocab_size, w)
        self.positional_embedding = nn.Parameter(torch.empty(cfg.context_length, w))
        self.blocks = nn.ModuleList(
            [Block(w, cfg.text_heads, 4.0, cfg.quick_gelu) for _ in range(cfg.text_layers)])
        self.ln_final = nn.LayerNorm(w)
        self.text_projection = nn.Parameter(torch.empty(w, cfg.embed_dim))
        n = cfg.context_length
        self.register_buffer('causal_mask', torch.full((n, n), float('-inf')).triu(1), persistent=False)


def _linear_bank(n: int, d_in: int, d_out: int) -> nn.ModuleList:
    return nn.ModuleList([nn.Linear(d_in, d_out) for _ in range(n)])


class AdaClipGraph(nn.Module):
    """forward(image [B,3,S,S], tokens [B,Q,T]) -> dict of the bundle outputs (and, with
    intermediates=True, every value the official fixture records)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.visual = VisionTower(cfg)
        self.text = TextTower(cfg)
        # text tower computes the prompt prefix once per image (encode_text_shared); False runs
        # every sentence through every block as the official code does (checks, benchmarks)
        self.share_prefix = True
        # the unprompted pass computes only the CLS row in its last block (False: every row)
        self.cls_only_unprompted = True
        j, p = cfg.prompt_depth, cfg.prompt_length
        self.visual_static_prompts = (nn.ParameterList([nn.Parameter(torch.empty(p, cfg.vision_width))
                                                        for _ in range(j)])
                                      if cfg.visual_prompts and cfg.static else None)
        self.text_static_prompts = (nn.ParameterList([nn.Parameter(torch.empty(p, cfg.embed_dim)) for _ in range(j)])
                                    if cfg.text_prompts and cfg.static else None)
        self.patch_heads = _linear_bank(len(cfg.output_layers), cfg.vision_width, cfg.embed_dim)
        self.cls_head = nn.Linear(cfg.embed_dim, cfg.embed_dim)
        if cfg.dynamic:
            self.dynamic_visual = _linear_bank(p, cfg.embed_dim, cfg.vision_width)
            self.dynamic_text = _linear_bank(p, cfg.embed_dim, cfg.embed_dim)
        else:
            self.dynamic_visual = None
            self.dynamic_text = None

    # --- prompts -------------------------------------------------------------------------------
    def _prompt(self, static: Optional[nn.ParameterList], dynamic: Optional[torch.Tensor], i: int) -> torch.Tensor:
        if static is not None and dynamic is not None:
            return dynamic + static[i]
        if static is not None:
            return static[i].unsqueeze(0)
        assert dynamic is not None
        return dynamic

    # --- vision ----------------------------------------------------------------------------------
    def unprompted_pooled(self, image: torch.Tensor) -> torch.Tensor:
        """g: the frozen CLIP's own pass, the source of the dynamic prompts. Only its CLS output is
        used, so the last block computes that row alone (the same values, less work)."""
        x = self.visual.embed(image)
        if not self.cls_only_unprompted:
            for block in self.visual.blocks:
                x = block(x)
            return self.visual.pool(x)
        for block in self.visual.blocks[:-1]:
            x = block(x)
        return self.visual.pool(self.visual.blocks[-1].forward_first_row(x))

    def prompted_vision(self, image: torch.Tensor, dyn_v: Optional[torch.Tensor]):
        cfg = self.cfg
        p = cfg.prompt_length
        x = self.visual.embed(image)
        n_real = x.shape[1]  # CLS + patches: fixed by S
        layer_tokens: List[torch.Tensor] = []
        for i, block in enumerate(self.visual.blocks):
            if cfg.visual_prompts and i < cfg.prompt_depth:
                ctx = self._prompt(self.visual_static_prompts, dyn_v, i)
                ctx = ctx.expand(x.shape[0], p, ctx.shape[-1])
                # block 0 appends the prompts at the end; blocks 1..J-1 replace them
                x = torch.cat([x if i == 0 else x[:, :n_real, :], ctx], dim=1)
            x = block(x)
            if (i + 1) in cfg.output_layers:
                layer_tokens.append(x[:, 1:n_real, :])  # without CLS and the trailing prompts
        return self.visual.pool(x), layer_tokens

    # --- text ------------------------------------------------------------------------------------
    def encode_text(self, tokens: torch.Tensor, dyn_t: Optional[torch.Tensor]) -> torch.Tensor:
        """tokens [B,Q,T] (T >= max(largest EOT index + 1, P + 2)) -> raw sentence features [B,Q,D]."""
        cfg = self.cfg
        if self.share_prefix and cfg.text_prompts and cfg.prompt_depth >= 2:
            return self.encode_text_shared(tokens, dyn_t)
        return self.encode_text_plain(tokens, dyn_t)

    def _text_prompt(self, dyn_t: Optional[torch.Tensor], i: int, b: int) -> torch.Tensor:
        ctx = self._prompt(self.text_static_prompts, dyn_t, i)  # [B or 1, P, D]
        return ctx.expand(b, ctx.shape[1], ctx.shape[2])

    def _eot_features(self, x: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
        """Row of the EOT token (the largest id) of each sentence -> ln_final -> text projection.
        ln_final acts per row, so picking first is the same as the official ln_final-then-pick.
        ArgMax on float (ids < 2^24 are exact): int64 ArgMax is not supported everywhere."""
        n = flat.shape[0]
        eot = flat.to(torch.float32).argmax(dim=-1)
        picked = x.gather(1, eot.reshape(n, 1, 1).expand(n, 1, x.shape[-1]))[:, 0, :]  # no Squeeze: it exports as If
        return self.text.ln_final(picked) @ self.text.text_projection

    def encode_text_plain(self, tokens: torch.Tensor, dyn_t: Optional[torch.Tensor]) -> torch.Tensor:
        """Every sentence through every block, as the official code runs it."""
        cfg = self.cfg
        p = cfg.prompt_length
        b, q, t = tokens.shape
        flat = tokens.reshape(b * q, t)
        x = self.text.token_embedding(flat) + self.text.positional_embedding[:t, :]
        for i, block in enumerate(self.text.blocks):
            if cfg.text_prompts and 0 < i < cfg.prompt_depth:
                ctx = self._text_prompt(dyn_t, i, b)
                # one set of dynamic prompts per image, shared by its Q sentences
                ctx = ctx.unsqueeze(1).expand(b, q, p, ctx.shape[-1]).reshape(b * q, p, ctx.shape[-1])
                # positions 1..P (right after SOT) are replaced, real word tokens included
                x = torch.cat([x[:, :1, :], ctx, x[:, 1 + p:, :]], dim=1)
            # mask from the current length: a context shorter than 1 + P grows to 1 + P here, and
            # causality keeps every EOT row exactly what the full 77-token run gives
            length = x.shape[1]
            x = block(x, self.text.causal_mask[:length, :length])
        return self._eot_features(x, flat).reshape(b, q, -1)

    def encode_text_shared(self, tokens: torch.Tensor, dyn_t: Optional[torch.Tensor]) -> torch.Tensor:
        """Same function, less work. From block 1 on, positions 0..P of every sentence of an image
        hold the same values (SOT, whose block-0 output depends on nothing else, then that image's
        prompts), and causal attention never lets later positions change them: they are computed
        once per image instead of once per sentence (6 of ~13 positions for the official prompts).
        Needs T >= P + 2 (the official sentences have T >= 8)."""
        cfg = self.cfg
        p = cfg.prompt_length
        b, q, t = tokens.shape
        flat = tokens.reshape(b * q, t)
        x = self.text.token_embedding(flat) + self.text.positional_embedding[:t, :]
        x = self.text.blocks[0](x, self.text.causal_mask[:t, :t])
        sot = x.reshape(b, q, t, x.shape[-1])[:, 0, :1, :]  # [B,1,D]: the same for every sentence
        prefix = torch.cat([sot, self._text_prompt(dyn_t, 1, b)], dim=1)  # [B,1+P,D]
        suffix = x[:, 1 + p:, :]  # [B*Q,T-1-P,D]
        lp = 1 + p
        mask_prefix = self.text.causal_mask[:lp, :lp]
        mask_suffix = self.text.causal_mask[lp:t, :t]  # rows of the suffix positions in the full mask
        for i in range(1, len(self.text.blocks)):
            if 1 < i < cfg.prompt_depth:
                prefix = torch.cat([prefix[:, :1, :], self._text_prompt(dyn_t, i, b)], dim=1)
            prefix, suffix = self.text.blocks[i].forward_shared_prefix(prefix, suffix, q, mask_prefix, mask_suffix)
        d = prefix.shape[-1]
        full = torch.cat([prefix.unsqueeze(1).expand(b, q, lp, d).reshape(b * q, lp, d), suffix], dim=1)
        return self._eot_features(full, flat).reshape(b, q, -1)

    def text_features(self, raw: torch.Tensor) -> torch.Tensor:
        """[B,Q,D] raw sentence features -> [B,2,D] (normal, abnormal), as TextEmbebddingLayer."""
        n = self.cfg.n_normal_sentences
        e = raw / raw.norm(dim=-1, keepdim=True)
        states = []
        for part in (e[:, :n, :], e[:, n:, :]):
            m = part.mean(dim=1)
            states.append(m / m.norm(dim=-1, keepdim=True))
        t = torch.stack(states, dim=1)
        return F.normalize(t, dim=-1)  # the official extra normalisation of the stacked [D,2]

    # --- whole graph -----------------------------------------------------------------------------
    def forward(self, image: torch.Tensor, tokens: torch.Tensor, intermediates: bool = False
                ) -> Dict[str, torch.Tensor]:
        cfg = self.cfg
        out: Dict[str, torch.Tensor] = {}
        dyn_v = dyn_t = None
        if cfg.dynamic:
            g = self.unprompted_pooled(image)
            assert self.dynamic_visual is not None and self.dynamic_text is not None
            dyn_v = torch.stack([lin(g) for lin in self.dynamic_visual], dim=1)  # [B,P,Wv]
            dyn_t = torch.stack([lin(g) for lin in self.dynamic_text], dim=1)  # [B,P,D]
            if intermediates:
                out.update(pooled_unprompted=g, dynamic_visual_prompts=dyn_v, dynamic_text_prompts=dyn_t)
        pooled, layer_tokens = self.prompted_vision(image, dyn_v)
        u = self.cls_head(pooled)
        u = u / u.norm(dim=-1, keepdim=True)
        proj = []
        for head, tok in zip(self.patch_heads, layer_tokens):
            tl = head(tok)
            proj.append(tl / tl.norm(dim=-1, keepdim=True))
        raw_text = self.encode_text(tokens, dyn_t)
        t = self.text_features(raw_text)  # [B,2,D]
        t_cols = t.transpose(1, 2)  # [B,D,2] as the official text_feature
        logits = [(100.0 * tl) @ t_cols for tl in proj]  # each [B,N,2]
        mean_logits = torch.mean(torch.stack(logits, dim=1), dim=1)  # [B,N,2]
        # HSF inputs: top-K patches by softmax(mean logits)[abnormal], descending
        prob = torch.softmax(mean_logits, dim=-1)[:, :, 1]
        top = torch.topk(prob, k=cfg.top_k, dim=1).indices  # [B,K]
        stacked = torch.stack(proj, dim=2)  # [B,N,L,D]
        b, _, n_layers, d = stacked.shape
        hsf_tokens = stacked.gather(1, top.reshape(b, cfg.top_k, 1, 1).expand(b, cfg.top_k, n_layers, d))
        # Map: the official upsamples each layer's two logit maps, averages and takes the softmax;
        # bilinear interpolation is linear, so upsampling the mean logit difference and taking the
        # sigmoid is the same function (fixture README: <= 4.8e-7 apart), at 1/(2L) of the cost.
        diff = mean_logits[:, :, 1] - mean_logits[:, :, 0]
        diff = diff.reshape(b, 1, cfg.grid, cfg.grid)
        up = F.interpolate(diff, size=(cfg.image_size, cfg.image_size), mode='bilinear', align_corners=True)
        out['anomaly_map'] = torch.sigmoid(up[:, 0, :, :])
        out['global_feature'] = u
        out['text_features'] = t
        out['hsf_indices'] = top
        out['hsf_tokens'] = hsf_tokens
        if intermediates:
            out['pooled_prompted'] = pooled
            out['text_embeddings_raw'] = raw_text
            for i, tl in enumerate(proj):
                out[f'proj_patch_tokens_{i}'] = tl
            out['score_no_hsf'] = torch.softmax((100.0 * u.unsqueeze(1) @ t_cols).squeeze(1), dim=-1)[:, 1]
            out['map_official_form'] = self.official_map(logits)
        return out

    def official_map(self, logits: List[torch.Tensor]) -> torch.Tensor:
        """The official map form (per-layer upsampling, softmax, (p1 + 1 - p0) / 2), for checks."""
        cfg = self.cfg
        maps = []
        for z in logits:
            b = z.shape[0]
            m = z.permute(0, 2, 1).reshape(b, 2, cfg.grid, cfg.grid)
            maps.append(F.interpolate(m, size=cfg.image_size, mode='bilinear', align_corners=True))
        m = torch.softmax(torch.mean(torch.stack(maps, dim=1), dim=1), dim=1)
        return ((m[:, 1:, :, :] + 1 - m[:, 0:1, :, :]) / 2.0)[:, 0]


OUTPUT_NAMES = ['anomaly_map', 'global_feature', 'text_features', 'hsf_indices', 'hsf_tokens']


class ExportWrapper(nn.Module):
    """Positional outputs in the bundle's order, for torch.onnx.export."""

    def __init__(self, model: AdaClipGraph):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, tokens: torch.Tensor):
        out = self.model(image, tokens)
        return tuple(out[name] for name in OUTPUT_NAMES)
