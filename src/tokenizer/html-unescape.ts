import { HTML5_LEGACY_NAMES, HTML5_NAMED_REFERENCES } from "./html-entities.gen.ts";

/**
 * Python's `html.unescape`, rule for rule, because OpenAI's tokenizer runs it (twice) on every text and any
 * difference changes token ids: named references from the HTML5 table, the legacy names that work without `;`
 * (also as a prefix: `&ampfoo` → `&foo`), decimal and hex numeric references with HTML's repairs (Windows-1252 for
 * 0x80–0x9F, U+FFFD for NUL, surrogates and out-of-range numbers, nothing for non-characters and most C0/C1 controls).
 *
 * @example unescapeHtml("&lt;b&gt; &amp;amp; &#39;") === "<b> &amp; '"
 */
export function unescapeHtml(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(CHARACTER_REFERENCE, replaceReference);
}

// The same pattern as CPython's Lib/html/__init__.py: numeric references, or a name of at most 32 characters.
const CHARACTER_REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g;

function replaceReference(match: string, body: string): string {
  if (body.startsWith("#")) return numericReference(body);
  return namedReference(body) ?? match;
}

function namedReference(body: string): string | undefined {
  if (body.endsWith(";")) {
    const exact = HTML5_NAMED_REFERENCES[body.slice(0, -1)];
    if (exact !== undefined) return exact;
  } else if (HTML5_LEGACY_NAMES.has(body)) {
    return HTML5_NAMED_REFERENCES[body];
  }
  // Longest legacy name that prefixes the body, as Python does: only names valid without ';' can be a prefix.
  for (let end = body.length - 1; end > 1; end--) {
    const prefix = body.slice(0, end);
    if (HTML5_LEGACY_NAMES.has(prefix)) return HTML5_NAMED_REFERENCES[prefix] + body.slice(end);
  }
  return undefined;
}

function numericReference(body: string): string {
  const hex = body[1] === "x" || body[1] === "X";
  const digits = body.slice(hex ? 2 : 1).replace(/;$/, "");
  const codePoint = Number.parseInt(digits, hex ? 16 : 10);
  const windows1252 = INVALID_CHARACTER_REFERENCES.get(codePoint);
  if (windows1252 !== undefined) return windows1252;
  if ((codePoint >= 0xd800 && codePoint <= 0xdfff) || !(codePoint <= 0x10ffff)) return "\ufffd";
  if (isDroppedCodePoint(codePoint)) return "";
  return String.fromCodePoint(codePoint);
}

// HTML's table of numeric references that stand for something else (CPython's `_invalid_charrefs`).
const INVALID_CHARACTER_REFERENCES: ReadonlyMap<number, string> = new Map([
  [0x00, "\ufffd"],
  [0x0d, "\r"],
  ...[..."€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ"].map((ch, i): [number, string] => [0x80 + i, ch]),
]);

// CPython's `_invalid_codepoints`: controls and non-characters that numeric references turn into nothing.
function isDroppedCodePoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) ||
    cp === 0xb ||
    (cp >= 0xe && cp <= 0x1f) ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) ||
    (cp & 0xfffe) === 0xfffe
  );
}
