// Writes calibrated thresholds and the calibration record into one camera of a YAML config, through
// the yaml package's Document API so that comments, key order and formatting elsewhere survive. The
// edited file is validated against the schema before it replaces the old one (atomically: a crash
// leaves the old file or the new one, never half of one).
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { configSchema, type Calibration } from '../config/schema.js';

export interface CalibratedThresholds {
  image: number;
  clear: number;
  pixel: number;
}

/** Index of the camera in the file's `cameras` list; throws naming the known ids. */
export function cameraIndex(doc: ReturnType<typeof parseDocument>, cameraId: string, file: string): number {
  const cameras = doc.get('cameras');
  if (!isSeq(cameras)) throw new Error(`${file}: no "cameras" list`);
  const ids = cameras.items.map((c) => (isMap(c) ? String(c.get('id')) : '?'));
  const index = ids.indexOf(cameraId);
  if (index < 0) throw new Error(`${file}: no camera "${cameraId}" (cameras: ${ids.join(', ') || 'none'})`);
  return index;
}

export function writeCalibration(
  file: string,
  cameraId: string,
  thresholds: CalibratedThresholds,
  record: Calibration,
): void {
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`${file}: YAML syntax: ${doc.errors[0].message.split('\n')[0]}`);
  const i = cameraIndex(doc, cameraId, file);
  for (const key of ['image', 'clear', 'pixel'] as const) {
    const path = ['cameras', i, 'thresholds', key];
    const node = doc.getIn(path, true);
    if (isScalar(node)) {
      // the node keeps its comment; not its number format: 0.2375 written where 9.6e-11 stood came
      // out as 2.375e-1
      node.value = thresholds[key];
      node.format = undefined;
      node.minFractionDigits = undefined;
    } else doc.setIn(path, thresholds[key]);
  }
  doc.setIn(['cameras', i, 'calibration'], doc.createNode({ ...record }));
  // the schema only: secrets (mqtt.passwordFile) are the service's to read, not ours
  const check = configSchema.safeParse(doc.toJS());
  if (!check.success) {
    const why = check.error.issues
      .map((e) => `${e.path.join('.') || '<top level>'}: ${e.message}`)
      .join('; ');
    throw new Error(`${file}: not written, the edited config would be invalid: ${why}`);
  }
  const tmp = `${file}.calibrate-${process.pid}.tmp`;
  // lineWidth 0: long strings (a GStreamer pipeline, say) stay on their one line
  writeFileSync(tmp, doc.toString({ lineWidth: 0 }));
  chmodSync(tmp, statSync(file).mode & 0o7777);
  renameSync(tmp, file);
}
