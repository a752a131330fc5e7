"""CLIP byte-level BPE tokenizer (same rules as the official SimpleTokenizer), for the PyTorch
reference runs and benchmarks. ftfy is not packaged in Debian: its fix_text step is left out, which
changes nothing for ASCII text such as the prompt sentences (the service's tokenizer is the
TypeScript one; this one only feeds the reference forward)."""
from __future__ import annotations

import gzip
import html
from functools import lru_cache
from typing import Dict, List, Tuple

import regex

from arch import ABNORMAL_STATES, NORMAL_STATES, TEMPLATES

_PAT = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE)


@lru_cache()
def bytes_to_unicode() -> Dict[int, str]:
    """The reversible byte -> printable character table of GPT-2/CLIP BPE."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


class ClipBpe:
    def __init__(self, vocab_path: str):
        with gzip.open(vocab_path, 'rb') as f:
            lines = f.read().decode('utf-8').split('\n')
        merges: List[Tuple[str, ...]] = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]
        self.byte_encoder = bytes_to_unicode()
        vocab = list(self.byte_encoder.values())
        vocab += [v + '</w>' for v in vocab]
        vocab += [''.join(m) for m in merges]
        vocab += ['<|startoftext|>', '<|endoftext|>']
        self.encoder = {v: i for i, v in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.sot = self.encoder['<|startoftext|>']
        self.eot = self.encoder['<|endoftext|>']

    def _bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = list(token[:-1]) + [token[-1] + '</w>']
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float('inf')))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        out = ' '.join(word)
        self.cache[token] = out
        return out

    def encode(self, text: str) -> List[int]:
        text = html.unescape(html.unescape(text)).strip()
        text = regex.sub(r'\s+', ' ', text).strip().lower()
        ids: List[int] = []
        for tok in regex.findall(_PAT, text):
            tok = ''.join(self.byte_encoder[b] for b in tok.encode('utf-8'))
            ids.extend(self.encoder[t] for t in self._bpe(tok).split(' '))
        return ids

    def sentence_ids(self, text: str) -> List[int]:
        return [self.sot] + self.encode(text) + [self.eot]


def prompt_sentences(class_name: str) -> List[str]:
    """The 48 official sentences: normal phrases x templates, then abnormal, phrase-major."""
    c = class_name.replace('-', ' ')
    out = []
    for states in (NORMAL_STATES, ABNORMAL_STATES):
        for s in states:
            for t in TEMPLATES:
                out.append(t.format(s.format(c)))
    return out


def prompt_tokens(bpe: ClipBpe, class_name: str, context: int | None = 77) -> List[List[int]]:
    """[48][context] ids, 0-padded. context=None cuts to the largest EOT index + 1."""
    rows = [bpe.sentence_ids(s) for s in prompt_sentences(class_name)]
    longest = max(len(r) for r in rows)
    if context is None:
        context = longest
    if longest > context:
        raise ValueError(f'class name {class_name!r}: a prompt sentence has {longest} tokens, more than {context}')
    return [r + [0] * (context - len(r)) for r in rows]
