import * as z from "zod";
import { type ItemErrorStatus, ItemStatusCode } from "./codes.ts";

/**
 * The GPU service's JSON answers, defined once for both tiers: its problem codes (RFC 9457 `code`, each with its
 * HTTP status), and the `/v1/captions` reply. The GPU tier answers with these; the edge parses them — never casts
 * them, never searches a `detail` for a code.
 */
export const GPU_PROBLEM_STATUS = {
  unauthorized: 401,
  malformed_frame: 400,
  invalid_input: 400,
  unsupported_version: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  /** Its queue is full right now. */
  overloaded: 503,
  /** Still loading or warming up. */
  not_ready: 503,
  /** Draining after SIGTERM: new work goes elsewhere. */
  shutting_down: 503,
  /** The request's deadline passed while its work waited there. */
  timeout: 503,
  /** The backlog there would not clear before this request's deadline: another backend may take it at once. */
  shed: 503,
  not_found: 404,
  /** This deployment has no caption bank, so /v1/captions cannot answer (docs/captions.md says how to build one). */
  no_caption_bank: 404,
  /** /v1/fetch-image: the user's image URL was refused before connecting (private address, bad scheme …). */
  url_not_allowed: 400,
  /** /v1/fetch-image: the user's image URL could not be fetched; a 4xx, so it never trips the edge's breaker. */
  url_fetch_failed: 422,
  /** /v1/fetch-image: the image is over max_bytes. */
  image_too_large: 413,
  internal_error: 500,
} as const;
export type GpuProblemCode = keyof typeof GPU_PROBLEM_STATUS;

export interface GpuProblem {
  code: GpuProblemCode;
  detail: string;
}

const codes = Object.keys(GPU_PROBLEM_STATUS) as [GpuProblemCode, ...GpuProblemCode[]];
const ProblemBody = z.object({ code: z.enum(codes), detail: z.string().optional() });

/**
 * A GPU answer's problem document, or undefined when the body is not one (not JSON, or a code outside the list:
 * an answer from something that is not our GPU service).
 *
 * @example parseGpuProblem(bytesOf('{"code":"shed","detail":"…"}'), "application/problem+json")?.code === "shed"
 */
export function parseGpuProblem(body: Uint8Array, contentType: string): GpuProblem | undefined {
  if (!contentType.includes("json")) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  const parsed = ProblemBody.safeParse(json);
  return parsed.success ? { code: parsed.data.code, detail: parsed.data.detail ?? "" } : undefined;
}

/** Captions per image the GPU tier returns by default, and at most. */
export const DEFAULT_CAPTION_TOP_K = 5;
export const MAX_CAPTION_TOP_K = 100;

const itemErrors = Object.keys(ItemStatusCode).filter((s) => s !== "ok") as [
  ItemErrorStatus,
  ...ItemErrorStatus[],
];

/** One image's result in the captions reply: its nearest captions, best first, or why it failed (alone). */
export const GpuCaptionResult = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("ok"),
    captions: z.array(
      z.object({ index: z.int().min(0), text: z.string(), score: z.number().min(-1.0001).max(1.0001) }),
    ),
  }),
  z.object({ status: z.enum(itemErrors), message: z.string() }),
]);
export type GpuCaptionResult = z.infer<typeof GpuCaptionResult>;

/** `POST /v1/captions` on the GPU tier: one result per image, in order. */
export const GpuCaptionsReply = z.object({
  model: z.string(),
  preprocessing: z.string(),
  results: z.array(GpuCaptionResult),
});
export type GpuCaptionsReply = z.infer<typeof GpuCaptionsReply>;

/**
 * The captions reply parsed from its bytes, or what is wrong with it.
 *
 * @example const reply = parseGpuCaptionsReply(answer.body); if (!reply.ok) return failed("upstream_error", reply.message)
 */
export function parseGpuCaptionsReply(
  body: Uint8Array,
): { ok: true; value: GpuCaptionsReply } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return { ok: false, message: "the GPU tier's caption answer is not JSON" };
  }
  const parsed = GpuCaptionsReply.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    message: `the GPU tier's caption answer does not match the protocol: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
  };
}
