// The official AdaCLIP prompt ensemble: every state phrase of a class, inside every template,
// phrase-major (phrase 1 in templates 1..4, phrase 2 in templates 1..4, ...), normal states first.
// Tokens are cut to the largest EOT index + 1: exact, because the text tower's attention is causal.
import type { Manifest } from './manifest.js';
import { LruCache } from '../util/lru.js';
import { DEFAULT_CONTEXT_LENGTH, type ClipTokenizer } from './tokenizer.js';

export type PromptSet = Manifest['prompts'];

/** The ensemble of the released weights (method/adaclip.py, TextEmbebddingLayer). */
export const OFFICIAL_PROMPTS: PromptSet = {
  normalStates: [
    '{}',
    'flawless {}',
    'perfect {}',
    'unblemished {}',
    '{} without flaw',
    '{} without defect',
    '{} without damage',
  ],
  abnormalStates: ['damaged {}', 'broken {}', '{} with flaw', '{} with defect', '{} with damage'],
  templates: [
    'a bad photo of a {}.',
    'a low resolution photo of the {}.',
    'a bad photo of the {}.',
    'a cropped photo of the {}.',
  ],
};

/** Python's str.format with one positional '{}': a function replacement keeps '$' in names literal. */
function fill(pattern: string, value: string): string {
  return pattern.replace('{}', () => value);
}

/** The sentences for one class: normal ones first, then abnormal ones. */
export function promptSentences(className: string, prompts: PromptSet = OFFICIAL_PROMPTS): string[] {
  const name = className.replaceAll('-', ' ');
  const out: string[] = [];
  for (const states of [prompts.normalStates, prompts.abnormalStates]) {
    for (const state of states) {
      const phrase = fill(state, name);
      for (const template of prompts.templates) out.push(fill(template, phrase));
    }
  }
  return out;
}

/** int64 [sentences, context] token ids of one class. */
export interface PromptTokens {
  className: string;
  tokens: BigInt64Array;
  sentences: number;
  /** Largest EOT index + 1 (<= 77). */
  context: number;
  /** Number of normal sentences (the first rows); the rest are abnormal. */
  normalCount: number;
}

/** Tokenises the ensemble of one class at 77 tokens, then cuts the context after the last EOT. */
export function promptTokens(
  tokenizer: ClipTokenizer,
  className: string,
  prompts: PromptSet = OFFICIAL_PROMPTS,
): PromptTokens {
  if (className.trim().length === 0) throw new Error('prompts: the class name is empty');
  const sentences = promptSentences(className, prompts);
  const full = tokenizer.tokenize(sentences, DEFAULT_CONTEXT_LENGTH);
  const eot = BigInt(tokenizer.eot);
  let context = 0;
  for (let row = 0; row < sentences.length; row++) {
    const rowIds = full.subarray(row * DEFAULT_CONTEXT_LENGTH, (row + 1) * DEFAULT_CONTEXT_LENGTH);
    context = Math.max(context, rowIds.indexOf(eot) + 1);
  }
  return {
    className,
    tokens: cutContext(full, sentences.length, DEFAULT_CONTEXT_LENGTH, context),
    sentences: sentences.length,
    context,
    normalCount: prompts.normalStates.length * prompts.templates.length,
  };
}

/** Copies [rows, from] into [rows, to], dropping or zero-padding columns at the end. */
export function cutContext(tokens: BigInt64Array, rows: number, from: number, to: number): BigInt64Array {
  const out = new BigInt64Array(rows * to);
  const keep = Math.min(from, to);
  for (let r = 0; r < rows; r++) out.set(tokens.subarray(r * from, r * from + keep), r * to);
  return out;
}

/** Class names whose tokens a cache keeps by default (model.classNameCacheSize). */
export const DEFAULT_CLASS_NAME_CACHE_SIZE = 256;

/**
 * Per-class token cache: the tokens of a class never change for a loaded bundle. Bounded (least
 * recently used first), since class names come from commands: a flood of set-class requests with
 * new names costs at most `size` entries; an evicted class is tokenised again when next used.
 */
export class PromptTokenCache {
  private readonly cache: LruCache<string, PromptTokens>;

  constructor(
    private readonly tokenizer: ClipTokenizer,
    private readonly prompts: PromptSet = OFFICIAL_PROMPTS,
    size = DEFAULT_CLASS_NAME_CACHE_SIZE,
  ) {
    this.cache = new LruCache(size);
  }

  /** Class names cached now (at most the cache size). */
  get size(): number {
    return this.cache.size;
  }

  get(className: string): PromptTokens {
    let entry = this.cache.get(className);
    if (!entry) {
      entry = promptTokens(this.tokenizer, className, this.prompts);
      this.cache.set(className, entry);
    }
    return entry;
  }

  /**
   * int64 [B,Q,T] for a batch of images, one class each; T is the largest context in the batch
   * (zero padding after EOT is exact for the same causal-mask reason as the cut).
   */
  batch(classNames: string[]): { tokens: BigInt64Array; sentences: number; context: number } {
    const entries = classNames.map((c) => this.get(c));
    const sentences = entries[0]?.sentences ?? 0;
    const context = Math.max(0, ...entries.map((e) => e.context));
    const tokens = new BigInt64Array(entries.length * sentences * context);
    entries.forEach((e, b) => {
      tokens.set(cutContext(e.tokens, e.sentences, e.context, context), b * sentences * context);
    });
    return { tokens, sentences, context };
  }
}
