import { describe, expect, it } from "vitest";
import { admin, createKey, edge, expectProblem, postJsonWith } from "../../test/support/workers/billing.ts";
import { shape } from "../../test/support/workers/worker.ts";

interface UsageReport {
  key_id: string;
  from: string;
  to: string;
  currency: string;
  data: {
    day: string;
    route: string;
    requests: number;
    images: number;
    texts_computed: number;
    texts_cached: number;
    cost_micros: number;
    cost: string;
  }[];
  totals: { requests: number; images: number; cost_micros: number; cost: string };
  quota: { period: string; images: { used: number; limit: number }; texts: { used: number; limit: number } };
}

describe("GET /v1/usage", () => {
  it("reports the calling key's usage by day and route, with costs and the month's quota, including the last request", async () => {
    const { key, id } = await createKey({ plan: "pro" });
    expect((await postJsonWith(key, "/v1/embeddings", { input: ["usage report text"] })).status).toBe(200);
    const classified = await postJsonWith(key, "/v1/classify", {
      images: [{ base64: shape("red circle").base64 }],
      labels: ["red circle", "blue star"],
      templates: ["a photo of a {}."],
    });
    expect(classified.status).toBe(200);

    const response = await edge("/v1/usage", { key });
    expect(response.status).toBe(200);
    const report = (await response.json()) as UsageReport;
    const today = new Date().toISOString().slice(0, 10);
    expect(report.key_id).toBe(id);
    expect(report.to).toBe(today);
    expect(report.data.map((d) => `${d.day} ${d.route}`)).toEqual([
      `${today} /v1/classify`,
      `${today} /v1/embeddings`,
    ]);
    const classify = report.data[0];
    expect(classify).toMatchObject({ requests: 1, images: 1 });
    expect(classify?.cost_micros).toBe(
      400 + 20 * (classify?.texts_computed ?? 0) + 5 * (classify?.texts_cached ?? 0),
    );
    expect(report.totals.requests).toBe(2);
    expect(report.totals.cost_micros).toBe(report.data.reduce((s, d) => s + d.cost_micros, 0));
    expect(report.totals.cost).toMatch(/^0\.\d{6}$/);
    expect(report.quota.images).toEqual({ used: 1, limit: 500_000 });
    expect(report.quota.period).toBe(today.slice(0, 7));

    // Reading the report is not billed.
    const again = (await (await edge("/v1/usage", { key })).json()) as UsageReport;
    expect(again.totals.requests).toBe(2);
  });

  it("filters by day and refuses what is not a day", async () => {
    const { key } = await createKey();
    const empty = (await (
      await edge("/v1/usage?from=2020-01-01&to=2020-01-31", { key })
    ).json()) as UsageReport;
    expect(empty).toMatchObject({ from: "2020-01-01", to: "2020-01-31", data: [] });
    await expectProblem(await edge("/v1/usage?from=last-week", { key }), 400, "invalid_request");
  });

  it("refuses a range that ends before it starts, as /admin/usage does", async () => {
    const { key } = await createKey();
    const inverted = "from=9999-12-31&to=0001-01-01";
    const own = await expectProblem(await edge(`/v1/usage?${inverted}`, { key }), 400, "invalid_request");
    const exported = await expectProblem(await admin(`/admin/usage?${inverted}`), 400, "invalid_request");
    expect(own.errors).toEqual([{ pointer: "/to", detail: "ends before from begins" }]);
    expect(exported.errors).toEqual(own.errors);
  });
});
