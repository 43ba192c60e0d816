import { describe, expect, it } from "vitest";
import { unescapeHtml } from "./html-unescape.ts";

// Expected values printed by CPython 3.11's html.unescape for each input.
const PYTHON_CASES: [string, string][] = [
  ["&amp;", "&"],
  ["&amp", "&"],
  ["&ampxyz;", "&xyz;"],
  ["&AMP;", "&"],
  ["&notin", "¬in"],
  ["&notin;", "∉"],
  ["&notit;", "¬it;"],
  ["&lt&gt", "<>"],
  ["&#39;", "'"],
  ["&#x27", "'"],
  ["&#X41;", "A"],
  ["&#128;", "€"],
  ["&#0;", "\ufffd"],
  ["&#13;", "\r"],
  ["&#55296;", "\ufffd"],
  ["&#99999999999;", "\ufffd"],
  ["&#xFFFE;", ""],
  ["&#1;", ""],
  ["&#11;", ""],
  ["&#127;", ""],
  ["&#65;x", "Ax"],
  ["&;", "&;"],
  ["&#;", "&#;"],
  ["&#x;", "&#x;"],
  ["&NotNestedGreaterGreater;", "⪢̸"],
  ["&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"],
  ["&amp;amp;", "&amp;"],
  ["no entity", "no entity"],
  ["&Eacute", "É"],
  ["&eacuteb", "éb"],
  ["&copy2023", "©2023"],
];

describe("unescapeHtml", () => {
  it.each(PYTHON_CASES)("%j → %j as Python's html.unescape", (input, expected) => {
    expect(unescapeHtml(input)).toBe(expected);
  });

  it("leaves text without '&' untouched (same string)", () => {
    const text = "a photo of a cat";
    expect(unescapeHtml(text)).toBe(text);
  });
});
