// The state directory as a deployment meets it: the real CLI run as user nobody (setpriv; the tests
// run as root) from a working directory it cannot write. With the default stateDir (var/ beside a
// config file in a folder it cannot write) the start stops at once, naming the key to change; with
// a relative stateDir in a folder it may write, everything the service writes lands there (resolved
// against the config file's folder, not the working directory), and a bdSeq file it cannot store
// is logged and counted while the run goes on and ends cleanly.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/fixtures.js';
import { loadOpenCV } from '../../src/util/opencv.js';

const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const BUNDLE = join(ROOT, 'models', 'bundles', 'demo-untrained');
const NOBODY = 65534;
const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

/** `adaclip-edge run` as nobody:nogroup without supplementary groups, from `cwd`. */
function runAsNobody(config: string, cwd: string) {
  const proc = spawn(
    'setpriv',
    ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'run', '--config', config],
    { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(proc);
  const run = { proc, out: '', code: undefined as number | null | undefined };
  proc.stdout!.on('data', (d: Buffer) => (run.out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (run.out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      run.code = code;
      resolve(code);
    }),
  );
  return { run, exited };
}

function configText(o: { stateDir?: string; frames: string; broker: number; dashboard: number }): string {
  return `site: s
line: l
${o.stateDir ? `stateDir: ${o.stateDir}\n` : ''}model: { bundle: ${BUNDLE}, engine: { backend: onnxruntime } }
cameras:
  - id: cam1
    className: screw
    source: { kind: folder, path: ${o.frames}, fps: 1 }
    admission: { policy: keep-all }
    thresholds: { image: 0.0, pixel: 0.99 }
mqtt:
  embedded: { port: ${o.broker} }
  sparkplug: { enabled: true, groupId: g }
dashboard: { port: ${o.dashboard} }
log: { level: info, pretty: never }
`;
}

test(
  'as a non-root user with a read-only working directory: the state directory is checked at start and holds everything written',
  { timeout: 300_000 },
  async () => {
    assert.ok(
      existsSync(join(BUNDLE, 'manifest.json')),
      `demo bundle missing at ${BUNDLE}: run scripts/setup.sh`,
    );
    const root = mkdtempSync(join(tmpdir(), 'state-nonroot-'));
    chmodSync(root, 0o755); // nobody may enter, not write
    const frames = join(root, 'frames');
    mkdirSync(frames);
    const cv = loadOpenCV();
    for (let i = 0; i < 6; i++)
      cv.imwrite(join(frames, `${i}.png`), new cv.Mat(120, 160, cv.CV_8UC3, [40 * i, 90, 200 - 30 * i]));
    const cwd = join(root, 'workdir'); // root's, read-only for nobody
    mkdirSync(cwd);
    const etc = join(root, 'etc'); // root's: the default var/ beside the config cannot be made
    mkdirSync(etc);
    const site = join(root, 'site'); // nobody's: a relative stateDir there can be written
    mkdirSync(site);
    chownSync(site, NOBODY, NOBODY);

    // 1. the default state directory cannot be written: no start, and the message names the key
    const denied = join(etc, 'cfg.yaml');
    writeFileSync(denied, configText({ frames, broker: await freePort(), dashboard: await freePort() }));
    const first = runAsNobody(denied, cwd);
    const code1 = await first.exited;
    assert.equal(code1, 1, first.run.out);
    assert.match(
      first.run.out,
      new RegExp(
        `stateDir: cannot write in ${join(etc, 'var').replace(/[/.]/g, '\\$&')} \\(EACCES\\): set stateDir`,
      ),
    );
    assert.doesNotMatch(first.run.out, /model ready/, 'stopped before loading the model');

    // 2. a relative stateDir, resolved against the config file's folder; the bdSeq cannot be stored
    const state = join(site, 'state');
    mkdirSync(join(state, 'sparkplug-bdseq.json.tmp'), { recursive: true }); // writing it fails: EISDIR
    chownSync(state, NOBODY, NOBODY);
    const allowed = join(site, 'cfg.yaml');
    const dashboard = await freePort();
    writeFileSync(allowed, configText({ stateDir: 'state', frames, broker: await freePort(), dashboard }));
    const second = runAsNobody(allowed, cwd);
    let metricsText = '';
    while (
      second.run.code === undefined &&
      !/adaclip_state_write_errors_total\{file="bdseq"\} [1-9]/.test(metricsText)
    ) {
      await new Promise((r) => setTimeout(r, 200));
      if (!/dashboard listening/.test(second.run.out)) continue;
      metricsText = await fetch(`http://127.0.0.1:${dashboard}/metrics`)
        .then((r) => r.text())
        .catch(() => metricsText);
    }
    const code2 = await second.exited;
    assert.equal(code2, 0, second.run.out);
    assert.match(
      metricsText,
      /adaclip_state_write_errors_total\{file="bdseq"\} [1-9]/,
      'the failed bdSeq write is counted',
    );
    assert.match(second.run.out, /sparkplug: bdSeq not stored/);
    assert.match(second.run.out, /every accepted document was delivered/);
    for (const f of ['outbox.sqlite', 'history.sqlite']) {
      assert.ok(existsSync(join(state, f)), `${f} in the state directory`);
      assert.equal(statSync(join(state, f)).uid, NOBODY, `${f} written by nobody`);
    }
    const snaps = readdirSync(join(state, 'snapshots', 'cam1'));
    assert.ok(
      snaps.some((f) => /^[0-9A-Z]{26}-frame\.jpg$/.test(f)),
      `snapshots: ${snaps.join(', ')}`,
    );
    assert.deepEqual(readdirSync(cwd), [], 'nothing written in the working directory');
    assert.deepEqual(readdirSync(etc), ['cfg.yaml']);
    assert.deepEqual(readdirSync(site).sort(), ['cfg.yaml', 'state']);
  },
);
