// The parts of ftfy.fix_text (ftfy 6.x defaults) that the official CLIP tokenizer runs first.
// ftfy is a Python package (not in Debian, no npm equivalent), so its deterministic fixers are
// re-implemented here from its documented behaviour, in its order, repeated until the text stops
// changing, one line at a time:
//   unescape_html (only while no '<' has been seen), fix_c1_controls, fix_latin_ligatures,
//   fix_character_width, uncurl_quotes, fix_line_breaks, fix_surrogates, remove_terminal_escapes,
//   remove_control_chars, NFC normalisation.
// Left out on purpose: fix_encoding (ftfy's heuristic mojibake repair, e.g. "CafÃ©" -> "Café"). It
// scores candidate re-decodings with statistical tables; re-implementing it exactly is out of scope.
// It never changes pure ASCII text and only rarely text that is not mojibake, so prompts built from
// ordinary product names get the official ids; a class name that IS mojibake may not.
// test/unit/fix-text.test.ts checks this file against real ftfy 6.3.1 outputs (647 strings).
import { ftfyUnescapeHtml, windows1252C1 } from './html-unescape.js';

const C1 = windows1252C1();

const LIGATURES: Record<string, string> = {
  '\u0132': 'IJ',
  '\u0133': 'ij',
  '\u0149': '\u02bcn',
  '\u01f1': 'DZ',
  '\u01f2': 'Dz',
  '\u01f3': 'dz',
  '\u01c4': 'D\u017d',
  '\u01c5': 'D\u017e',
  '\u01c6': 'd\u017e',
  '\u01c7': 'LJ',
  '\u01c8': 'Lj',
  '\u01c9': 'lj',
  '\u01ca': 'NJ',
  '\u01cb': 'Nj',
  '\u01cc': 'nj',
  '\ufb00': 'ff',
  '\ufb01': 'fi',
  '\ufb02': 'fl',
  '\ufb03': 'ffi',
  '\ufb04': 'ffl',
  '\ufb05': '\u017ft',
  '\ufb06': 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g');

// fix_character_width: U+3000 -> space, and U+FF01..U+FFEF -> their NFKC form where it differs
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
function widthFix(ch: string): string {
  return ch === '\u3000' ? ' ' : ch.normalize('NFKC');
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[((?:\d|;)*)([a-zA-Z])/g;
// remove_control_chars: U+00-08, U+0B, U+0E-1F, U+7F, U+206A-206F, U+FEFF, U+FFF9-FFFC
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
// a lone surrogate (JS strings may hold one; Python's may too) becomes U+FFFD
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function fixOneStep(text: string, unescapeHtml: boolean): string {
  let t = unescapeHtml ? ftfyUnescapeHtml(text) : text;
  t = t.replace(/[\u0080-\u009f]/g, (c) => C1[c.charCodeAt(0) - 0x80]);
  t = t.replace(LIGATURE_RE, (c) => LIGATURES[c]);
  t = t.replace(WIDTH_RE, widthFix);
  t = t.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
  t = t
    .replaceAll('\r\n', '\n')
    .replaceAll('\r', '\n')
    .replaceAll('\u2028', '\n')
    .replaceAll('\u2029', '\n')
    .replaceAll('\u0085', '\n');
  t = t.replace(LONE_SURROGATE_RE, '\ufffd');
  t = t.replace(ANSI_RE, '');
  t = t.replace(CONTROL_RE, '');
  return t.normalize('NFC');
}

function fixSegment(segment: string, unescapeHtml: boolean): string {
  let text = segment;
  for (;;) {
    const next = fixOneStep(text, unescapeHtml);
    if (next === text) return text;
    text = next;
  }
}

/** ftfy.fix_text with its defaults, minus fix_encoding (see the header). */
export function fixText(text: string): string {
  const out: string[] = [];
  // ftfy decides per line, and once a line holds '<' it stops unescaping for the rest of the text
  let unescapeHtml = true;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos) + 1;
    if (end === 0) end = text.length;
    const segment = text.slice(pos, end);
    if (segment.includes('<')) unescapeHtml = false;
    out.push(fixSegment(segment, unescapeHtml));
    pos = end;
  }
  return out.join('');
}
