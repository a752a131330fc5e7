"""Clustered synthetic HSF tokens, generated identically here and in src/hsf/synthetic-input.ts.

Mulberry32's state advances by a constant, so draw n is a pure function of (seed, n): numpy computes
all draws at once, and TypeScript draws them one by one, with the same uint32 arithmetic. Gaussian
noise is the Irwin-Hall sum of 4 uniforms (only additions, so both sides round identically), and the
per-layer L2 norm is summed sequentially (np.cumsum) as the TypeScript loop does.
"""
import numpy as np

MASK = np.uint64(0xFFFFFFFF)
SQRT3 = 1.7320508075688772


def mulberry32_draws(seed: int, start: int, count: int) -> np.ndarray:
    """Draws start..start+count-1 of Mulberry32(seed), as float64 in [0, 1)."""
    n = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    t = (np.uint64(seed) + n * np.uint64(0x6D2B79F5)) & MASK

    def imul(a, b):
        return (a * b) & MASK

    t = imul(t ^ (t >> np.uint64(15)), t | np.uint64(1))
    t = t ^ ((t + imul(t ^ (t >> np.uint64(7)), t | np.uint64(61))) & MASK)
    t = t ^ (t >> np.uint64(14))
    return t.astype(np.float64) / 4294967296.0


def gauss(u: np.ndarray) -> np.ndarray:
    """u: [..., 4] uniforms -> approximately standard normal values (Irwin-Hall, variance 1)."""
    s = ((u[..., 0] + u[..., 1]) + u[..., 2]) + u[..., 3]
    return (s - 2.0) * SQRT3


def clustered_tokens(seed: int, rows: int, layers: int, dim: int, centres: int, spread: float) -> np.ndarray:
    """float32 [rows, layers, dim]; every (row, layer) vector has unit L2 norm.

    Draw order: the centres (centres*layers*dim gaussians), then per row one uniform picking its
    centre followed by layers*dim gaussians. centres == 0: no centre draws, no pick, v = noise.
    """
    per_vec = layers * dim
    pos = 0
    if centres > 0:
        c = gauss(mulberry32_draws(seed, 0, centres * per_vec * 4).reshape(centres, per_vec, 4))
        pos = centres * per_vec * 4
    pick_draws = 1 if centres > 0 else 0
    per_row = pick_draws + per_vec * 4
    u = mulberry32_draws(seed, pos, rows * per_row).reshape(rows, per_row)
    noise = gauss(u[:, pick_draws:].reshape(rows, per_vec, 4))
    if centres > 0:
        pick = np.floor(u[:, 0] * centres).astype(np.int64)
        v = c[pick] + spread * noise
    else:
        v = noise
    v = v.reshape(rows, layers, dim)
    ss = np.cumsum(v * v, axis=2)[:, :, -1:]
    return (v / np.sqrt(ss)).astype(np.float32)


def checksum(x: np.ndarray) -> float:
    """sum_i x_i * (i % 13 + 1), sequentially in float64 (src/hsf/synthetic-input.ts computes the same)."""
    flat = x.reshape(-1).astype(np.float64)
    w = (np.arange(flat.size) % 13 + 1).astype(np.float64)
    return float(np.cumsum(flat * w)[-1])
