// npm run bench -- [NAME_PREFIX...] [--json FILE] [--long] [--list]
import { writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch, release } from 'node:os';
import type { BenchResult } from './harness.js';
import { suites } from './suites/index.js';

async function main(argv: string[]): Promise<number> {
  const prefixes: string[] = [];
  let jsonFile: string | undefined;
  let long = false;
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') jsonFile = argv[++i];
    else if (a === '--long') long = true;
    else if (a === '--list') list = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [NAME_PREFIX...] [--json FILE] [--long] [--list]');
      return 0;
    } else if (a.startsWith('--')) {
      console.error(`unknown option ${a}`);
      return 2;
    } else prefixes.push(a);
  }
  const all = suites.flat();
  const chosen = all.filter(
    (b) =>
      (prefixes.length === 0 || prefixes.some((p) => b.name.startsWith(p))) &&
      (long || !b.long || prefixes.includes(b.name)),
  );
  if (list) {
    for (const b of all) console.log(`${b.name}${b.long ? ' (--long)' : ''}\t${b.description}`);
    return 0;
  }
  if (chosen.length === 0) {
    console.error(`no benchmark matches ${prefixes.join(' ')} (see --list)`);
    return 2;
  }
  const results: BenchResult[] = [];
  const failures: { name: string; error: string }[] = [];
  for (const b of chosen) {
    process.stderr.write(`bench ${b.name} ...\n`);
    try {
      const r = await b.run({ long, log: (m) => process.stderr.write(`  ${m}\n`) });
      for (const x of Array.isArray(r) ? r : [r]) {
        results.push(x);
        process.stderr.write(`  ${x.name}: median ${fmt(x.median)} ${x.unit}, p95 ${fmt(x.p95)}, n=${x.n}\n`);
      }
    } catch (err) {
      failures.push({ name: b.name, error: (err as Error).message });
      process.stderr.write(`  FAILED: ${(err as Error).stack}\n`);
    }
  }
  const out = {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      platform: `${platform()} ${release()} ${arch()}`,
      node: process.version,
      date: new Date().toISOString(),
    },
    results,
    failures,
  };
  const json = JSON.stringify(out, null, 2);
  if (jsonFile) writeFileSync(jsonFile, json + '\n');
  else console.log(json);
  return failures.length ? 1 : 0;
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
