import { describe, expect, it } from "vitest";
import { pullRequestFromEnv, unpinnedRevisionWarning } from "./request.ts";

describe("pullRequestFromEnv (the container's MODEL_PULL)", () => {
  it("is null without MODEL_PULL: the container serves MODEL_DIR as it is", () => {
    expect(pullRequestFromEnv({ MODEL_DIR: "/models/clip" })).toBeNull();
    expect(pullRequestFromEnv({ MODEL_PULL: "  " })).toBeNull();
  });

  it("pulls into models/<repo name> unless MODEL_DIR says where, never over the embedded model by default", () => {
    expect(pullRequestFromEnv({ MODEL_PULL: "Xenova/clip-vit-base-patch32" })).toEqual({
      ok: true,
      value: {
        repo: "Xenova/clip-vit-base-patch32",
        revision: "main",
        dest: "models/clip-vit-base-patch32",
        precision: "fp32",
        hubUrl: "https://huggingface.co",
        accessToken: undefined,
        offline: false,
      },
    });
    const pinned = pullRequestFromEnv({
      MODEL_PULL: "Xenova/clip-vit-base-patch32",
      MODEL_PULL_REVISION: "3a1f2b4",
      MODEL_DIR: "/models/clip",
      MODEL_PRECISION: "fp16",
      HF_ENDPOINT: "https://hf-mirror.com/",
      HF_TOKEN: "hf_abc",
      HF_HUB_OFFLINE: "1",
    });
    expect(pinned).toMatchObject({
      ok: true,
      value: {
        revision: "3a1f2b4",
        dest: "/models/clip",
        precision: "fp16",
        hubUrl: "https://hf-mirror.com",
        accessToken: "hf_abc",
        offline: true,
      },
    });
  });

  it("names the variable that is wrong, and never repeats a token", () => {
    expect(pullRequestFromEnv({ MODEL_PULL: "clip" })).toMatchObject({
      ok: false,
      error: { code: "usage", message: '"clip" is not a MODEL_PULL repo id of the form owner/name' },
    });
    expect(pullRequestFromEnv({ MODEL_PULL: "a/b", MODEL_PRECISION: "int8" })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining("MODEL_PRECISION must be one of fp32, fp16, quantized") },
    });
    const token = pullRequestFromEnv({ MODEL_PULL: "a/b", HF_TOKEN: "ghp_secret" });
    expect(token).toMatchObject({ ok: false, error: { code: "bad-token" } });
    expect(JSON.stringify(token)).not.toContain("ghp_secret");
  });
});

describe("unpinnedRevisionWarning", () => {
  const commit = "0123456789abcdef0123456789abcdef01234567";

  it("warns for a branch or a tag, naming the commit to pin", () => {
    expect(unpinnedRevisionWarning("main", commit)).toBe(
      "MODEL_PULL_REVISION main is not a commit: replicas started at other times may serve other commits under " +
        `one model id (and the edge's text cache would mix them); in production pin it: MODEL_PULL_REVISION=${commit}`,
    );
    expect(unpinnedRevisionWarning("v1.0", commit)).toContain("MODEL_PULL_REVISION v1.0 is not a commit");
    expect(unpinnedRevisionWarning(commit.slice(0, 7), commit)).not.toBeNull(); // a short sha can become ambiguous
  });

  it("is silent for a full 40-hex commit", () => {
    expect(unpinnedRevisionWarning(commit, commit)).toBeNull();
    expect(unpinnedRevisionWarning(commit.toUpperCase(), commit)).toBeNull();
  });
});
