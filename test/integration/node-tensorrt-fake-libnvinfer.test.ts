// The addon's dlopen path and version checks against a TEST DOUBLE of libnvinfer: a tiny shared
// library compiled here that exports getInferLibVersion and createInferRuntime_INTERNAL (returning
// null). Real TensorRT does not exist on these machines. Runs in its own process: the addon keeps
// the first library that passes its checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNodeTensorrt, type NodeTensorrtAddon } from '../../src/engines/tensorrt.js';
import { requireCommand } from '../helpers/require-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'fake-libnvinfer-'));

/** Compiles fake-libnvinfer (TEST DOUBLE) reporting the given version code. */
function fakeLibnvinfer(versionCode: number): string {
  const src = join(dir, `fake-${versionCode}.c`);
  const lib = join(dir, `libnvinfer-fake-${versionCode}.so`);
  writeFileSync(
    src,
    `#include <stdint.h>
int32_t getInferLibVersion(void) { return ${versionCode}; }
void* createInferRuntime_INTERNAL(void* logger, int32_t version) { (void)logger; (void)version; return 0; }
`,
  );
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-o', lib, src], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  return lib;
}

function addon(): NodeTensorrtAddon {
  const load = loadNodeTensorrt();
  assert.ok(load.ok, load.ok ? '' : load.reason);
  return load.addon;
}

test('fake libnvinfer: versions are checked, then the runtime factory is called', async (t) => {
  requireCommand('cc', 'gcc');
  const a = addon();
  const headers = a.buildInfo().tensorrtHeaders;

  await t.test('TensorRT 8 is refused', () => {
    const r = a.loadTensorRt({ library: fakeLibnvinfer(8601) });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /is TensorRT 8\.6\.1; node-tensorrt needs TensorRT 10\.x/);
  });

  await t.test('TensorRT 11 is refused', () => {
    const r = a.loadTensorRt({ library: fakeLibnvinfer(110000) });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, /needs TensorRT 10\.x/);
  });

  await t.test(
    'a library older than the headers is refused',
    {
      skip: headers
        ? false
        : 'TensorRT-only: the addon was built without TensorRT headers (they come with a TensorRT install)',
    },
    () => {
      const r = a.loadTensorRt({ library: fakeLibnvinfer(100000) });
      assert.equal(r.ok, false);
      if (!r.ok)
        assert.match(
          r.error,
          new RegExp(
            `TensorRT 10\\.0\\.0, older than the headers .*\\(${headers!.replaceAll('.', '\\.')}\\)`,
          ),
        );
    },
  );

  await t.test('TensorRT 10.3 loads and reports its version', () => {
    const lib = fakeLibnvinfer(100300);
    const r = a.loadTensorRt({ library: lib });
    assert.ok(r.ok, r.ok ? '' : r.error);
    if (r.ok) {
      assert.equal(r.version, '10.3.0');
      assert.equal(r.versionCode, 100300);
      assert.equal(r.library, lib);
    }
  });

  await t.test(
    'openEngine reaches the runtime factory (which this double fails) or says what is missing',
    async () => {
      const expected = headers ? /createInferRuntime failed/ : /built without (TensorRT headers|CUDA)/;
      await assert.rejects(a.openEngine(join(dir, 'missing.plan')), (e: Error) => expected.test(e.message));
    },
  );
});
