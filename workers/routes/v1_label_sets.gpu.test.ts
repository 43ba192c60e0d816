// Saved label sets end to end inside workerd: the real routes, D1, R2 and the build queue's real consumer, the real
// GPU tier for the texts; every answer is also checked against the OpenAPI document (edge → checkContract).
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { call, committed, createKey, edge, expectProblem, ok } from "../../test/support/workers/billing.ts";
import { allLabels, shape } from "../../test/support/workers/worker.ts";

type Json = Record<string, unknown>;
type Ranked = { results: { labels: { label: string; score: number; similarity: number }[] }[]; usage: Json };

const images = () => [{ base64: shape("red circle").base64 }, { base64: shape("blue star").base64 }];

/** Each image's labels by name: score and similarity, whatever their order. */
const byLabel = (answer: Ranked) =>
  answer.results.map((r) => Object.fromEntries(r.labels.map((l) => [l.label, [l.score, l.similarity]])));

describe("label sets", () => {
  it("classifies with a saved set exactly as with the same labels inline, with no text work", async () => {
    const { key } = await createKey({ plan: "wide" });
    const labels = allLabels().slice(0, 12);
    const templates = ["a photo of a {}.", "a drawing of a {}."];
    const created = await ok<Json>(
      await call(key, "POST", "/v1/label-sets", { name: "shapes", labels, templates }),
      201,
    );
    expect(created).toMatchObject({ object: "label_set", status: "ready", labels, templates });
    expect(created.usage).toMatchObject({ texts_computed: expect.any(Number), images: 0 });
    const usage = created.usage as { texts_computed: number; texts_cached: number };
    expect(usage.texts_computed + usage.texts_cached).toBe(labels.length * templates.length);

    const inline = await ok<Ranked>(
      await call(key, "POST", "/v1/classify", { images: images(), labels, templates }),
    );
    const saved = await ok<Ranked>(
      await call(key, "POST", "/v1/classify", { images: images(), label_set: created.id }),
    );
    expect(byLabel(saved)).toEqual(byLabel(inline));
    expect(saved.results[0]?.labels[0]?.label).toBe("red circle");
    expect(saved.usage).toEqual({ images: 2, texts_computed: 0, texts_cached: 0 });

    const form = new FormData();
    form.append(
      "image",
      new Blob([Uint8Array.from(atob(shape("blue star").base64), (ch) => ch.charCodeAt(0))]),
      "s.png",
    );
    form.append("label_set", created.id as string);
    form.append("top_k", "3");
    const multipart = await ok<Ranked>(
      await edge("/v1/classify", { key, init: { method: "POST", body: form } }),
    );
    expect(multipart.results[0]?.labels).toEqual(saved.results[1]?.labels.slice(0, 3));

    const got = await ok<Json>(await call(key, "GET", `/v1/label-sets/${created.id}`));
    expect(got).toMatchObject({ id: created.id, labels, status: "ready", usage: { texts_computed: 0 } });
    const list = await ok<{ data: Json[] }>(await call(key, "GET", "/v1/label-sets"));
    expect(list.data).toEqual([expect.objectContaining({ id: created.id, label_count: 12 })]);
    expect(await ok(await call(key, "DELETE", `/v1/label-sets/${created.id}`))).toMatchObject({ deleted: 1 });
    await expectProblem(
      await call(key, "POST", "/v1/classify", { images: images(), label_set: created.id }),
      404,
      "label_set_not_found",
    );
    await expectProblem(
      await call(key, "DELETE", `/v1/label-sets/${created.id}`),
      404,
      "label_set_not_found",
    );
  });

  it("builds a set too large for its request in the background, then bills what it embedded", async () => {
    // A default plan: the queue's consumer runs with the deployment's plans, not the billing tests' own.
    const { key, id: keyId } = await createKey({ plan: "pro" });
    // 300 labels × 7 templates = 2,100 prompts: over the 2,048 embedded within a request.
    const labels = Array.from(
      { length: 300 },
      (_, i) => `${allLabels()[i % allLabels().length]} number ${i}`,
    );
    const accepted = await ok<Json>(await call(key, "POST", "/v1/label-sets", { name: "big", labels }), 202);
    expect(accepted).toMatchObject({ status: "building", usage: { texts_computed: 0, texts_cached: 0 } });
    const path = `/v1/label-sets/${accepted.id}`;
    // The real consumer builds it; wait for its work, not for a time.
    await vi.waitFor(
      async () => expect((await ok<Json>(await call(key, "GET", path))).status).not.toBe("building"),
      { timeout: 120_000, interval: 500 },
    );
    expect(await ok<Json>(await call(key, "GET", path))).toMatchObject({ status: "ready", labels });
    const inline = await ok<Ranked>(
      await call(key, "POST", "/v1/classify", { images: images(), labels, top_k: 5 }),
    );
    const saved = await ok<Ranked>(
      await call(key, "POST", "/v1/classify", { images: images(), label_set: accepted.id, top_k: 5 }),
    );
    expect(saved.results).toEqual(inline.results);
    const build = (await committed(keyId)).records.filter((r) => r.route === "/v1/label-sets");
    // The creating request (no units) and the build's record (its texts, no request).
    expect(build.map((r) => r.requests).sort()).toEqual([0, 1]);
    expect(build.reduce((t, r) => t + r.texts_computed + r.texts_cached, 0)).toBe(2_100);
  });

  it("keeps accounts apart: another account's key sees 404 for the set, everywhere", async () => {
    const [mine, theirs] = [(await createKey()).key, (await createKey()).key];
    const created = await ok<Json>(
      await call(mine, "POST", "/v1/label-sets", { name: "n", labels: ["a", "b"] }),
      201,
    );
    const path = `/v1/label-sets/${created.id}`;
    await expectProblem(await call(theirs, "GET", path), 404, "label_set_not_found");
    await expectProblem(await call(theirs, "DELETE", path), 404, "label_set_not_found");
    await expectProblem(
      await call(theirs, "POST", "/v1/classify", { images: images(), label_set: created.id }),
      404,
      "label_set_not_found",
    );
    expect((await ok<{ data: Json[] }>(await call(theirs, "GET", "/v1/label-sets"))).data).toEqual([]);
    await ok(await call(mine, "GET", path));
  });

  it("never lets racing creates pass the plan's set limit; refuses a set over its labels limit", async () => {
    const { key } = await createKey({ plan: "tiny" }); // 2 sets of at most 4 labels, 10 texts a month
    const answers = await Promise.all(
      ["a", "b", "c", "d"].map((name) =>
        call(key, "POST", "/v1/label-sets", { name, labels: [name], templates: ["{}"] }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(2);
    for (const refused of answers.filter((a) => a.status !== 201))
      await expectProblem(refused, 409, "storage_limit_reached");
    expect((await ok<{ data: Json[] }>(await call(key, "GET", "/v1/label-sets"))).data).toHaveLength(2);
    const other = await createKey({ plan: "tiny" });
    await expectProblem(
      await call(other.key, "POST", "/v1/label-sets", {
        name: "x",
        labels: ["1", "2", "3", "4", "5"],
        templates: ["{}"],
      }),
      409,
      "storage_limit_reached",
    );
  });

  it("refuses a set its quota cannot embed, leaving nothing behind and billing nothing", async () => {
    const { key, id } = await createKey({ plan: "tiny" }); // 10 texts a month
    await expectProblem(
      await call(key, "POST", "/v1/label-sets", { name: "x", labels: ["a", "b"] }), // 2 × 7 prompts
      429,
      "quota_exceeded",
    );
    expect((await ok<{ data: Json[] }>(await call(key, "GET", "/v1/label-sets"))).data).toEqual([]);
    expect((await committed(id)).month).toMatchObject({ texts: 0 });
  });

  it.each([
    ["an unknown set", { label_set: "ls_000000000000000000000000" }, 404, "label_set_not_found"],
    ["a malformed set id", { label_set: "nope" }, 400, "invalid_request"],
    ["labels and a set", { label_set: "ls_000000000000000000000000", labels: ["a"] }, 400, "invalid_request"],
    [
      "templates with a set",
      { label_set: "ls_000000000000000000000000", templates: ["{}"] },
      400,
      "invalid_request",
    ],
    ["neither labels nor a set", {}, 400, "invalid_request"],
  ])("classify refuses %s with its documented problem", async (_name, fields, status, code) => {
    const { key } = await createKey();
    await expectProblem(
      await call(key, "POST", "/v1/classify", { images: images(), ...fields }),
      status,
      code,
    );
  });

  it.each([
    ["no labels", { name: "x", labels: [] }],
    ["2,001 labels", { name: "x", labels: Array.from({ length: 2001 }, (_, i) => `l${i}`) }],
    ["an empty name", { name: " ", labels: ["a"] }],
    ["a template without {}", { name: "x", labels: ["a"], templates: ["a photo"] }],
    ["an unknown field", { name: "x", labels: ["a"], extra: 1 }],
  ])("creation refuses %s (400)", async (_name, body) => {
    const { key } = await createKey();
    await expectProblem(await call(key, "POST", "/v1/label-sets", body), 400, "invalid_request");
  });

  it("refuses another model's set (409 model_mismatch) and one not built yet (409 label_set_not_ready)", async () => {
    const { key, account } = await createKey();
    const insert = (id: string, model: string, dim: number, status: string) =>
      env.DB.prepare(
        `INSERT INTO label_sets (id, account, name, model, dim, labels, templates, label_count, status, created_at, updated_at)
         VALUES (?1, ?2, 'n', ?3, ?4, '["a"]', '["{}"]', 1, ?5, ?6, ?6)`,
      )
        .bind(id, account, model, dim, status, Date.now())
        .run();
    const served = (
      await ok<{ data: { id: string; embedding_dim: number }[] }>(await call(key, "GET", "/v1/models"))
    ).data[0];
    await insert("ls_111111111111111111111111", "openai/clip-vit-base-patch32", 512, "ready");
    await insert(
      "ls_222222222222222222222222",
      served?.id as string,
      served?.embedding_dim as number,
      "building",
    );
    await expectProblem(
      await call(key, "POST", "/v1/classify", { images: images(), label_set: "ls_111111111111111111111111" }),
      409,
      "model_mismatch",
    );
    const notReady = await call(key, "POST", "/v1/classify", {
      images: images(),
      label_set: "ls_222222222222222222222222",
    });
    expect(notReady.headers.get("retry-after")).toBe("5");
    await expectProblem(notReady, 409, "label_set_not_ready");
  });
});
