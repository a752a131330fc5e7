// deploy/check-trt-ops.py (the TensorRT op-support check of an exported graph) on small ONNX graphs
// built here with the onnx Python package, against a support matrix written by the test in the
// format of onnx-tensorrt's docs/operators.md (the real file is public and not stored in the repo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.js';
import { requirePython } from '../helpers/require-tools.js';

const PYTHON = '/usr/bin/python3';
const CHECKER = join(ROOT, 'deploy', 'check-trt-ops.py');
const dir = mkdtempSync(join(tmpdir(), 'trt-ops-'));

const MATRIX = `# Supported ONNX Operators

TensorRT 10.3 supports operators in the inclusive range of opset 9 to opset 20.

| Operator                  | Supported  | Supported Types | Restrictions |
|---------------------------|------------|-----------------|--------------|
| Add                       | Y          | FP32, FP16 |
| Hardmax                   | N          |
| Resize                    | Y          | FP32, FP16 | Supported resize modes: \`nearest\`, \`linear\`. |
| TopK                      | Y          | FP32, FP16 | \`sorted\` must be 1. \`K\` input must be less than 3840. |
| Unsqueeze                 | Y          | FP32, FP16 | \`axes\` must be a constant tensor |
| Shape                     | Y          | FP32 |
| Slice                     | Y          | FP32 | \`axes\` must be an initializer |
`;

/** Builds a model.onnx with onnx.helper; `body` is Python that defines nodes, inits, outputs. */
function makeModel(name: string, body: string, opset = 17): string {
  const path = join(dir, `${name}.onnx`);
  const py = `
import numpy as np, onnx
from onnx import helper as h, TensorProto as T, numpy_helper as nh
x = h.make_tensor_value_info('x', T.FLOAT, [1, 8])
${body}
g = h.make_graph(nodes, 'g', [x], outputs, inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', ${opset})])
onnx.save(m, ${JSON.stringify(path)})
`;
  const r = spawnSync(PYTHON, ['-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return path;
}

function runChecker(model: string): {
  status: number | null;
  report: { problems: string[]; ops: { op: string }[] };
} {
  const matrix = join(dir, 'operators.md');
  writeFileSync(matrix, MATRIX);
  const r = spawnSync(PYTHON, [CHECKER, model, '--operators', matrix, '--json'], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `checker failed: ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) };
}

test('a graph of supported ops within the restrictions passes', () => {
  requirePython(['onnx', 'numpy'], PYTHON);
  const model = makeModel(
    'clean',
    `
inits = [nh.from_array(np.array([2], dtype=np.int64), 'k'), nh.from_array(np.array([0], dtype=np.int64), 'ax')]
nodes = [h.make_node('Add', ['x', 'x'], ['a']), h.make_node('TopK', ['a', 'k'], ['v', 'i'], axis=1),
         h.make_node('Unsqueeze', ['v', 'ax'], ['u'])]
outputs = [h.make_tensor_value_info('u', T.FLOAT, None)]
`,
  );
  const { status, report } = runChecker(model);
  assert.deepEqual(report.problems, []);
  assert.equal(status, 0);
  assert.deepEqual(
    report.ops.map((o) => o.op),
    ['Add', 'TopK', 'Unsqueeze'],
  );
});

test('unsupported ops, computed constant inputs, TopK unsorted, a bad Resize and the opset are reported', () => {
  requirePython(['onnx', 'numpy'], PYTHON);
  const model = makeModel(
    'bad',
    `
inits = [nh.from_array(np.array([2], dtype=np.int64), 'k'), nh.from_array(np.array([1.0, 2.0], dtype=np.float32), 'scales')]
nodes = [h.make_node('Hardmax', ['x'], ['hm']),
         h.make_node('TopK', ['hm', 'k'], ['v', 'i'], axis=1, sorted=0),
         h.make_node('Shape', ['v'], ['s']),
         h.make_node('Unsqueeze', ['v', 's'], ['u']),
         h.make_node('Resize', ['x', '', 'scales'], ['r'], mode='cubic')]
outputs = [h.make_tensor_value_info('u', T.FLOAT, None), h.make_tensor_value_info('r', T.FLOAT, None)]
`,
    21,
  );
  const { status, report } = runChecker(model);
  assert.equal(status, 1);
  const has = (re: RegExp) =>
    assert.ok(
      report.problems.some((p) => re.test(p)),
      `${re} in ${JSON.stringify(report.problems)}`,
    );
  has(/^Hardmax \(x1\) is not supported/);
  has(/TopK .*sorted must be 1/);
  has(/Unsqueeze .*input `axes` is computed/);
  has(/Resize .*mode cubic unsupported/);
  has(/opset 21 is outside the supported range 9\.\.20/);
});
