import { reportRange } from "../../src/billing/index.ts";
import { ApiError } from "../errors.ts";

/** A usage report's [from, to) in ms from its query; a bad or inverted range is a 400 with a pointer. */
export function reportRangeOf(
  query: { from?: string; to?: string },
  now = Date.now(),
): { from: number; to: number } {
  const range = reportRange(query.from, query.to, now);
  if (!range.ok)
    throw new ApiError("invalid_request", `${range.pointer.slice(1)} ${range.detail}`, {
      errors: [{ pointer: range.pointer, detail: range.detail }],
    });
  return range;
}
