#!/usr/bin/python3
"""Times the official HSF path per image, for the `hsf.official.b1` benchmark (src/bench/suites/hsf.ts).

Usage: /usr/bin/python3 official_hsf_bench.py TOKENS.npy U.npy T.npy ITERATIONS WARMUP
TOKENS: float32 [K, L, D] (already top-K selected), U: [D], T: [2, D]. Prints one JSON line
{"samples_ms": [...], "cpu_ms": [...], "score": s, "sklearn": version}: wall time and CPU time (all
threads of the process) per image; the CPU time is the fairer number on a shared, loaded machine.

Per sample, what the official HybridSemanticFusion.forward + visual_text_similarity do after the
top-K gather, re-implemented (not copied): KMeans(n_clusters=20, n_init="auto").fit_predict on the
concatenated layers (unseeded, as the official code), the per-cluster mean over layers and members
with torch, the mean of the centres, normalisation, fusion with alpha 0.2 and the softmax score.
"""
import json
import sys
import time

import numpy as np
import sklearn
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans


def official_hsf(layers, u, t, k=20, alpha=0.2):
    stacked = torch.cat(layers, dim=1)  # [K, L*D]
    labels = KMeans(n_clusters=k, n_init="auto").fit_predict(stacked.numpy())
    centres = []
    for c in range(k):
        members = torch.cat([tok[labels == c] for tok in layers], dim=0)
        centres.append(torch.mean(members, dim=0, keepdim=True))
    f = F.normalize(torch.mean(torch.cat(centres, dim=0), dim=0, keepdim=True), dim=1)
    fused = F.normalize(alpha * f + (1 - alpha) * u, dim=1)
    logits = (100.0 * fused.unsqueeze(1) @ t).squeeze(1)
    return float(torch.softmax(logits, dim=1)[0, 1])


def main() -> None:
    tokens = torch.from_numpy(np.load(sys.argv[1]))
    u = torch.from_numpy(np.load(sys.argv[2])).reshape(1, -1)
    t = torch.from_numpy(np.load(sys.argv[3])).T.unsqueeze(0)  # [1, D, 2]
    iterations, warmup = int(sys.argv[4]), int(sys.argv[5])
    layers = [tokens[:, l, :] for l in range(tokens.shape[1])]
    score = 0.0
    for _ in range(warmup):
        official_hsf(layers, u, t)
    samples, cpu = [], []
    for _ in range(iterations):
        t0, c0 = time.perf_counter(), time.process_time()
        score = official_hsf(layers, u, t)
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(json.dumps({"samples_ms": samples, "cpu_ms": cpu, "score": score, "sklearn": sklearn.__version__}))


if __name__ == "__main__":
    main()
