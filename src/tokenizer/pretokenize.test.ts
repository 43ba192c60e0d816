import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cleanText, cleanTextInFull } from "./pretokenize.ts";

describe("cleanText", () => {
  it("gives what the full clean-up gives, shortcut or not, for any mix of plain and troublesome characters", () => {
    const pieces = [
      ..."aZ09 .,'!~-",
      "  ",
      "\t",
      "\n",
      "\u001c",
      "&",
      "&amp;",
      "&#39;",
      "é",
      "e\u0301",
      "Σ",
      "ΑΣ",
      "\u3000",
      "\u00a0",
      "\u007f",
      "İ",
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 20 }), (parts) => {
        const text = parts.join("");
        expect(cleanText(text)).toBe(cleanTextInFull(text));
      }),
      { numRuns: 20_000 },
    );
    for (const text of ["A Photo of a DOG.", "", " leading", "trailing ", "two  spaces", "tab\there", "AT&T"])
      expect(cleanText(text)).toBe(cleanTextInFull(text));
  });

  it("takes linear time on a long plain text that fails at its end", () => {
    const long = `${"word ".repeat(200_000)}&`;
    const started = performance.now();
    expect(cleanText(long)).toBe(cleanTextInFull(long));
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
