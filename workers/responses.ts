import type { Warning } from "../src/api/index.ts";
import type { Services } from "./services/index.ts";

// What successful answers carry besides their results: headers to reproduce them, and warnings.

/** Headers every successful answer carries, so results can be reproduced. */
export function modelHeaders(services: Services): Record<string, string> {
  return { "x-clip-model": services.model.id, "x-clip-preprocessing": services.model.preprocessing.version };
}

export function truncationWarnings(
  truncated: readonly boolean[],
  pointer: (i: number) => string,
  what: "label" | "text",
): Warning[] {
  return truncated.flatMap((cut, i) =>
    cut
      ? [
          {
            code: `${what}_truncated` as const,
            message: `cut to the model's context of 77 tokens`,
            pointer: pointer(i),
          },
        ]
      : [],
  );
}
