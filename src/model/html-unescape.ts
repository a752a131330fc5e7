// HTML entity decoding with the exact rules of two Python functions the official tokenizer runs:
// Python's html.unescape (twice, in basic_clean) and ftfy's stricter unescape_html (inside
// ftfy.fix_text). The entity table and the WHATWG longest-prefix matching come from the `entities`
// package; what differs from it (numeric references, the name pattern, ftfy's all-caps names) is
// written out here because those differences change token ids.
import { decodeHTML, decodeHTMLStrict } from 'entities';

// Python's html._charref
const PY_CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

// Python's html._invalid_charrefs: 0x00, 0x0d and 0x80..0x9f (read as Windows-1252)
const INVALID_CHARREFS = new Map<number, string>([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  ...windows1252C1().map((ch, i) => [0x80 + i, ch] as [number, string]),
]);

/** C1 code points 0x80..0x9f read as Windows-1252; the five undefined ones stay themselves. */
export function windows1252C1(): string[] {
  const map: Record<number, number> = {
    0x80: 0x20ac,
    0x82: 0x201a,
    0x83: 0x0192,
    0x84: 0x201e,
    0x85: 0x2026,
    0x86: 0x2020,
    0x87: 0x2021,
    0x88: 0x02c6,
    0x89: 0x2030,
    0x8a: 0x0160,
    0x8b: 0x2039,
    0x8c: 0x0152,
    0x8e: 0x017d,
    0x91: 0x2018,
    0x92: 0x2019,
    0x93: 0x201c,
    0x94: 0x201d,
    0x95: 0x2022,
    0x96: 0x2013,
    0x97: 0x2014,
    0x98: 0x02dc,
    0x99: 0x2122,
    0x9a: 0x0161,
    0x9b: 0x203a,
    0x9c: 0x0153,
    0x9e: 0x017e,
    0x9f: 0x0178,
  };
  const out: string[] = [];
  for (let b = 0x80; b <= 0x9f; b++) out.push(String.fromCodePoint(map[b] ?? b));
  return out;
}

// Python's html._invalid_codepoints: decoded to nothing
function isInvalidCodepoint(n: number): boolean {
  return (
    (n >= 0x1 && n <= 0x8) ||
    n === 0xb ||
    (n >= 0xe && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

function numericCharref(body: string): string {
  const hex = body[1] === 'x' || body[1] === 'X';
  const digits = body.slice(hex ? 2 : 1).replace(/;$/, '');
  // BigInt: Python's int() has no size limit, and huge values must map to U+FFFD, not overflow
  const big = BigInt(hex ? '0x' + digits : digits);
  if (big > 0x10ffffn) return '\ufffd';
  const num = Number(big);
  const invalid = INVALID_CHARREFS.get(num);
  if (invalid !== undefined) return invalid;
  if (num >= 0xd800 && num <= 0xdfff) return '\ufffd';
  if (isInvalidCodepoint(num)) return '';
  return String.fromCodePoint(num);
}

/** Python's html.unescape. */
export function pyHtmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(PY_CHARREF, (whole: string, body: string) => {
    if (body[0] === '#') return numericCharref(body);
    // named: exact name (with or without ';'), else the longest legacy prefix: WHATWG text-mode
    // decoding of this one reference does the same. Python never matches a prefix shorter than 2.
    return decodeHTML(whole);
  });
}

// ftfy.chardata.HTML_ENTITY_RE
const FTFY_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

/** ftfy.fixes.unescape_html: only references ending in ';', plus all-caps forms of lowercase names. */
export function ftfyUnescapeHtml(s: string): string {
  return s.replace(FTFY_ENTITY, (ref: string) => {
    if (ref.startsWith('&#')) {
      const decoded = pyHtmlUnescape(ref);
      return decoded.includes(';') ? ref : decoded;
    }
    const exact = decodeHTMLStrict(ref);
    if (exact !== ref) return exact;
    const name = ref.slice(1, -1);
    const lower = name.toLowerCase();
    // ftfy adds '&NAME;' -> char.upper() for lowercase html5 names whose upper-case form Python's
    // html.unescape leaves alone
    if (name === lower.toUpperCase() && name !== lower) {
      const lowerRef = '&' + lower + ';';
      const char = decodeHTMLStrict(lowerRef);
      if (char !== lowerRef && pyHtmlUnescape(ref) === ref) return char.toUpperCase();
    }
    return ref;
  });
}
