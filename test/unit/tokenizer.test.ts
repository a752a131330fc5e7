// The CLIP BPE tokenizer against golden ids made by the official tokenizer (test/fixtures), and
// its text cleaning against Python's own html.unescape / regex, run during the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIXTURE, VOCAB } from '../helpers/fixtures.js';
import { ClipTokenizer, cleanText } from '../../src/model/tokenizer.js';
import { buildVocab } from '../../src/model/vocab.js';
import { pyHtmlUnescape } from '../../src/model/html-unescape.js';
import { fixText } from '../../src/model/fix-text.js';
import { requirePython } from '../helpers/require-tools.js';

const PYTHON = '/usr/bin/python3';

function python(script: string, input: unknown): unknown {
  const res = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`python failed: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

test('ids equal the official tokenizer on all 988 fixture lines', () => {
  const tok = ClipTokenizer.fromFile(VOCAB);
  assert.equal(tok.sot, 49406);
  assert.equal(tok.eot, 49407);
  const lines = readFileSync(join(FIXTURE, 'tokenizer', 'simple_tokenizer_ids.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(lines.length, 988);
  const mismatches: string[] = [];
  for (const line of lines) {
    const { text, ids } = JSON.parse(line) as { text: string; ids: number[] };
    const ours = tok.encodeWithEnds(text);
    if (JSON.stringify(ours) !== JSON.stringify(ids)) {
      mismatches.push(`${JSON.stringify(text)}: want ${JSON.stringify(ids)} got ${JSON.stringify(ours)}`);
    }
  }
  assert.deepEqual(mismatches, []);
});

test('tokenize pads to 77 and refuses text over 77 tokens', () => {
  const tok = ClipTokenizer.fromFile(VOCAB);
  const ids = tok.tokenize(['screw', 'a b'], 77);
  assert.equal(ids.length, 2 * 77);
  assert.deepEqual([...ids.subarray(0, 4)], [49406n, 14225n, 49407n, 0n]);
  const long = Array.from({ length: 80 }, () => 'x').join(' ');
  assert.throws(() => tok.tokenize([long]), /82 tokens .* more than the context length 77/);
});

test('a bytes-only vocabulary (no merges) gives per-byte ids and SOT/EOT after them', () => {
  // header only: 256 byte symbols + 256 with </w> + SOT + EOT
  const tok = new ClipTokenizer(buildVocab('#version: bytes-only'));
  assert.equal(tok.sot, 512);
  assert.equal(tok.eot, 513);
  // 'a' is printable byte 0x61 -> index 0x61 - 0x21 in the official order; word end -> +256
  assert.deepEqual(tok.encode('ab'), [0x61 - 0x21, 256 + 0x62 - 0x21]);
  // the official code turns the empty line after a trailing newline into one more (unused) entry
  assert.equal(new ClipTokenizer(buildVocab('#version: bytes-only\n')).sot, 513);
});

const TRICKY = [
  '&amp;',
  '&amp;amp;',
  '&amp',
  '&ampx',
  '&notit;',
  '&notin;',
  '&#39;',
  '&#x27;',
  '&#X41',
  '&#65',
  '&#0;',
  '&#13;',
  '&#128;',
  '&#x81;',
  '&#1;',
  '&#xD800;',
  '&#99999999999999999999;',
  '&#xFFFE;',
  'caf&eacute;',
  '&micro;',
  '&nbsp;x',
  '&hellip;',
  '&lt;b&gt;',
  '&LT;',
  '&Eacute;',
  '&EACUTE;',
  'a&b',
  '&;',
  '&#;',
  '&#x;',
  'fish &chips',
  '&frac12;&frac12',
  '&unknownentity;',
];

test('pyHtmlUnescape equals Python html.unescape', () => {
  const want = python(
    'import html,json,sys; print(json.dumps([html.unescape(s) for s in json.load(sys.stdin)]))',
    TRICKY,
  ) as string[];
  assert.deepEqual(TRICKY.map(pyHtmlUnescape), want);
});

const UNICODE_TEXTS = [
  'Café  CRÈME',
  'naïve\u00a0part',
  'ＦＵＬＬ ｗｉｄｔｈ',
  'ﬁsh ﬂake',
  '“quoted” it’s',
  'tab\tand\u0085nel',
  'x\u001cy',
  'ΣΑΣ σας',
  'İstanbul',
  "'S 'ſ 'T",
  'Ⅻ ½ ٣ 七',
  '\u2028line\u2029para',
  'emoji 😀 ok',
  'dash—en–',
  '\u200bzero\u200cwidth',
  'bom\ufeffin',
  'e\u0301 composed',
  'KELVIN K sign',
  '<|startoftext|>A<|endoftext|>',
];

test('cleaning and the regex split equal Python html.unescape + regex on ftfy-fixed text', () => {
  requirePython(['regex'], PYTHON);
  const fixed = UNICODE_TEXTS.map(fixText);
  const want = python(
    [
      'import html, json, sys, regex as re',
      "pat = re.compile(r\"\"\"<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+\"\"\", re.IGNORECASE)",
      'out = []',
      'for t in json.load(sys.stdin):',
      '    t = html.unescape(html.unescape(t)).strip()',
      "    t = re.sub(r'\\s+', ' ', t).strip().lower()",
      '    out.append(re.findall(pat, t))',
      'print(json.dumps(out))',
    ].join('\n'),
    fixed,
  ) as string[][];
  const tokenRe =
    /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\p{L}\p{N}]+/giu;
  const ours = UNICODE_TEXTS.map((t) => [...cleanText(t).matchAll(tokenRe)].map((m) => m[0]));
  assert.deepEqual(ours, want);
});

test('fixText applies the ftfy fixers it documents', () => {
  assert.equal(fixText('ﬁne “quotes” it’s'), 'fine "quotes" it\'s');
  assert.equal(fixText('ＡＢＣ\u3000x'), 'ABC x');
  assert.equal(fixText('a\u001b[31mred\u001b[0m\u0007'), 'ared');
  assert.equal(fixText('e\u0301'), '\u00e9');
  // entities decoded repeatedly, but not on a line holding '<' nor on any line after it
  assert.equal(fixText('&amp;amp;amp;'), '&');
  assert.equal(fixText('&amp;\n<html>\n&amp;'), '&\n<html>\n&amp;');
  // C1 controls read as Windows-1252
  assert.equal(fixText('\u0093x\u0094'), '"x"');
});
