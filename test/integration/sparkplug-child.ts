// A Sparkplug edge node in a child process, for the test that SIGKILLs it (no DISCONNECT, no
// NDEATH of its own: only the broker's will can report the death). Prints "BORN <bdSeq>" on stdout
// after each NBIRTH. argv[2] is JSON: { url, groupId, bdSeqFile }.
import { SparkplugNode } from '../../src/mqtt/sparkplug/node.js';

const args = JSON.parse(process.argv[2]) as { url: string; groupId: string; bdSeqFile: string };
const node = new SparkplugNode({
  url: args.url,
  groupId: args.groupId,
  edgeNodeId: 'edge-child',
  bdSeqFile: args.bdSeqFile,
  cameras: [{ id: 'cam1', className: 'screw' }],
  mqtt: { keepalive: 5 },
});
node.on('birth', (bdSeq: number) => process.stdout.write(`BORN ${bdSeq}\n`));
node.start();
