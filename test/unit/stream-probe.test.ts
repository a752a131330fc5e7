// The TCP check before OpenCV opens a network stream: where the endpoint comes from, and that a dead
// camera fails in the asynchronous check, before OpenCV's synchronous open would block the event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { probeTcp, streamEndpoint } from '../../src/sources/stream-probe.js';
import { VideoCaptureSource } from '../../src/sources/videocapture.js';

test('endpoints: default and explicit ports, credentials, IPv6, GStreamer location=', () => {
  assert.deepEqual(streamEndpoint('rtsp://cam.local/stream1'), { host: 'cam.local', port: 554 });
  assert.deepEqual(streamEndpoint('rtsp://user:p%40ss@10.0.0.7:8554/h264'), { host: '10.0.0.7', port: 8554 });
  assert.deepEqual(streamEndpoint('http://[fd00::5]/mjpg'), { host: 'fd00::5', port: 80 });
  assert.deepEqual(streamEndpoint('https://cam/x'), { host: 'cam', port: 443 });
  assert.deepEqual(
    streamEndpoint('rtspsrc location=rtsp://10.1.2.3:8554/cam latency=0 ! rtph264depay ! appsink'),
    { host: '10.1.2.3', port: 8554 },
  );
  assert.deepEqual(streamEndpoint('souphttpsrc location="http://cam:8080/v" ! jpegdec ! appsink'), {
    host: 'cam',
    port: 8080,
  });
  assert.equal(streamEndpoint('nvarguscamerasrc ! nvvidconv ! appsink'), undefined);
  assert.equal(streamEndpoint('foo://host/x'), undefined, 'unknown scheme without a port');
});

test('probeTcp: an open port passes, a closed one fails naming it', async () => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await probeTcp('127.0.0.1', port, 2000);
  await new Promise<void>((r) => server.close(() => r()));
  await assert.rejects(
    probeTcp('127.0.0.1', port, 2000),
    new RegExp(`127.0.0.1:${port} failed: ECONNREFUSED`),
  );
});

// The probe's message (not OpenCV's) shows where it failed; how fast is a benchmark's business.
test('a stream whose host refuses TCP fails in the probe (not in OpenCV)', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const src = new VideoCaptureSource({
    uri: `http://user:secret@127.0.0.1:${port}/video.mjpg`,
    api: 'ffmpeg',
  });
  await assert.rejects(src.open(), (e: Error) => {
    assert.match(
      e.message,
      /cannot open video source http:\/\/\*\*\*@127\.0\.0\.1:\d+\/video\.mjpg: TCP connection/,
    );
    assert.doesNotMatch(e.message, /secret/);
    return true;
  });
  await src.close();
});

test('a host that does not answer times out within the probe timeout', async (t) => {
  // On loopback only: a listener that never accepts, its backlog filled, leaves further SYNs
  // unanswered (Linux drops them), which is what a dead camera's host looks like to the probe.
  const py = spawn('/usr/bin/python3', [
    '-c',
    'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)',
  ]);
  t.after(() => py.kill());
  const port = Number(
    await new Promise<string>((r) => py.stdout.once('data', (d: Buffer) => r(d.toString()))),
  );
  const fillers = [0, 1, 2].map(() => connect(port, '127.0.0.1').on('error', () => undefined));
  t.after(() => fillers.forEach((s) => s.destroy()));
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(
    probeTcp('127.0.0.1', port, 300),
    new RegExp(`no TCP connection to 127.0.0.1:${port} within 300 ms`),
  );
});
