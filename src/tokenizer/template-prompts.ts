import type { ClipTokenizer } from "./clip-tokenizer.ts";

/**
 * `template` with every `{}` replaced by `label`, literally. (`replaceAll` with a string would read `$&`, `$$`, `` $` ``
 * and `$'` in the label as replacement patterns: "$$5 bill" would become "$5 bill".)
 *
 * @example fillTemplate("a photo of a {}.", "$& dog") === "a photo of a $& dog."
 */
export function fillTemplate(template: string, label: string): string {
  return template.replaceAll("{}", () => label);
}

/** One prompt, tokenized as `ClipTokenizer.tokenize` would: start token, tokens, end token (unpadded), and whether cut. */
export interface PromptTokens {
  ids: Int32Array;
  truncated: boolean;
}

/**
 * The prompts of labels × templates (each `{}` filled with the label), tokenized — identical to
 * `tokenizer.tokenize([fillTemplate(template, label)])`, but usually without tokenizing every prompt: the tokens of a
 * template's text between its `{}`s are computed once, each label's tokens once, and a prompt's ids are spliced from
 * them. 100 labels × 7 templates then cost 100 label tokenizations, not 700 prompt ones.
 *
 * Why a splice equals the whole prompt's tokens, when it is used (otherwise the prompt is tokenized whole):
 *
 * 1. The template is plain ASCII (U+0020–U+007E) without `&` or `|`; the label has no `&` and begins and ends with
 *    an ASCII letter or digit.
 * 2. Clean-up works part by part. NFC: an ASCII character always has a normalization boundary before it (canonical
 *    class 0, never the second half of a composition), and every part begins with one — the label, and each template
 *    piece unless empty. HTML unescaping acts only on `&`, which is in no part (and NFC makes no `&`: tested over
 *    every code point). Whitespace: the template's only whitespace is the space; trimming and collapsing spaces
 *    changes no word, and the label's own whitespace lies inside it, away from its ends. Lower-casing: ASCII maps
 *    letter by letter, and the one context-dependent mapping (final sigma) looks past case-ignorable characters for
 *    a cased letter — the label's ASCII ends are letters or digits, never case-ignorable, so a Σ inside the label
 *    sees the same context alone as in the prompt.
 * 3. No word spans a boundary. The word pattern matches special tokens (they contain `|`, which the template lacks and
 *    the label's ends are not), contractions (`'` then letters), runs of letters, single digits, and runs of other
 *    non-space characters. One side of a boundary is the label's end, a letter or a digit, so a word spans the
 *    characters x, y either side only when both are letters or x is `'` and y a letter; a template whose character
 *    next to `{}` would join with the label's end that way is not spliced for that label. Everything else — a space,
 *    a digit, a letter next to punctuation — separates, and BPE works word by word.
 * 4. Cutting to the context length: a splice is used only when the whole prompt fits, uncut (then tokenizing it stops
 *    nowhere and cuts no word short); a longer prompt is tokenized whole, which cuts it as the reference does.
 *
 * Tested against whole-prompt tokenization over OpenAI's golden texts as labels, generated labels and templates that
 * probe every rule above, and labels long enough to be cut.
 *
 * @example
 * const prompts = new TemplatePrompts(tokenizer, ["a photo of a {}.", "a {} toy."], 77);
 * prompts.of("red car") // [{ ids: [sot, a, photo, of, a, red, car, ., eot], truncated: false }, …]
 */
export class TemplatePrompts {
  private readonly tokenizer: ClipTokenizer;
  private readonly templates: readonly string[];
  private readonly contextLength: number;
  /** Per template: how to splice a label into it, or undefined when it is always tokenized whole. */
  private readonly plans: readonly (SplicePlan | undefined)[];

  constructor(tokenizer: ClipTokenizer, templates: readonly string[], contextLength: number) {
    this.tokenizer = tokenizer;
    this.templates = templates;
    this.contextLength = contextLength;
    this.plans = templates.map((template) => planFor(template, (text) => this.wordIds(text)));
  }

  /** The label's prompts, one per template, in the templates' order. */
  of(label: string): PromptTokens[] {
    const labelIds = isSpliceableLabel(label) ? this.wordIds(label) : undefined;
    const first = label.charCodeAt(0);
    const last = label.charCodeAt(label.length - 1);
    return this.templates.map((template, j) => {
      const plan = this.plans[j];
      if (labelIds && plan?.accepts(first, last)) {
        const length = 2 + plan.pieceTokens + plan.pieces.length * labelIds.length - labelIds.length;
        if (length <= this.contextLength)
          return { ids: this.splice(plan, labelIds, length), truncated: false };
      }
      return this.whole(fillTemplate(template, label));
    });
  }

  /** Whether `of` splices `label` into template `j` rather than tokenizing the prompt whole (for tests). */
  splices(label: string, j: number): boolean {
    const plan = this.plans[j];
    if (!plan || !isSpliceableLabel(label)) return false;
    if (!plan.accepts(label.charCodeAt(0), label.charCodeAt(label.length - 1))) return false;
    const labelLength = this.wordIds(label).length;
    return 2 + plan.pieceTokens + (plan.pieces.length - 1) * labelLength <= this.contextLength;
  }

  private splice(plan: SplicePlan, labelIds: Int32Array, length: number): Int32Array {
    const ids = new Int32Array(length);
    ids[0] = this.tokenizer.startId;
    let at = 1;
    for (const [p, piece] of plan.pieces.entries()) {
      if (p > 0) {
        ids.set(labelIds, at);
        at += labelIds.length;
      }
      ids.set(piece, at);
      at += piece.length;
    }
    ids[at] = this.tokenizer.endId;
    return ids;
  }

  private whole(prompt: string): PromptTokens {
    const { ids, lengths, truncated } = this.tokenizer.tokenize([prompt], {
      contextLength: this.contextLength,
    });
    return { ids: (ids[0] as Int32Array).subarray(0, lengths[0]), truncated: truncated[0] as boolean };
  }

  /** A text's tokens without the start and end tokens, uncut. */
  private wordIds(text: string): Int32Array {
    const ids = this.tokenizer.encode(text);
    return Int32Array.from(ids).subarray(1, ids.length - 1);
  }
}

/** A template's pieces (the text between its `{}`s) as tokens, and what stands either side of each `{}`. */
interface SplicePlan {
  pieces: Int32Array[];
  /** All pieces' tokens together. */
  pieceTokens: number;
  /** Whether a label beginning with `first` and ending with `last` (character codes) may be spliced in. */
  accepts(first: number, last: number): boolean;
}

function planFor(template: string, wordIds: (text: string) => Int32Array): SplicePlan | undefined {
  for (let i = 0; i < template.length; i++) {
    const code = template.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === AMPERSAND || code === BAR) return undefined;
  }
  const texts = template.split("{}");
  const pieces = texts.map(wordIds);
  // Per `{}`: the template's character before it and after it; an empty piece between two `{}`s puts the label
  // next to itself, and the template's ends put nothing next to it.
  const before = texts
    .slice(0, -1)
    .map((text, s) => (text === "" ? (s === 0 ? NOTHING : LABEL) : text.charCodeAt(text.length - 1)));
  const after = texts
    .slice(1)
    .map((text, s) => (text === "" ? (s === texts.length - 2 ? NOTHING : LABEL) : text.charCodeAt(0)));
  return {
    pieces,
    pieceTokens: pieces.reduce((sum, piece) => sum + piece.length, 0),
    accepts(first, last) {
      for (let s = 0; s < before.length; s++) {
        const x = before[s] as number;
        const y = after[s] as number;
        if (x === LABEL ? joins(last, first) : x !== NOTHING && joins(x, first)) return false;
        if (y !== NOTHING && y !== LABEL && joins(last, y)) return false;
      }
      return true;
    },
  };
}

const AMPERSAND = 0x26;
const BAR = 0x7c;
const APOSTROPHE = 0x27;
const NOTHING = -1;
const LABEL = -2;

const isLetter = (code: number) => (code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a;
const isDigit = (code: number) => code >= 0x30 && code <= 0x39;

/** Condition 1 for the label: no `&`, and an ASCII letter or digit at each end. */
function isSpliceableLabel(label: string): boolean {
  if (label.length === 0 || label.includes("&")) return false;
  const first = label.charCodeAt(0);
  const last = label.charCodeAt(label.length - 1);
  return (isLetter(first) || isDigit(first)) && (isLetter(last) || isDigit(last));
}

/**
 * Whether one word could span ASCII characters `x` then `y` (condition 3), one of which is a label's end — a letter or
 * a digit, so never two "other" characters: a run of letters, or a contraction.
 */
function joins(x: number, y: number): boolean {
  return isLetter(y) && (isLetter(x) || x === APOSTROPHE);
}
