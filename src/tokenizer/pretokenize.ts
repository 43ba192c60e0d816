import { unescapeHtml } from "./html-unescape.ts";

/**
 * The text clean-up OpenAI's `simple_tokenizer.py` applies before splitting: `ftfy.fix_text` (here NFC, which is all
 * ftfy changes on clean text), `html.unescape` twice, whitespace runs collapsed to one space and trimmed, lower case.
 *
 * @example cleanText("  A&amp;amp;B\n\tc ") === "a&b c"
 */
export function cleanText(text: string): string {
  // Printable ASCII without `&`, single spaces between words: NFC, unescaping (only `&` starts a reference) and the
  // whitespace rules all leave it as it is, so only the lower-casing is left to do — most labels and prompts.
  return PLAIN.test(text) ? text.toLowerCase() : cleanTextInFull(text);
}

/** {@link cleanText} without its shortcut for plain text (exported for the test that holds the two together). */
export function cleanTextInFull(text: string): string {
  const unescaped = unescapeHtml(unescapeHtml(text.normalize("NFC")));
  // `basic_clean` strips with str.strip() (whose whitespace includes U+001C–U+001F), then `whitespace_clean`
  // collapses runs of the regex module's \s (Unicode White_Space, which does not).
  return stripPythonWhitespace(unescaped).replace(WHITESPACE_RUN, " ").toLowerCase();
}

/**
 * Splits cleaned text into the words BPE works on, with the reference's pattern: the two special tokens, the English
 * contractions, runs of letters, single digits, and runs of everything else that is not whitespace.
 *
 * @example splitWords("a photo of 12 cats's <|endoftext|>") → ["a", "photo", "of", "1", "2", "cats", "'s", "<|endoftext|>"]
 */
export function splitWords(cleaned: string): string[] {
  return cleaned.match(WORD) ?? [];
}

/** {@link cleanText} then {@link splitWords}: the words of a raw text, as the reference sees them. */
export function pretokenize(text: string): string[] {
  return splitWords(cleanText(text));
}

const PLAIN = /^(?:[!-%'-~]+(?: [!-%'-~]+)*)?$/;

// Unicode White_Space, spelled out: JavaScript's \s differs from Python's (it adds U+FEFF and lacks U+0085).
const WHITE_SPACE = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WHITESPACE_RUN = new RegExp(`[${WHITE_SPACE}]+`, "g");

const IS_PYTHON_SPACE = new RegExp(`[${WHITE_SPACE}\\u001c-\\u001f]`);

// A loop rather than /^\s+|\s+$/: that regex takes quadratic time on long whitespace runs inside the text.
function stripPythonWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && IS_PYTHON_SPACE.test(text[start] as string)) start++;
  while (end > start && IS_PYTHON_SPACE.test(text[end - 1] as string)) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * The pre-tokenisation pattern of `simple_tokenizer.py`. Its IGNORECASE is moot on lower-cased text but for one
 * character: U+0345 (a combining mark whose case folding is the letter ι) then matches no alternative in Python's
 * `regex`, so the reference drops it, and so do we (checked against `regex` over every assigned code point).
 */
export const WORD = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${WHITE_SPACE}\\p{L}\\p{N}\\u0345]+`,
  "gu",
);
