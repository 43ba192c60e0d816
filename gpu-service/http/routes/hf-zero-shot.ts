import type { Context, Hono } from "hono";
import { API_LIMITS } from "../../../src/api/limits.ts";
import { decodeBase64 } from "../../../src/encoding/base64.ts";
import { fillTemplate } from "../../../src/tokenizer/index.ts";
import { dot, softmax } from "../../../src/vector/index.ts";
import type { ServiceDeps } from "../deps.ts";
import { problem } from "../problem.ts";
import { requestDeadline } from "../request-deadline.ts";

// The edge's own label limits: what it accepts, it may send here (as the hosted fallback's endpoint).
const MAX_LABELS = API_LIMITS.maxLabels;
const MAX_LABEL_CHARS = API_LIMITS.maxLabelChars;
// The default of transformers' zero-shot-image-classification pipeline, which clients of this contract expect.
const DEFAULT_TEMPLATE = "This is a photo of {}.";

/**
 * `POST /hf/zero-shot-image-classification` — the Hugging Face inference contract that `@huggingface/inference`'s
 * `zeroShotImageClassification` sends to an `endpointUrl`: `{inputs: {image: base64} | base64, parameters:
 * {candidate_labels, hypothesis_template?}}` → `[{label, score}]`, best first, scores a softmax over the labels with
 * the model's logit scale. It lets this container serve as a custom Inference Endpoint, and the edge's Hugging Face
 * fallback be tested against a real server.
 */
export function registerHfZeroShotRoute(app: Hono, deps: ServiceDeps): void {
  app.post("/hf/zero-shot-image-classification", (c) => zeroShot(c, deps));
}

async function zeroShot(c: Context, deps: ServiceDeps): Promise<Response> {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(c.get("body")));
  } catch {
    return problem(c, "invalid_input", "the body is not JSON");
  }
  const parsed = parsePayload(payload);
  if (typeof parsed === "string") return problem(c, "invalid_input", parsed);

  const deadline = requestDeadline(c, deps);
  if (deadline instanceof Response) return deadline;
  const { signal, problemFor } = deadline;
  // The image and the labels are embedded side by side: either queue alone can make the request late.
  const late =
    deadline.shedIfLate(deps.images.estimate(1)) ??
    deadline.shedIfLate(deps.texts.estimate(parsed.labels.length));
  if (late) return late;
  const rows = deps.tokenizer.tokenize(
    parsed.labels.map((label) => fillTemplate(parsed.template, label)),
    { contextLength: deps.model.folder.contextLength },
  );
  try {
    const [image, ...texts] = await Promise.all([
      deps.images.embed(parsed.image, signal),
      ...rows.ids.map((row, i) =>
        deps.texts.embed(Uint32Array.from(row.subarray(0, rows.lengths[i])), signal),
      ),
    ]);
    if (!image?.ok)
      return problem(
        c,
        "invalid_input",
        `image: ${image?.message ?? "failed"} (${image?.ok === false ? image.code : ""})`,
      );
    const similarities = texts.map((text) =>
      text?.ok ? dot(image.embedding, text.embedding) : Number.NEGATIVE_INFINITY,
    );
    const scores = softmax(similarities, deps.model.folder.logitScale);
    const results = parsed.labels.map((label, i) => ({ label, score: scores[i] as number }));
    results.sort((a, b) => b.score - a.score);
    return c.json(results);
  } catch (error) {
    return problemFor(error) ?? Promise.reject(error);
  }
}

interface ZeroShotRequest {
  image: Uint8Array;
  labels: string[];
  template: string;
}

function parsePayload(payload: unknown): ZeroShotRequest | string {
  const body = payload as {
    inputs?: unknown;
    parameters?: { candidate_labels?: unknown; hypothesis_template?: unknown };
  } | null;
  const inputs = body?.inputs;
  const encoded = typeof inputs === "string" ? inputs : (inputs as { image?: unknown } | undefined)?.image;
  if (typeof encoded !== "string") return "inputs.image must be a base64 string";
  const image = decodeBase64(encoded);
  if (!image || image.length === 0) return "inputs.image is not valid base64";
  const raw = body?.parameters?.candidate_labels;
  const labels = typeof raw === "string" ? raw.split(",").map((l) => l.trim()) : raw;
  if (!Array.isArray(labels) || labels.length === 0 || labels.length > MAX_LABELS) {
    return `parameters.candidate_labels must hold 1..${MAX_LABELS} labels`;
  }
  if (
    !labels.every((l): l is string => typeof l === "string" && l.length > 0 && l.length <= MAX_LABEL_CHARS)
  ) {
    return `every candidate label must be a non-empty string of at most ${MAX_LABEL_CHARS} characters`;
  }
  const template = body?.parameters?.hypothesis_template ?? DEFAULT_TEMPLATE;
  if (typeof template !== "string" || !template.includes("{}"))
    return 'parameters.hypothesis_template must contain "{}"';
  return { image, labels, template };
}
