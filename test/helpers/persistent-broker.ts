// A real Mosquitto whose sessions and queued messages survive its own restart (persistence to a
// folder of its own), as a production broker's would: the fault and delivery tests stop and start
// it mid-run and check that subscribers with persistent sessions still get every message.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto } from './mosquitto.js';

export function persistentBroker(t: { after: (fn: () => void) => void }): Mosquitto {
  const data = mkdtempSync(join(tmpdir(), 'mosquitto-data-'));
  chmodSync(data, 0o777); // mosquitto runs as user "mosquitto" and writes its database here
  t.after(() => rmSync(data, { recursive: true, force: true }));
  return new Mosquitto({
    extraConfig: [
      'persistence true',
      `persistence_location ${data}/`,
      'max_queued_messages 0',
      'max_inflight_messages 100',
    ],
  });
}
