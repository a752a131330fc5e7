import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCalibration } from '../../src/calibration/config-writer.js';
import { parseConfigText } from '../../src/config/load.js';

const CONFIG = `# line 3 inspection: keep this header
site: plant
model:
  bundle: models/bundles/demo-untrained # the demo bundle
cameras:
  # the press camera: do not touch
  - id: press
    className: nut
    source:
      kind: videocapture
      uri: nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),width=1920,height=1080,framerate=30/1 ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! appsink
    thresholds: { image: 0.4, pixel: 0.5 } # press thresholds
  - id: conveyor
    className: screw
    source:
      kind: synthetic
      seed: 3
    # chosen by hand on day one
    thresholds:
      image: 0.625 # hand-picked
      pixel: 0.63
      minRegionAreaPct: 0.2
`;

const record = {
  at: '2026-12-02T10:11:12.000Z',
  images: 300,
  rule: 'p99 of good images + 1 robust sd (1.4826 MAD); clear at p99 + half the margin',
  targetFpr: 0.01,
  falseAlarmRate: 0,
  bundle: 'models/bundles/demo-untrained',
};

test('the thresholds and the record go into the one camera; comments and the rest survive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calw-'));
  const file = join(dir, 'line.yaml');
  writeFileSync(file, CONFIG);
  chmodSync(file, 0o640);
  writeCalibration(file, 'conveyor', { image: 0.7123, clear: 0.7001, pixel: 0.81 }, record);
  const text = readFileSync(file, 'utf8');
  for (const comment of [
    '# line 3 inspection: keep this header',
    '# the demo bundle',
    '# the press camera: do not touch',
    '# press thresholds',
    '# chosen by hand on day one',
    '# hand-picked',
  ])
    assert.ok(text.includes(comment), `lost ${comment}:\n${text}`);
  assert.match(text, /^ {6}uri: nvarguscamerasrc .* ! appsink$/m, 'the long pipeline stays on one line');
  const cfg = parseConfigText(text, file, {});
  const [press, conveyor] = cfg.cameras;
  assert.deepEqual(
    { image: press.thresholds.image, pixel: press.thresholds.pixel, calibration: press.calibration },
    { image: 0.4, pixel: 0.5, calibration: undefined },
  );
  assert.deepEqual(conveyor.thresholds, { image: 0.7123, clear: 0.7001, pixel: 0.81, minRegionAreaPct: 0.2 });
  assert.deepEqual(conveyor.calibration, record);
  assert.equal(statSync(file).mode & 0o777, 0o640, 'file mode kept');
  assert.deepEqual(readdirSync(dir), ['line.yaml'], 'no temporary file left');

  // a value written where a tiny one stood is written plainly, not in the old one's exponent form
  writeCalibration(file, 'conveyor', { image: 9.6e-11, clear: 9.5e-11, pixel: 0.01 }, record);
  writeCalibration(file, 'conveyor', { image: 0.2375, clear: 0.1906, pixel: 0.01 }, record);
  const again = readFileSync(file, 'utf8');
  assert.match(again, /^ {6}image: 0\.2375 # hand-picked$/m, again);
  assert.match(again, /^ {6}clear: 0\.1906$/m, again);
});

test('an unknown camera or a config the edit would leave invalid is refused, the file untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'calw-'));
  const file = join(dir, 'line.yaml');
  writeFileSync(file, CONFIG);
  assert.throws(
    () => writeCalibration(file, 'oven', { image: 0.7, clear: 0.6, pixel: 0.8 }, record),
    /no camera "oven" \(cameras: press, conveyor\)/,
  );
  assert.throws(
    () =>
      writeCalibration(file, 'press', { image: 0.7, clear: 0.6, pixel: 0.8 }, { ...record, targetFpr: 3 }),
    /not written, the edited config would be invalid: cameras\.0\.calibration\.targetFpr/,
  );
  assert.equal(readFileSync(file, 'utf8'), CONFIG);
});
