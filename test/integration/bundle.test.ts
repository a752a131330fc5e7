// loadBundle on a bundle made by the real exporter (random weights, bytes-only vocabulary: quick to
// export), and on corrupted copies of it: each is refused with an error naming the problem.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TINY_ARCH, exportBundle, writeArch, writeBytesOnlyVocab } from '../helpers/export-bundle.js';
import { BundleError, checkSessionIo, loadBundle } from '../../src/model/bundle.js';

let work = '';
let good = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'adaclip-bundle-'));
  good = exportBundle(join(work, 'good'), [
    '--random-init',
    '3',
    '--arch',
    writeArch(work, TINY_ARCH),
    '--image-size',
    '112',
    '--vocab',
    writeBytesOnlyVocab(join(work, 'vocab_bytes_only.txt.gz')),
  ]);
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

let copies = 0;
function copy(): string {
  const dir = join(work, `copy${copies++}`);
  cpSync(good, dir, { recursive: true });
  return dir;
}
function editManifest(dir: string, edit: (m: any) => void): void {
  const path = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8'));
  edit(m);
  writeFileSync(path, JSON.stringify(m));
}

test('a fresh exporter bundle loads', async () => {
  const b = await loadBundle(good);
  assert.equal(b.untrained, true);
  assert.equal(b.manifest.imageSize, 112);
  assert.equal(b.manifest.grid, 8);
  assert.equal(b.topK, 64); // min(8*8, 100)
  assert.equal(b.layers, 4);
  assert.equal(b.tokenizer.sot, 512);
  assert.equal(b.tokenizer.eot, 513);
  assert.ok(b.onnxPath.endsWith('model.onnx'));
});

test('missing file', async () => {
  const dir = copy();
  unlinkSync(join(dir, 'model.onnx'));
  await assert.rejects(loadBundle(dir), /file model\.onnx is missing/);
});

test('hash mismatch names both hashes', async () => {
  const dir = copy();
  const path = join(dir, 'model.onnx');
  const bytes = readFileSync(path);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(path, bytes);
  const actual = createHash('sha256').update(bytes).digest('hex');
  const expected = JSON.parse(readFileSync(join(good, 'manifest.json'), 'utf8')).files['model.onnx'].sha256;
  await assert.rejects(loadBundle(dir), (err: Error) => {
    assert.ok(err instanceof BundleError);
    assert.match(err.message, new RegExp(`model\\.onnx has sha256 ${actual}, the manifest says ${expected}`));
    return true;
  });
});

test('size mismatch', async () => {
  const dir = copy();
  truncateSync(join(dir, 'vocab_bytes_only.txt.gz'), 5);
  await assert.rejects(loadBundle(dir), /vocab_bytes_only\.txt\.gz is 5 bytes, the manifest says \d+/);
});

test('manifest: missing, not JSON, invalid, other format version', async () => {
  let dir = copy();
  unlinkSync(join(dir, 'manifest.json'));
  await assert.rejects(loadBundle(dir), /manifest\.json is missing/);
  dir = copy();
  writeFileSync(join(dir, 'manifest.json'), '{ nope');
  await assert.rejects(loadBundle(dir), /manifest\.json is not valid JSON/);
  dir = copy();
  editManifest(dir, (m) => (m.imageSize = -4));
  await assert.rejects(loadBundle(dir), /manifest\.json is invalid: imageSize/);
  dir = copy();
  editManifest(dir, (m) => (m.formatVersion = 2));
  await assert.rejects(loadBundle(dir), /formatVersion 2 is not supported/);
});

test('IO contract: wrong shape, wrong dtype, missing output, fixed batch', async () => {
  let dir = copy();
  editManifest(
    dir,
    (m) => (m.onnx.outputs.find((o: any) => o.name === 'hsf_tokens').shape = ['batch', 64, 3, 48]),
  );
  await assert.rejects(
    loadBundle(dir),
    /output "hsf_tokens" has shape \["batch",64,3,48\], the contract says \["batch",64,4,48\]/,
  );
  dir = copy();
  editManifest(dir, (m) => (m.onnx.inputs.find((o: any) => o.name === 'tokens').dtype = 'int32'));
  await assert.rejects(loadBundle(dir), /input "tokens" has dtype int32, the contract says int64/);
  dir = copy();
  editManifest(dir, (m) => (m.onnx.outputs = m.onnx.outputs.filter((o: any) => o.name !== 'global_feature')));
  await assert.rejects(loadBundle(dir), /lacks "global_feature"/);
  dir = copy();
  editManifest(dir, (m) => (m.onnx.inputs.find((o: any) => o.name === 'image').shape[0] = 1));
  await assert.rejects(loadBundle(dir), /input "image" has shape \[1,3,112,112\]/);
});

test('tokenizer ids in the manifest must match the vocabulary', async () => {
  const dir = copy();
  editManifest(dir, (m) => (m.tokenizer.sot = 49406));
  await assert.rejects(
    loadBundle(dir),
    /SOT\/EOT 49406\/513 in the manifest, but the vocabulary gives 512\/513/,
  );
});

test('checkSessionIo refuses a session without the contract names or with other types', async () => {
  const b = await loadBundle(good);
  const inputs = ['image', 'tokens'];
  const outputs = ['anomaly_map', 'global_feature', 'text_features', 'hsf_indices', 'hsf_tokens'];
  assert.doesNotThrow(() => checkSessionIo(b, { inputNames: inputs, outputNames: outputs }));
  assert.throws(
    () => checkSessionIo(b, { inputNames: inputs, outputNames: outputs.slice(1) }),
    /model\.onnx has no output "anomaly_map"/,
  );
  assert.throws(
    () =>
      checkSessionIo(b, {
        inputNames: inputs,
        outputNames: outputs,
        inputMetadata: [{ name: 'image', isTensor: true, type: 'float16', shape: ['batch', 3, 112, 112] }],
      }),
    /input "image" is float16, the contract says float32/,
  );
  assert.throws(
    () =>
      checkSessionIo(b, {
        inputNames: inputs,
        outputNames: outputs,
        inputMetadata: [{ name: 'image', isTensor: true, type: 'float32', shape: ['batch', 3, 224, 224] }],
      }),
    /input "image" has shape \["batch",3,224,224\]/,
  );
});
