import type { Context } from "hono";
import type { Usage } from "../../../src/api/index.ts";

// The route's side of metering: a billable route records what it served, and the metering middleware bills that.

/** Usage of a request, for its response and its billing record. */
export function usageOf(images: number, texts: { computed: number; cached: number }): Usage {
  return { images, texts_computed: texts.computed, texts_cached: texts.cached };
}

/** Records a successful request's usage for metering, and returns it for the response body. */
export function billUsage(c: Context, usage: Usage): Usage {
  c.set("usage", usage);
  return usage;
}
