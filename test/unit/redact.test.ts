// redactSecrets: every URL's user:password@ and every password parameter masked, nothing else
// changed, and a JSON log line stays valid JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { redactSecrets } from '../../src/util/redact.js';
import { redactingStream } from '../../src/util/log.js';

test('user:password@ of any URL is masked; hosts, paths and other text stay', () => {
  const cases: [string, string][] = [
    ['mqtt://edge:pw@broker:1883', 'mqtt://***@broker:1883'],
    ['mqtts://edge:p%40ss@10.0.0.2:8883/x', 'mqtts://***@10.0.0.2:8883/x'],
    [
      'rtsp://admin:12345@cam.local:554/Streaming/Channels/101',
      'rtsp://***@cam.local:554/Streaming/Channels/101',
    ],
    ['http://user@host/path', 'http://***@host/path'],
    ['two: rtsp://a:b@h1/s and rtsp://c:d@h2/s', 'two: rtsp://***@h1/s and rtsp://***@h2/s'],
    ['no credentials: rtsp://cam.local/s?x=1', 'no credentials: rtsp://cam.local/s?x=1'],
    ['mail me at someone@example.com', 'mail me at someone@example.com'],
    [
      'rtspsrc location=rtsp://cam/s user-id=admin user-pw=S3cr3t latency=0 ! decodebin ! appsink',
      'rtspsrc location=rtsp://cam/s user-id=admin user-pw=*** latency=0 ! decodebin ! appsink',
    ],
    [
      'http://cam/snap.cgi?user=admin&password=hunter2&ch=1',
      'http://cam/snap.cgi?user=admin&password=***&ch=1',
    ],
    ['bypass=on passwordFile=/etc/pw', 'bypass=on passwordFile=/etc/pw'],
  ];
  for (const [input, want] of cases) assert.equal(redactSecrets(input), want, input);
});

test('a JSON log line stays valid JSON and keeps its other fields', () => {
  const line = JSON.stringify({
    url: 'mqtt://edge:pw@broker:1883',
    user: 'bob@example.com',
    msg: 'open failed: rtsp://admin:x@cam/s',
  });
  const out = JSON.parse(redactSecrets(line)) as Record<string, string>;
  assert.deepEqual(out, {
    url: 'mqtt://***@broker:1883',
    user: 'bob@example.com',
    msg: 'open failed: rtsp://***@cam/s',
  });
});

test('the logger stream masks fields, messages and error texts', () => {
  const lines: string[] = [];
  const log = pino({}, redactingStream({ write: (l: string) => lines.push(l) }));
  log.info({ url: 'mqtt://edge:PwA@h:1883' }, 'connecting to rtsp://a:PwB@cam/s');
  log.error({ err: new Error('cannot open rtsp://a:PwC@cam/s') }, 'failed');
  const text = lines.join('');
  for (const pw of ['PwA', 'PwB', 'PwC']) assert.ok(!text.includes(pw), text);
  assert.equal(lines.length, 2);
  for (const l of lines) JSON.parse(l);
});
