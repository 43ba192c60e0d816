import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sharedDataPresent } from "../../test/support/shared-data.ts";
import { testVocabulary } from "../../test/support/test-vocabulary.ts";
import { DEFAULT_TEMPLATES } from "../api/limits.ts";
import { ClipTokenizer } from "./clip-tokenizer.ts";
import { parseMerges, vocabularyFromMerges } from "./index.ts";
import { fillTemplate, TemplatePrompts } from "./template-prompts.ts";

const SHARED = new URL("../../../shared/clip/", import.meta.url);
const MERGES = new URL("bpe_simple_vocab_16e6.txt.gz", SHARED);
const GOLDEN = new URL("golden-tokens.jsonl", SHARED);
const present = sharedDataPresent("template splicing against OpenAI's vocabulary", MERGES, GOLDEN);

/** Templates that probe each rule: every kind of character next to `{}`, several `{}`s, none, and unspliceable ones. */
const TEMPLATES = [
  ...DEFAULT_TEMPLATES,
  "{}",
  "{}s",
  "{}'s",
  "'{}",
  "'{}'",
  "({})",
  "a {}-like thing",
  "{}{}",
  "{} {}",
  "x{}y",
  "1{}2",
  "{}.{}",
  '"{}"',
  "{},{}",
  "a {}'re here",
  "it's a {}'",
  "<{}>",
  "#{}#",
  "a photo of a {}!!!",
  "no slot here",
  "  spaced   {}   out  ",
  "a{}",
  "{}a",
  "9{}",
  "{}9",
  "{{}}",
  "$& {} $$",
  // Not plain ASCII, or with & or |: always tokenized whole.
  "a photo of a {}\t.",
  "une photo d'un {} été",
  "&amp; {}",
  "a | {} |",
  "<|endoftext|>{}",
  "a <|{}",
  "a photo of a \u001c{}",
  "{}\u001f.",
];

/** The reference: each prompt filled in and tokenized whole, as ClipTokenizer.tokenize does for the GPU tier. */
function wholePrompts(
  tokenizer: ClipTokenizer,
  templates: readonly string[],
  label: string,
  contextLength: number,
) {
  return templates.map((template) => {
    const { ids, lengths, truncated } = tokenizer.tokenize([fillTemplate(template, label)], {
      contextLength,
    });
    return { ids: Array.from((ids[0] as Int32Array).subarray(0, lengths[0])), truncated: truncated[0] };
  });
}

function expectSame(
  tokenizer: ClipTokenizer,
  templates: readonly string[],
  labels: readonly string[],
  contextLength = 77,
) {
  const prompts = new TemplatePrompts(tokenizer, templates, contextLength);
  let spliced = 0;
  for (const label of labels) {
    const ours = prompts.of(label).map((p) => ({ ids: Array.from(p.ids), truncated: p.truncated }));
    expect(ours, JSON.stringify(label)).toEqual(wholePrompts(tokenizer, templates, label, contextLength));
    for (let j = 0; j < templates.length; j++) if (prompts.splices(label, j)) spliced++;
  }
  return spliced;
}

/** Label fragments chosen to break a careless splice: entities, final sigma, combining marks, specials, $-patterns. */
const FRAGMENTS = [
  ..."aBz70 '-.!?,;:()\"/#",
  "  ",
  "\t",
  "\n",
  "s",
  "re",
  "ll",
  "'s",
  "'t",
  "&",
  "amp;",
  "&amp;",
  "&amp;amp;",
  "&#39;",
  "Σ",
  "ΑΣ",
  "ς",
  "\u0301",
  "\u0345",
  "é",
  "e\u0301",
  "日本",
  "\u3000",
  "\u00a0",
  "\u001c",
  "\u0085",
  "<|endoftext|>",
  "<|startoftext|>",
  "|",
  "<",
  "$&",
  "$$",
  "$'",
  "{}",
  "İ",
  "ß",
  "\u1fef",
  "\u037e",
  "\ud83d\udc36",
  "\ud800",
];

const rawLabel = fc
  .array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 12 })
  .map((parts) => parts.join(""));
// Half of them between ASCII letters or digits, so that the splice itself is exercised, not only its refusals.
const labelArbitrary = fc.oneof(
  rawLabel,
  fc
    .tuple(fc.constantFrom(..."aZ5s"), rawLabel, fc.constantFrom(..."bY0t"))
    .map(([first, middle, last]) => first + middle + last),
);
// Templates from printable ASCII around one or two `{}` (the splice's own domain), plus a few characters outside it.
const templateArbitrary = fc
  .tuple(
    fc.array(fc.constantFrom(..."a b'.-!x9 (|&\t"), { maxLength: 6 }),
    fc.array(fc.constantFrom(..."a b'.-!x9 )s"), { maxLength: 6 }),
    fc.boolean(),
  )
  .map(([before, after, twice]) => `${before.join("")}{}${twice ? " and {}" : ""}${after.join("")}`);

describe("fillTemplate", () => {
  it("puts the label in literally, every {} of it, even where replaceAll would read $ patterns", () => {
    expect(fillTemplate("a photo of a {}.", "dog")).toBe("a photo of a dog.");
    expect(fillTemplate("{} and {}", "$&")).toBe("$& and $&");
    expect(fillTemplate("a {}", "$$5 bill")).toBe("a $$5 bill");
    expect(fillTemplate("no slot", "dog")).toBe("no slot");
  });
});

describe("TemplatePrompts (small vocabulary)", () => {
  const tokenizer = new ClipTokenizer(testVocabulary());

  it("splices plain labels into the default templates, and tokenizes the rest whole", () => {
    const prompts = new TemplatePrompts(tokenizer, DEFAULT_TEMPLATES, 77);
    for (let j = 0; j < DEFAULT_TEMPLATES.length; j++) {
      expect(prompts.splices("red circle", j)).toBe(true);
      expect(prompts.splices("T-shirt size 42", j)).toBe(true);
      expect(prompts.splices("café au lait", j)).toBe(true); // non-ASCII inside, ASCII letters at the ends
      expect(prompts.splices("dog!", j)).toBe(false); // "!." would be one word
      expect(prompts.splices("AT&T logo", j)).toBe(false); // entities are not split-safe
      expect(prompts.splices("été", j)).toBe(false);
    }
  });

  it("equals whole-prompt tokenization for generated labels and templates", () => {
    expectSameForGenerated(tokenizer, 2000);
  });

  it("equals it for the probing templates, and at a context length that cuts some prompts", () => {
    // Labels that would complete a special token begun in a template, besides generated ones.
    const labels = [
      "endoftext|> dog",
      "startoftext|>x",
      ...fc.sample(labelArbitrary, { numRuns: 400, seed: 7 }),
    ];
    expect(expectSame(tokenizer, TEMPLATES, labels)).toBeGreaterThan(2000);
    expectSame(tokenizer, TEMPLATES, labels, 12);
  });

  it("no code point but & itself normalises (NFC or NFD) to text with an &", () => {
    const offenders: number[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const text = String.fromCodePoint(code);
      if (code !== 0x26 && (text.normalize("NFC").includes("&") || text.normalize("NFD").includes("&")))
        offenders.push(code);
    }
    expect(offenders).toEqual([]);
  });
});

/** `expectSame` over `numRuns` generated sets of 1–4 templates and 1–8 labels. */
function expectSameForGenerated(tokenizer: ClipTokenizer, numRuns: number): void {
  fc.assert(
    fc.property(
      fc.array(templateArbitrary, { minLength: 1, maxLength: 4 }),
      fc.array(labelArbitrary, { minLength: 1, maxLength: 8 }),
      (templates, labels) => {
        expectSame(tokenizer, templates, labels);
      },
    ),
    { numRuns },
  );
}

describe.skipIf(!present)("TemplatePrompts (OpenAI's vocabulary)", () => {
  const tokenizer = present
    ? new ClipTokenizer(vocabularyFromMerges(parseMerges(gunzipSync(readFileSync(MERGES)).toString("utf8"))))
    : undefined;
  const golden = present
    ? readFileSync(GOLDEN, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { text: string }).text)
    : [];

  it("equals whole-prompt tokenization with each of the 821 golden texts as the label, over the probing templates", () => {
    const t = tokenizer as ClipTokenizer;
    // Trimmed, as the API trims labels, and as they are: both must agree.
    const labels = [...golden, ...golden.map((text) => text.trim()).filter(Boolean)];
    expect(expectSame(t, TEMPLATES, labels)).toBeGreaterThan(5000);
    expectSame(t, DEFAULT_TEMPLATES, labels, 16);
  });

  it("equals it for generated labels and templates", () => {
    const t = tokenizer as ClipTokenizer;
    expectSameForGenerated(t, 1000);
  });

  it("equals it for labels long enough to be cut (words at the limit, giant words)", () => {
    const t = tokenizer as ClipTokenizer;
    const labels = [
      Array.from({ length: 70 }, (_, i) => `w${i}`).join(" "),
      Array.from({ length: 66 }, () => "dog").join(" "),
      Array.from({ length: 69 }, () => "dog").join(" "),
      `a${"b".repeat(900)}c`,
      `${"x".repeat(300)} 1`,
    ];
    expectSame(t, TEMPLATES, labels);
  });
});
