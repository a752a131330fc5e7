import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topics } from '../../src/mqtt/topics.js';
import { topicMatches } from '../../src/mqtt/topics.js';

test('topics are built under the base topic', () => {
  const t = new Topics('factory/adaclip/');
  assert.equal(t.availability, 'factory/adaclip/availability');
  assert.equal(t.event('cam-1'), 'factory/adaclip/cam-1/event');
  assert.equal(t.state('cam-1'), 'factory/adaclip/cam-1/state');
  assert.equal(t.snapshot('cam-1'), 'factory/adaclip/cam-1/snapshot');
  assert.equal(t.stats, 'factory/adaclip/stats');
  assert.equal(t.outbox, 'factory/adaclip/outbox');
  assert.deepEqual(t.requestFilters, ['factory/adaclip/request/+', 'factory/adaclip/request/+/+']);
  assert.equal(t.response('status'), 'factory/adaclip/response/status');
  assert.equal(t.request('status', 'plc-1'), 'factory/adaclip/request/status/plc-1');
  assert.equal(t.response('status', 'plc-1'), 'factory/adaclip/response/status/plc-1');
  assert.throws(() => t.request('status', 'a/b'), /client id "a\/b"/);
});

test('a wildcard base topic or a camera id that is not one topic level is refused', () => {
  assert.throws(() => new Topics('a/#'), /baseTopic/);
  const t = new Topics('b');
  assert.throws(() => t.event('cam/1'), /camera id "cam\/1"/);
  assert.throws(() => t.event('+'), /camera id/);
  assert.throws(() => t.event(''), /camera id/);
});

test('requestOf recognises request topics under the base: the command, and the client when named', () => {
  const t = new Topics('b');
  assert.equal(t.commandOf('b/request/status'), 'status');
  assert.deepEqual(t.requestOf('b/request/status'), { command: 'status' });
  assert.deepEqual(t.requestOf('b/request/status/plc-1'), { command: 'status', client: 'plc-1' });
  assert.equal(t.requestOf('b/request/a/b/c'), undefined);
  assert.equal(t.requestOf('b/request/status/'), undefined);
  assert.equal(t.commandOf('b/request/'), undefined);
  assert.equal(t.commandOf('other/request/status'), undefined);
});

test('MQTT 5 response topics: only under the response branch, unless a prefix is configured', () => {
  const t = new Topics('b');
  assert.equal(t.isAllowedResponseTopic('client/42/reply'), false, 'elsewhere: refused by default');
  assert.equal(t.isAllowedResponseTopic('client/42/reply', ['client/']), true);
  assert.equal(t.isAllowedResponseTopic('other/42/reply', ['client/']), false);
  assert.equal(t.isAllowedResponseTopic('b/response/x'), true);
  assert.equal(t.isAllowedResponseTopic('b/response/'), false);
  assert.equal(t.isAllowedResponseTopic('b/cam-1/event', ['b/']), false, 'never our own tree');
  assert.equal(t.isAllowedResponseTopic('b/cam-1/event'), false);
  assert.equal(t.isAllowedResponseTopic('b/availability'), false);
  assert.equal(t.isAllowedResponseTopic('b'), false);
  assert.equal(t.isAllowedResponseTopic('x/#'), false);
  assert.equal(t.isAllowedResponseTopic('spBv1.0/g/NCMD/n'), false);
  assert.equal(t.isAllowedResponseTopic('$SYS/x'), false);
});

test('topic filters match as MQTT defines them', () => {
  const cases: [string, string, boolean][] = [
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/b', 'a/b/c', false],
    ['a/b/c', 'a/b', false],
    ['+/b', '/b', true],
    ['#', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
  ];
  for (const [filter, topic, expected] of cases)
    assert.equal(topicMatches(filter, topic), expected, `${filter} ~ ${topic}`);
});
