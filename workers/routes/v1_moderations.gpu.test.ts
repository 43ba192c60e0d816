// Moderation end to end inside workerd: policies in D1 and R2, examples, calibration, /v1/moderations with texts,
// images and a collection's stored vectors; the real GPU tier. Every answer is also checked against the OpenAPI
// document (edge → checkContract). The calibration's quality is proved on fresh renders in test/e2e.
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../src/api/moderation-default-policy.ts";
import { call, committed, createKey, expectProblem, ok } from "../../test/support/workers/billing.ts";
import { shape } from "../../test/support/workers/worker.ts";

type Json = Record<string, unknown>;
type Result = {
  flagged: boolean;
  categories: Record<string, boolean>;
  category_scores: Record<string, number>;
  category_similarities: Record<string, number>;
  id?: string;
  error?: Json;
};

const RED = { name: "red", concepts: ["a photo of a red circle", "a photo of a red square"], threshold: 0.2 };
const STARS = { name: "stars", concepts: ["a photo of a star", "a photo of stars"] };
const image = (label: string) => ({ image: { base64: shape(label).base64 } });

async function newPolicy(key: string) {
  return ok<Json & { id: string }>(
    await call(key, "POST", "/v1/moderation/policies", { name: "p", categories: [RED, STARS] }),
    201,
  );
}

describe("moderation", () => {
  it("creates a policy, scores texts and images with it, and bills each call", async () => {
    const { key, id: keyId } = await createKey({ plan: "wide" });
    const policy = await newPolicy(key);
    expect(policy).toMatchObject({ object: "moderation_policy", calibrated: false, examples: 0 });
    expect(policy.categories).toEqual([
      { name: "red", concepts: RED.concepts, threshold: 0.2 },
      { name: "stars", concepts: STARS.concepts, threshold: 0.25 },
    ]);
    const usage = policy.usage as { texts_computed: number; texts_cached: number };
    expect(usage.texts_computed + usage.texts_cached).toBe(4);

    const answer = await ok<{ results: Result[]; usage: Json; calibrated: boolean; policy: string }>(
      await call(key, "POST", "/v1/moderations", {
        input: ["a red circle", { text: "three blue stars" }, image("red circle"), image("blue star")],
        policy: policy.id,
      }),
    );
    expect(answer).toMatchObject({ calibrated: false, policy: policy.id });
    expect(answer.usage).toMatchObject({ images: 2 });
    for (const result of answer.results) {
      expect(Object.keys(result.category_similarities)).toEqual(["red", "stars"]);
      // Uncalibrated: the scores are the similarities, and a category flags at its own threshold.
      expect(result.category_scores).toEqual(result.category_similarities);
      expect(result.categories.red).toBe((result.category_similarities.red as number) >= 0.2);
      expect(result.flagged).toBe(Object.values(result.categories).some(Boolean));
    }
    const [redImage, starImage] = [answer.results[2] as Result, answer.results[3] as Result];
    expect(redImage.category_similarities.red).toBeGreaterThan(starImage.category_similarities.red as number);
    expect(starImage.category_similarities.stars).toBeGreaterThan(
      redImage.category_similarities.stars as number,
    );

    const single = await ok<{ results: Result[] }>(
      await call(key, "POST", "/v1/moderations", { input: "hello", policy: policy.id }),
    );
    expect(single.results).toHaveLength(1);
    const routes = (await committed(keyId)).records.map((r) => r.route);
    expect(routes).toEqual(expect.arrayContaining(["/v1/moderation/policies", "/v1/moderations"]));
  });

  it("uses the built-in default policy, uncalibrated, when none is named", async () => {
    const { key } = await createKey();
    const answer = await ok<{ policy: string; calibrated: boolean; results: Result[] }>(
      await call(key, "POST", "/v1/moderations", { input: [image("red circle")] }),
    );
    expect(answer).toMatchObject({ policy: "default", calibrated: false });
    expect(Object.keys(answer.results[0]?.categories ?? {})).toEqual(
      DEFAULT_POLICY.categories.map((c) => c.name),
    );
    const shown = await ok<Json>(await call(key, "GET", "/v1/moderation/policies/default"));
    expect(shown).toMatchObject({ id: "default", calibrated: false });
  });

  it("stores labelled examples, counts them, calibrates each category, and then scores with probabilities", async () => {
    const { key, id: keyId } = await createKey({ plan: "wide" });
    const policy = await newPolicy(key);
    const path = `/v1/moderation/policies/${policy.id}`;
    const labels = [
      "red circle",
      "red square",
      "red triangle",
      "blue star",
      "yellow star",
      "green square",
      "blue circle",
      "white triangle",
    ];
    const added = await ok<{ added: number; total: number; results: Json[]; usage: Json }>(
      await call(key, "POST", `${path}/examples`, {
        examples: [
          ...labels.map((label) => ({
            ...image(label),
            categories: [label.startsWith("red") ? "red" : "", label.endsWith("star") ? "stars" : ""].filter(
              Boolean,
            ),
          })),
          { text: "a photo of a red star", categories: ["red", "stars"] },
          { image: { base64: "bm90IGFuIGltYWdl" }, categories: [] },
        ],
      }),
    );
    expect(added).toMatchObject({ added: 9, total: 9, usage: { images: 8, texts_computed: 1 } });
    expect(added.results[9]).toMatchObject({ index: 9, error: { code: "not_an_image" } });
    expect(await ok(await call(key, "GET", `${path}/examples`))).toMatchObject({
      total: 9,
      clean: 3,
      categories: { red: 4, stars: 3 },
    });
    const calibration = await ok<{ categories: Record<string, Json>; examples: number }>(
      await call(key, "POST", `${path}/calibrate`, { target_precision: 0.9 }),
    );
    expect(calibration.examples).toBe(9);
    for (const name of ["red", "stars"])
      expect(calibration.categories[name]).toMatchObject({
        rule: expect.stringMatching(/^(target_precision|best_f1)$/),
        threshold: expect.any(Number),
        positives: name === "red" ? 4 : 3,
        negatives: name === "red" ? 5 : 6,
      });
    const after = await ok<{ calibrated: boolean; results: Result[] }>(
      await call(key, "POST", "/v1/moderations", { input: [image("red circle")], policy: policy.id }),
    );
    expect(after.calibrated).toBe(true);
    const scores = after.results[0]?.category_scores as Record<string, number>;
    for (const name of ["red", "stars"]) {
      expect(scores[name]).toBeGreaterThan(0);
      expect(scores[name]).toBeLessThan(1);
      expect(scores[name]).not.toBe(after.results[0]?.category_similarities[name]);
    }
    expect(await ok(await call(key, "GET", path))).toMatchObject({
      calibrated: true,
      target_precision: 0.9,
      examples: 9,
    });
    const billed = (await committed(keyId)).records;
    const examplesRecord = billed.find((r) => r.route === "/v1/moderation/policies/{id}/examples");
    expect(examplesRecord).toMatchObject({ images: 8 });
    expect((examplesRecord?.texts_computed ?? 0) + (examplesRecord?.texts_cached ?? 0)).toBe(1);
    expect(billed.find((r) => r.route === "/v1/moderation/policies/{id}/calibrate")).toMatchObject({
      requests: 1,
      images: 0,
      texts_computed: 0,
    });
    expect(await ok(await call(key, "DELETE", `${path}/examples`))).toMatchObject({ deleted: 9 });
    await expectProblem(await call(key, "POST", `${path}/calibrate`, {}), 409, "not_enough_examples");
  });

  it("scores a collection's stored items without embedding them again", async () => {
    const { key } = await createKey({ plan: "wide" });
    const policy = await newPolicy(key);
    expect((await call(key, "PUT", "/v1/collections/mod")).status).toBe(201);
    await ok(
      await call(key, "POST", "/v1/collections/mod/items", {
        items: [
          { id: "red", ...image("red circle") },
          { id: "star", ...image("blue star") },
        ],
      }),
    );
    const answer = await ok<{ results: Result[]; usage: Json }>(
      await call(key, "POST", "/v1/moderations", {
        collection: "mod",
        ids: ["red", "ghost", "star"],
        policy: policy.id,
      }),
    );
    expect(answer.usage).toMatchObject({ images: 0, texts_computed: 0 });
    expect(answer.results.map((r) => r.id)).toEqual(["red", "ghost", "star"]);
    expect(answer.results[1]).toMatchObject({ error: { code: "item_not_found" } });
    expect(answer.results[0]?.category_similarities.red).toBeGreaterThan(
      answer.results[2]?.category_similarities.red as number,
    );
  });

  it("keeps accounts apart: another account's key sees 404 for the policy", async () => {
    const [mine, theirs] = [(await createKey()).key, (await createKey()).key];
    const policy = await newPolicy(mine);
    const path = `/v1/moderation/policies/${policy.id}`;
    await expectProblem(await call(theirs, "GET", path), 404, "policy_not_found");
    await expectProblem(
      await call(theirs, "POST", "/v1/moderations", { input: "x", policy: policy.id }),
      404,
      "policy_not_found",
    );
    await expectProblem(
      await call(theirs, "POST", `${path}/examples`, { examples: [{ text: "x", categories: [] }] }),
      404,
      "policy_not_found",
    );
    await expectProblem(await call(theirs, "DELETE", path), 404, "policy_not_found");
    expect((await ok<{ data: Json[] }>(await call(theirs, "GET", "/v1/moderation/policies"))).data).toEqual(
      [],
    );
    expect((await ok<{ data: Json[] }>(await call(mine, "GET", "/v1/moderation/policies"))).data).toEqual([
      expect.objectContaining({ id: policy.id, name: "p" }),
    ]);
    expect(await ok(await call(mine, "DELETE", path))).toMatchObject({ deleted: 1 });
    await expectProblem(await call(mine, "GET", path), 404, "policy_not_found");
  });

  it.each([
    ["no categories", "/v1/moderation/policies", { name: "p", categories: [] }, 400, "invalid_request"],
    [
      "a category without concepts",
      "/v1/moderation/policies",
      { name: "p", categories: [{ name: "a", concepts: [] }] },
      400,
      "invalid_request",
    ],
    [
      "too many concepts",
      "/v1/moderation/policies",
      { name: "p", categories: [{ name: "a", concepts: Array.from({ length: 33 }, (_, i) => `c${i}`) }] },
      400,
      "invalid_request",
    ],
    [
      "two categories of one name",
      "/v1/moderation/policies",
      { name: "p", categories: [RED, RED] },
      400,
      "invalid_request",
    ],
    [
      "an unknown policy",
      "/v1/moderations",
      { input: "x", policy: "mp_000000000000000000000000" },
      404,
      "policy_not_found",
    ],
    ["a malformed policy id", "/v1/moderations", { input: "x", policy: "nope" }, 400, "invalid_request"],
    ["no input", "/v1/moderations", {}, 400, "invalid_request"],
    [
      "65 inputs",
      "/v1/moderations",
      { input: Array.from({ length: 65 }, () => "x") },
      400,
      "invalid_request",
    ],
    ["ids without a collection", "/v1/moderations", { input: "x", ids: ["a"] }, 400, "invalid_request"],
  ])("refuses %s with its documented problem", async (_name, path, body, status, code) => {
    const { key } = await createKey();
    await expectProblem(await call(key, "POST", path, body), status, code);
  });

  it("refuses examples naming a category the policy does not have, storing none", async () => {
    const { key } = await createKey();
    const policy = await newPolicy(key);
    const problem = await expectProblem(
      await call(key, "POST", `/v1/moderation/policies/${policy.id}/examples`, {
        examples: [
          { text: "x", categories: ["red"] },
          { text: "y", categories: ["blue"] },
        ],
      }),
      400,
      "invalid_request",
    );
    expect(problem.errors?.[0]?.pointer).toBe("/examples/1/categories/0");
    expect(await ok(await call(key, "GET", `/v1/moderation/policies/${policy.id}/examples`))).toMatchObject({
      total: 0,
    });
    await expectProblem(
      await call(key, "POST", `/v1/moderation/policies/${policy.id}/calibrate`),
      409,
      "not_enough_examples",
    );
  });
});
