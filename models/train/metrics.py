"""AUROC for the training log (validation while training). The reported numbers come from
`adaclip-edge eval` on the exported bundle, not from here."""
from __future__ import annotations

import numpy as np


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney AUROC with ties counted half (equals sklearn's roc_auc_score)."""
    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    pos, neg = labels.sum(), (~labels).sum()
    if pos == 0 or neg == 0:
        return float('nan')
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based, ties share their mean rank
    r = average_rank[inverse]
    return float((r[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))
