"""Hybrid Semantic Fusion inside training: the image score the product computes is not u . t but
u' . t with u' = normalise(alpha f + (1 - alpha) u), f the mean of K-Means cluster centres of the
top-K patch tokens (reference/adaclip-inference.md, step 8). Training u alone (AdaCLIP's own
objective) leaves f out of the loop; with this, the cross-entropy on the image score also reaches
the patch tokens HSF picks, so the map's defect evidence can move the score.

The cluster assignment has no gradient (as K-Means has none); the centres and f are the same
weighted sums as in the product, so the gradient flows into the selected tokens. The K-Means here
starts from the K highest-scoring tokens' first k (deterministic) and runs a fixed number of Lloyd
steps: close to, not equal to, the product's k-means++ (training only needs the shape of f)."""
from __future__ import annotations

import torch


def hsf_feature(layer_tokens: list[torch.Tensor], patch_logits: list[torch.Tensor], k: int, top_k: int,
                iterations: int = 8) -> torch.Tensor:
    """layer_tokens: per output layer the L2-normalised projected patch tokens [B,N,D];
    patch_logits: per layer [B,N,2]. Returns f [B,D], L2-normalised."""
    mean_logits = torch.stack(patch_logits).mean(0)
    prob = torch.softmax(mean_logits, dim=-1)[:, :, 1]
    top = torch.topk(prob.detach(), k=top_k, dim=1).indices  # [B,K], descending
    stacked = torch.stack(layer_tokens, dim=2)  # [B,N,L,D]
    b, _, n_layers, d = stacked.shape
    picked = stacked.gather(1, top.reshape(b, top_k, 1, 1).expand(b, top_k, n_layers, d))  # [B,K,L,D]
    x = picked.reshape(b, top_k, n_layers * d)
    with torch.no_grad():
        assign = _kmeans(x.detach(), k, iterations)  # [B,K] cluster of each token
    one_hot = torch.nn.functional.one_hot(assign, k).to(x.dtype)  # [B,K,k]
    sizes = one_hot.sum(1)  # [B,k]
    used = (sizes > 0).to(x.dtype)
    # each token's weight: 1 / (clusters used * its cluster's size); f is the mean of the centres
    weight = (one_hot / sizes.clamp(min=1).unsqueeze(1)).sum(-1) / used.sum(-1, keepdim=True)  # [B,K]
    token_mean = picked.mean(2)  # [B,K,D]: the mean over layers
    f = (weight.unsqueeze(-1) * token_mean).sum(1)
    return f / f.norm(dim=-1, keepdim=True)


def fuse(u: torch.Tensor, f: torch.Tensor, alpha: float) -> torch.Tensor:
    v = alpha * f + (1 - alpha) * u
    return v / v.norm(dim=-1, keepdim=True)


def _kmeans(x: torch.Tensor, k: int, iterations: int) -> torch.Tensor:
    centres = x[:, :k].clone()
    assign = torch.zeros(x.shape[:2], dtype=torch.long)
    for _ in range(iterations):
        assign = torch.cdist(x, centres).argmin(-1)
        one_hot = torch.nn.functional.one_hot(assign, k).to(x.dtype)
        sizes = one_hot.sum(1)
        sums = one_hot.transpose(1, 2) @ x
        # an emptied cluster keeps its centre
        centres = torch.where(sizes.unsqueeze(-1) > 0, sums / sizes.clamp(min=1).unsqueeze(-1), centres)
    return assign
