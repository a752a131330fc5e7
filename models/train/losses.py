"""AdaCLIP's training objective, re-implemented: focal loss and two dice losses on every output layer's
two-channel map (normal, abnormal probabilities at S x S), cross-entropy on the image score. And the
stage-1 loss that stands in for CLIP's pretraining (there is no pretrained CLIP here): a weighted
binary cross-entropy per patch, which does not saturate the way the maps' softmax at scale 100 does
on random features (every patch "normal" by a wide margin, no gradient left; seen in the first
20 steps of every from-scratch run with the AdaCLIP objective alone)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def focal_loss(probs: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, smooth: float = 1e-5) -> torch.Tensor:
    """probs [B,2,H,W] (softmax over the channel), target [B,H,W] in {0,1}: mean over pixels of
    -(1 - p_t)^gamma log p_t, with the label smoothing of the official loss."""
    one_hot = torch.stack([1 - target, target], dim=1).clamp(smooth, 1.0 - smooth)
    pt = (one_hot * probs).sum(dim=1) + smooth
    return (-(1 - pt).pow(gamma) * pt.log()).mean()


def dice_loss(pred: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - mean over the batch of (2 |pred * target| + 1) / (|pred| + |target| + 1)."""
    b = pred.shape[0]
    p, t = pred.reshape(b, -1), target.reshape(b, -1)
    dice = (2 * (p * t).sum(1) + smooth) / (p.sum(1) + t.sum(1) + smooth)
    return 1 - dice.mean()


def map_loss(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return focal_loss(probs, target) + dice_loss(probs[:, 1], target) + dice_loss(probs[:, 0], 1 - target)


def patch_loss(logits: torch.Tensor, target: torch.Tensor, grid: int) -> torch.Tensor:
    """logits [B,N,2] of one layer, target [B,S,S]: binary cross-entropy of the logit difference
    against "the patch holds defect pixels" (max-pooled mask), the mean over defect patches plus the
    mean over good patches (class-balanced: defect patches are about 1 % of all). A patch's share of
    defect pixels as the target (tried first) is about 0.1 for a thin scratch, which taught the map
    the part's outline and no defect in 300 steps."""
    b = logits.shape[0]
    hit = F.adaptive_max_pool2d(target[:, None], grid)[:, 0].reshape(b, -1)
    diff = logits[:, :, 1] - logits[:, :, 0]
    bce = F.binary_cross_entropy_with_logits(diff, hit, reduction='none')
    pos = (bce * hit).sum() / hit.sum().clamp(min=1.0)
    neg = (bce * (1 - hit)).sum() / (1 - hit).sum().clamp(min=1.0)
    return pos + neg


def peak_loss(layer_logits, image_logits: torch.Tensor) -> torch.Tensor:
    """Stage 1: the image score learns the map's peak probability (sigmoid of the largest patch logit
    difference, mean over layers; the map's side gets no gradient from it), as a soft label of a
    binary cross-entropy, which leaves the image logits moderate at the graph's scale of 100. The CLS
    token learns slowly from one label per image; the map learns fast from one label per patch, and
    its peak separates defective from good images early, so it teaches the CLS token where to look."""
    mean = torch.stack(layer_logits).mean(0)
    peak = torch.sigmoid((mean[:, :, 1] - mean[:, :, 0]).amax(dim=1)).detach()
    return F.binary_cross_entropy_with_logits(image_logits[:, 1] - image_logits[:, 0], peak)
