// Our gaussian filter against scipy.ndimage.gaussian_filter run in this test on random maps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussianFilter, gaussianKernel1d } from '../../src/postprocess/gaussian.js';
import { readNpy } from '../../src/util/npy.js';
import { runPython, skipWithoutPython } from '../helpers/python-ref.js';

const skip = skipWithoutPython(['numpy', 'scipy']);

// (height, width, sigma, seed): the real map size, odd sizes, and maps smaller than the kernel
// radius, where 'reflect' folds more than once.
const CASES: [number, number, number, number][] = [
  [518, 518, 4, 1],
  [518, 518, 4, 2],
  [224, 224, 4, 3],
  [37, 61, 4, 4],
  [7, 23, 4, 5],
  [1, 9, 4, 6],
  [9, 1, 4, 9],
  [2, 3, 4, 10],
  [100, 80, 1.5, 7],
  [64, 64, 2.5, 8],
];

const MAKE = `
import sys, numpy as np
from scipy.ndimage import gaussian_filter
out = sys.argv[1]
for i, spec in enumerate(sys.argv[2:]):
    h, w, sigma, seed = spec.split(',')
    rng = np.random.default_rng(int(seed))
    # maps in [0,1] like the anomaly map
    m = rng.random((int(h), int(w)), dtype=np.float32)
    np.save(f'{out}/in{i}.npy', m)
    np.save(f'{out}/out{i}.npy', gaussian_filter(m, sigma=float(sigma)))
`;

test('gaussian_filter matches scipy bit for bit on random maps', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gauss-'));
  try {
    runPython(MAKE, [dir, ...CASES.map((c) => c.join(','))]);
    CASES.forEach(([h, w, sigma], i) => {
      const input = readNpy(join(dir, `in${i}.npy`)).data as Float32Array;
      const want = readNpy(join(dir, `out${i}.npy`)).data as Float32Array;
      for (const kernel of ['simd', 'reference'] as const) {
        if (kernel === 'simd' && w < 2) continue; // the SIMD passes need two columns
        const got = gaussianFilter(input, h, w, { sigma, kernel });
        let diff = 0;
        for (let j = 0; j < got.length; j++) if (got[j] !== want[j]) diff++;
        assert.equal(diff, 0, `${kernel} ${h}x${w} sigma ${sigma}: ${diff} values differ`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kernel weights equal scipy _gaussian_kernel1d exactly', { skip }, () => {
  const sigmas = [0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7.3, 10];
  const out = runPython(
    `
import sys
from scipy.ndimage._filters import _gaussian_kernel1d
for s in sys.argv[1:]:
    s = float(s)
    print(' '.join(repr(float(v)) for v in _gaussian_kernel1d(s, 0, int(4.0 * s + 0.5))[::-1]))
`,
    sigmas.map(String),
  );
  const lines = out.trim().split('\n');
  sigmas.forEach((s, i) => {
    assert.deepEqual(Array.from(gaussianKernel1d(s)), lines[i].split(' ').map(Number), `sigma ${s}`);
  });
});
