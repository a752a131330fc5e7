// The CLIP BPE tokenizer, giving the same ids as the official SimpleTokenizer (method/simple_tokenizer.py
// of AdaCLIP, a copy of OpenAI CLIP's). Written by hand: the npm CLIP tokenizers either pull in a model
// runtime or differ in text cleaning; the ids must match the released weights exactly.
// Pipeline: ftfy.fix_text (see fix-text.ts for what is and is not reproduced), html.unescape twice,
// strip, whitespace runs -> ' ', strip, lower-case, the official regex split, byte-level BPE.
import { fixText } from './fix-text.js';
import { pyHtmlUnescape } from './html-unescape.js';
import { LruCache } from '../util/lru.js';
import { bytesToUnicode, loadVocab, type BpeVocab } from './vocab.js';

// Python `regex`'s \s (Unicode White_Space). JS's \s differs: it lacks U+0085 and adds U+FEFF.
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
// Python's str.strip() strips str.isspace() characters: White_Space plus U+001C..U+001F.
const STRIP_CLASS = WS + '\\u001c-\\u001f';
const WS_RUN = new RegExp(`[${WS}]+`, 'gu');
const STRIP_RE = new RegExp(`^[${STRIP_CLASS}]+|[${STRIP_CLASS}]+$`, 'gu');
// The official pattern, compiled with re.IGNORECASE. With the u flag, JS case-insensitive matching
// uses Unicode simple case folding as `regex` does (so "'ſ" matches 's).
const TOKEN_RE = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WS}\\p{L}\\p{N}]+`,
  'giu',
);

export const DEFAULT_CONTEXT_LENGTH = 77;
const SOT_TEXT = '<|startoftext|>';
const EOT_TEXT = '<|endoftext|>';

function pyStrip(s: string): string {
  return s.replace(STRIP_RE, '');
}

/** basic_clean + whitespace_clean + lower(): the text the official regex split sees. */
export function cleanText(text: string): string {
  const unescaped = pyStrip(pyHtmlUnescape(pyHtmlUnescape(fixText(text))));
  return pyStrip(unescaped.replace(WS_RUN, ' ')).toLowerCase();
}

/** Words whose BPE merges a tokenizer keeps by default: far more than the prompts of any line use. */
export const DEFAULT_BPE_CACHE_SIZE = 4096;

export class ClipTokenizer {
  readonly sot: number;
  readonly eot: number;
  readonly vocabSize: number;
  private readonly byteEncoder = bytesToUnicode();
  /** The special tokens, never merged (the official cache is seeded with them). */
  private readonly special = new Map<string, string[]>([
    [SOT_TEXT, [SOT_TEXT]],
    [EOT_TEXT, [EOT_TEXT]],
  ]);
  /** Merges of words seen lately; bounded, since class names come from commands (same result). */
  private readonly cache: LruCache<string, string[]>;
  private readonly utf8 = new TextEncoder();

  constructor(
    private readonly vocab: BpeVocab,
    /** Words whose merges are kept (LRU). */
    cacheSize = DEFAULT_BPE_CACHE_SIZE,
  ) {
    this.cache = new LruCache(cacheSize);
    this.sot = vocab.sot;
    this.eot = vocab.eot;
    this.vocabSize = vocab.size;
  }

  /** Words whose merges are cached now (at most the cache size). */
  get cachedWords(): number {
    return this.cache.size;
  }

  static fromFile(path: string): ClipTokenizer {
    return new ClipTokenizer(loadVocab(path));
  }

  /** The official bpe(): merges the lowest-ranked adjacent pair until none is left. */
  private bpe(token: string): string[] {
    const cached = this.special.get(token) ?? this.cache.get(token);
    if (cached) return cached;
    // byte-encoded tokens hold only BMP characters, so string indexing is per symbol
    let word = [...token.slice(0, -1)];
    word.push(token.slice(-1) + '</w>');
    if (word.length === 1) return word; // the official code does not cache this case; same result
    const ranks = this.vocab.ranks;
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = ranks.get(word[i] + ' ' + word[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best];
      const second = word[best + 1];
      // merge every occurrence of the pair, left to right, as the official loop does
      const merged: string[] = [];
      for (let i = 0; i < word.length;) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]);
          i += 1;
        }
      }
      word = merged;
    }
    this.cache.set(token, word);
    return word;
  }

  /** Token ids of one text, without SOT/EOT (the official encode()). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanText(text).matchAll(TOKEN_RE)) {
      let encoded = '';
      for (const b of this.utf8.encode(match[0])) encoded += this.byteEncoder[b];
      for (const piece of this.bpe(encoded)) {
        const id = this.vocab.encoder.get(piece);
        if (id === undefined)
          throw new Error(`tokenizer: BPE piece ${JSON.stringify(piece)} is not in the vocabulary`);
        ids.push(id);
      }
    }
    return ids;
  }

  /** [SOT, ids..., EOT] of one text, unpadded. */
  encodeWithEnds(text: string): number[] {
    return [this.sot, ...this.encode(text), this.eot];
  }

  /**
   * The official tokenize(): int64 [N, contextLength], SOT ... EOT zero-padded. Text that does not
   * fit is an error (the official code raises too; truncating would change the sentence's meaning).
   */
  tokenize(texts: string[], contextLength = DEFAULT_CONTEXT_LENGTH): BigInt64Array {
    const out = new BigInt64Array(texts.length * contextLength);
    texts.forEach((text, row) => {
      const ids = this.encodeWithEnds(text);
      if (ids.length > contextLength) {
        throw new Error(
          `tokenizer: ${JSON.stringify(text)} is ${ids.length} tokens with SOT/EOT, more than the context length ${contextLength}`,
        );
      }
      ids.forEach((id, col) => (out[row * contextLength + col] = BigInt(id)));
    });
    return out;
  }
}
