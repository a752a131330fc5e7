// npm run schema: regenerates config/adaclip-edge.schema.json for editors (YAML language server).
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from './json-schema.js';

const out = process.argv[2] ?? 'config/adaclip-edge.schema.json';
writeFileSync(out, JSON.stringify(configJsonSchema(), null, 2) + '\n');
console.log(`wrote ${out}`);
