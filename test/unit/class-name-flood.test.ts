// A flood of set-class requests with ever new names, through the real door: the command router
// (parse, policy, validation), the MQTT handlers, CameraSettings.apply and the real prompt check
// (PromptTokenCache over a ClipTokenizer). The caches are measured by their entries, and the heap
// after a full GC: memory stays flat instead of growing with every name ever asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { cameraSchema } from '../../src/config/schema.js';
import { CommandRouter } from '../../src/mqtt/commands.js';
import { Topics } from '../../src/mqtt/topics.js';
import { PromptTokenCache, DEFAULT_CLASS_NAME_CACHE_SIZE } from '../../src/model/prompts.js';
import { ClipTokenizer, DEFAULT_BPE_CACHE_SIZE } from '../../src/model/tokenizer.js';
import { buildVocab } from '../../src/model/vocab.js';
import { CommandPolicy } from '../../src/operator/command-policy.js';
import { CameraSettings } from '../../src/service/camera-settings.js';
import { DecisionStage } from '../../src/service/decision-stage.js';
import { mqttCommandHandlers } from '../../src/service/mqtt-doors.js';

const REQUESTS = 100_000;
/** A distinct word of letters for every i (digits would be split into single-character tokens). */
const word = (i: number) => {
  let w = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) w = String.fromCharCode(97 + ((n - 1) % 26)) + w;
  return w;
};
const nameOf = (i: number) => `part ${word(i)}`;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

test(
  `${REQUESTS.toLocaleString('en')} distinct set-class requests keep the class-name caches bounded and the heap flat`,
  { timeout: 600_000 },
  async (t) => {
    const logger = pino({ level: 'silent' });
    const camera = cameraSchema.parse({ id: 'cam1', className: 'screw', source: { kind: 'synthetic' } });
    const model = {
      bundleSha256: '0'.repeat(64),
      version: 'unversioned',
      kind: 'untrained-test' as const,
      untrained: true,
      architecture: 't',
      imageSize: 8,
      hsf: false,
      checkpoints: {},
    };
    const decisions = new DecisionStage([camera], { site: 's', line: 'l', model }, logger);
    const tokenizer = new ClipTokenizer(buildVocab('#version: 0.2\n'));
    // a short ensemble keeps the test quick; the cache holds one entry per class name either way
    const prompts = new PromptTokenCache(tokenizer, {
      normalStates: ['{}'],
      abnormalStates: ['damaged {}'],
      templates: ['a photo of a {}.'],
    });
    const policy = new CommandPolicy({ enabled: true, allow: ['set-class'] });
    const settings = new CameraSettings([camera], {
      decisions,
      checkClassName: (name) => void prompts.get(name),
      changed: () => undefined,
      logger,
      policy,
    });
    const router = new CommandRouter(
      new Topics('flood'),
      { policy, maxPayloadBytes: 4096, cameraIds: ['cam1'] },
      async () => undefined,
      logger,
    );
    router.setHandlers(
      mqttCommandHandlers({
        settings,
        suspensions: { suspend: () => assert.fail(), resume: () => assert.fail() },
        trigger: () => assert.fail(),
        status: () => ({}),
        rebirth: () => undefined,
      }),
    );
    const request = (i: number) =>
      router.handleOne({
        topic: 'flood/request/set-class',
        payload: Buffer.from(JSON.stringify({ transactionId: i, camera: 'cam1', className: nameOf(i) })),
      });

    const first = await request(0);
    assert.equal(first.ok, true, JSON.stringify(first));
    const firstTokens = prompts.get(nameOf(0)).tokens;
    for (let i = 1; i < 2000; i++) await request(i); // warm-up: caches fill, code is compiled
    const before = heapMb();
    const sizes: number[] = [];
    for (let i = 2000; i < REQUESTS; i++) {
      const r = await request(i);
      if (!r.ok) assert.fail(`request ${i} refused: ${r.error}`);
      if (i % 10_000 === 0) sizes.push(prompts.size);
    }
    const after = heapMb();
    t.diagnostic(
      `class names cached ${prompts.size} (max ${DEFAULT_CLASS_NAME_CACHE_SIZE}), tokenizer words cached ` +
        `${tokenizer.cachedWords} (max ${DEFAULT_BPE_CACHE_SIZE}), heap ${before.toFixed(1)} -> ${after.toFixed(1)} MiB ` +
        `over ${REQUESTS - 2000} requests; cache size every 10,000: ${sizes.join(', ')}`,
    );
    assert.equal(router.counters.ok, REQUESTS);
    assert.equal(settings.camera('cam1').className, nameOf(REQUESTS - 1));
    assert.equal(prompts.size, DEFAULT_CLASS_NAME_CACHE_SIZE, 'the class-name cache is full, not larger');
    assert.ok(sizes.every((s) => s === DEFAULT_CLASS_NAME_CACHE_SIZE));
    assert.equal(tokenizer.cachedWords, DEFAULT_BPE_CACHE_SIZE, 'the word cache is full, not larger');
    // unbounded, 98,000 names would keep 98,000 token arrays and 98,000 words: tens of MiB
    assert.ok(after - before < 8, `heap grew by ${(after - before).toFixed(1)} MiB`);
    // an evicted class name is tokenised again, to the same tokens
    assert.deepEqual(prompts.get(nameOf(0)).tokens, firstTokens);
  },
);
