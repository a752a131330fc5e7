// Writes test/fixtures/README.md (origin, size and sha256 of every file under test/fixtures).
//   npx tsc && node dist/test/tools/write-fixtures-readme.js
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { fixtureRows, renderFixturesReadme } from '../helpers/fixtures-manifest.js';

const rows = fixtureRows(FIXTURES_DIR);
writeFileSync(join(FIXTURES_DIR, 'README.md'), renderFixturesReadme(rows));
console.log(`test/fixtures/README.md: ${rows.length} files`);
