// A tiny MJPEG-over-HTTP "IP camera" for tests, run as its own process so that a test can kill it
// and start it again (OpenCV opens streams synchronously: a server in the test process would stall).
// usage: node mjpeg-server.mjs PORT DIR  (serves DIR/*.jpg in a loop, one every 20 ms)
import { createServer } from 'node:http';
import { setInterval, clearInterval } from 'node:timers';
import { readdirSync, readFileSync } from 'node:fs';
const [port, dir] = process.argv.slice(2);
const jpgs = readdirSync(dir)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .map((f) => readFileSync(`${dir}/${f}`));
let n = 0;
const srv = createServer((req, res) => {
  res.writeHead(200, {
    'Content-Type': 'multipart/x-mixed-replace; boundary=frame',
    'Cache-Control': 'no-cache',
  });
  const t = setInterval(() => {
    const jpg = jpgs[n++ % jpgs.length];
    res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpg.length}\r\n\r\n`);
    res.write(jpg);
    res.write('\r\n');
  }, 20);
  req.on('close', () => clearInterval(t));
});
srv.listen(Number(port), '127.0.0.1', () => console.log(`listening ${srv.address().port}`));
