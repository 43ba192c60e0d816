import { existsSync } from "node:fs";
import { readServiceConfig } from "../../gpu-service/config.ts";
import { type RunningService, type StartOptions, startService } from "../../gpu-service/service.ts";
import { type BatchRequestInput, CONTENT_TYPE, encodeRequest } from "../../src/protocol/index.ts";
import { signRequest } from "../../src/signing/index.ts";

/** The model tests run on: the embedded one, unless TEST_MODEL_DIR points elsewhere. */
export const TEST_MODEL_DIR = process.env.TEST_MODEL_DIR ?? "models/tiny-clip";
export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";

/**
 * Whether the test model's encoders are there (a TEST_MODEL_DIR may point elsewhere). The embedded model is in the
 * repository, so under CI=true its absence is an error, never a silent skip.
 */
export function modelPresent(): boolean {
  const present =
    existsSync(`${TEST_MODEL_DIR}/onnx/text_model.onnx`) &&
    existsSync(`${TEST_MODEL_DIR}/onnx/vision_model.onnx`);
  if (!present && process.env.CI === "true")
    throw new Error(`CI=true but the test model's encoders are missing under ${TEST_MODEL_DIR}/onnx`);
  return present;
}

/** A real GPU service on a free loopback port, with the embedded model on the CPU. */
export async function startTestService(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RunningService> {
  const config = readServiceConfig({
    GPU_SHARED_SECRET: TEST_SECRET,
    MODEL_DIR: TEST_MODEL_DIR,
    PORT: "0",
    BATCH_SIZES: "1,4,16,64",
    ...env,
  });
  return startService(config, () => {}, options);
}

/** POSTs a body the way the edge does: signed with the shared secret. */
export async function signedPost(
  url: string,
  body: Uint8Array,
  contentType = CONTENT_TYPE,
  secret = TEST_SECRET,
): Promise<Response> {
  const { pathname, search } = new URL(url);
  const headers = await signRequest({ secret, method: "POST", path: pathname + search, body });
  return fetch(url, { method: "POST", body, headers: { ...headers, "content-type": contentType } });
}

/** GETs a signed route (e.g. /metrics). */
export async function signedGet(url: string, secret = TEST_SECRET): Promise<Response> {
  const { pathname, search } = new URL(url);
  return fetch(url, {
    headers: await signRequest({ secret, method: "GET", path: pathname + search, body: new Uint8Array(0) }),
  });
}

export function frame(request: BatchRequestInput): Uint8Array {
  const encoded = encodeRequest(request, { maxItems: 1024 });
  if (!encoded.ok) throw new Error(encoded.message);
  return encoded.value;
}
