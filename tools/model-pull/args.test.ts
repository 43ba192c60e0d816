import { describe, expect, it } from "vitest";
import { parsePullArgs } from "./args.ts";

describe("parsePullArgs", () => {
  it("defaults to main, fp32, the public Hub and models/<repo name>", () => {
    expect(parsePullArgs(["Xenova/clip-vit-base-patch32"], {})).toEqual({
      ok: true,
      value: {
        repo: "Xenova/clip-vit-base-patch32",
        revision: "main",
        dest: "models/clip-vit-base-patch32",
        precision: "fp32",
        hubUrl: "https://huggingface.co",
        accessToken: undefined,
        offline: false,
        retries: 3,
      },
    });
  });

  it("reads HF_HUB_OFFLINE as the Hugging Face libraries do", () => {
    const offline = (value: string) => {
      const parsed = parsePullArgs(["a/b"], { HF_HUB_OFFLINE: value });
      return parsed.ok && !("help" in parsed.value) && parsed.value.offline;
    };
    expect(["1", "true", "YES", "on"].map(offline)).toEqual([true, true, true, true]);
    expect(["0", "", "false"].map(offline)).toEqual([false, false, false]);
  });

  it("takes --hub-url over HF_ENDPOINT over the default, without a trailing slash", () => {
    const hub = (argv: string[], env: Record<string, string>) => {
      const parsed = parsePullArgs(["a/b", ...argv], env);
      return parsed.ok && !("help" in parsed.value) ? parsed.value.hubUrl : parsed;
    };
    expect(hub([], { HF_ENDPOINT: "https://hf-mirror.com/" })).toBe("https://hf-mirror.com");
    expect(hub(["--hub-url", "http://127.0.0.1:1234"], { HF_ENDPOINT: "https://hf-mirror.com" })).toBe(
      "http://127.0.0.1:1234",
    );
  });

  it("reads HF_TOKEN, and rejects a non-hf_ token without repeating it", () => {
    const good = parsePullArgs(["a/b"], { HF_TOKEN: "hf_abc" });
    expect(good.ok && !("help" in good.value) && good.value.accessToken).toBe("hf_abc");
    const bad = parsePullArgs(["a/b"], { HF_TOKEN: "ghp_secret" });
    expect(bad).toMatchObject({ ok: false, error: { code: "bad-token" } });
    expect(JSON.stringify(bad)).not.toContain("ghp_secret");
  });

  it("explains bad input in one line", () => {
    for (const [argv, message] of [
      [[], "expected one repo id"],
      [["a/b", "c/d"], "expected one repo id"],
      [["clip"], "is not a model repo id of the form owner/name"],
      [["a/b", "--precision", "int8"], "--precision must be one of fp32, fp16, quantized"],
      [["a/b", "--retries", "1.5"], "--retries must be an integer"],
      [["a/b", "--hub-url", "ftp://x"], "must be an http(s) URL"],
      [["a/b", "--bogus"], "Unknown option '--bogus'"],
    ] as const) {
      const parsed = parsePullArgs([...argv], {});
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.error.message).toContain(message);
        expect(parsed.error.message).not.toContain("\n");
      }
    }
  });

  it("recognises --help", () => {
    expect(parsePullArgs(["--help"], {})).toEqual({ ok: true, value: { help: true } });
  });
});
