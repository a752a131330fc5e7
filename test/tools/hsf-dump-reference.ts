// CLI for the native HSF checks: writes the CPU reference dumps (see test/helpers/hsf-dump.ts).
//   npx tsx test/tools/hsf-dump-reference.ts OUTDIR
// then  native/node-tensorrt/build/hsf/hsf_gpu_test OUTDIR  on a GPU machine.
import { writeHsfReferenceDumps } from '../helpers/hsf-dump.js';

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: npx tsx test/tools/hsf-dump-reference.ts OUTDIR');
  process.exit(2);
}
for (const line of writeHsfReferenceDumps(outDir)) console.log(line);
