// The CLIP BPE vocabulary file (bpe_simple_vocab_16e6.txt.gz): a gzipped list of merges, one
// "a b" pair per line after a header line. The vocabulary itself is derived from the merges exactly
// as the official SimpleTokenizer does it, quirks included (see buildVocab).
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

/** The official tokenizer keeps at most this many merge lines (49152 - 256 - 2), after the header. */
export const MAX_MERGES = 49152 - 256 - 2;

export interface BpeVocab {
  /** token string -> id (the official `encoder`). */
  encoder: Map<string, number>;
  /** "first second" -> rank (the official `bpe_ranks`). */
  ranks: Map<string, number>;
  /** Number of vocabulary entries, SOT and EOT included. */
  size: number;
  sot: number;
  eot: number;
}

/** The byte -> printable character table of GPT-2/CLIP byte-level BPE (the official bytes_to_unicode). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const table = new Array<string>(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

/** Order of the official vocabulary: bytes in bytes_to_unicode's insertion order (printables first). */
function byteSymbolsInOfficialOrder(table: string[]): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) if (!printable.includes(b)) rest.push(b);
  return [...printable, ...rest].map((b) => table[b]);
}

/**
 * Builds the vocabulary from the text of the merges file, as the official code does: lines
 * [1, 48895) after splitting on '\n'; each line split on whitespace; an empty line (e.g. the one
 * after a trailing newline of a short, bytes-only file) becomes an empty merge that still adds an
 * (unreachable) vocabulary entry. SOT and EOT are the last two ids.
 */
export function buildVocab(mergesText: string): BpeVocab {
  const lines = mergesText.split('\n').slice(1, MAX_MERGES + 1);
  const merges = lines.map((l) => l.split(/[\s]+/u).filter((s) => s.length > 0));
  for (const [i, m] of merges.entries()) {
    if (m.length !== 0 && m.length !== 2) {
      throw new Error(
        `BPE vocabulary: merge line ${i + 2} should hold two symbols, got ${JSON.stringify(lines[i])}`,
      );
    }
  }
  const symbols = byteSymbolsInOfficialOrder(bytesToUnicode());
  const vocab = [...symbols, ...symbols.map((s) => s + '</w>'), ...merges.map((m) => m.join(''))];
  vocab.push('<|startoftext|>', '<|endoftext|>');
  const encoder = new Map<string, number>();
  vocab.forEach((tok, id) => encoder.set(tok, id)); // later duplicates win, as in a Python dict
  const ranks = new Map<string, number>();
  merges.forEach((m, r) => {
    if (m.length === 2) ranks.set(m[0] + ' ' + m[1], r);
  });
  return { encoder, ranks, size: vocab.length, sot: vocab.length - 2, eot: vocab.length - 1 };
}

/** Reads a gzipped merges file (or a plain one, recognised by the missing gzip magic). */
export function readMergesFile(path: string): string {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new Error(`BPE vocabulary ${path}: cannot read (${(err as Error).message})`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (err) {
      throw new Error(`BPE vocabulary ${path}: corrupt gzip data (${(err as Error).message})`);
    }
  }
  return raw.toString('utf8');
}

export function loadVocab(path: string): BpeVocab {
  return buildVocab(readMergesFile(path));
}
