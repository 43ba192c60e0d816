import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

// /docs is the app's own route. Its script and the playground are static assets, which this pool's Worker does not
// serve (a request for them reaches the app and is 404); they are checked where wrangler.toml's [assets] is served
// as `wrangler dev` serves it — Miniflare in test/browser/web-pages.test.ts, in a real Chromium.
describe("GET /docs", () => {
  it("renders the reference with its script from this origin, fonts and telemetry off", async () => {
    const page = await SELF.fetch("https://edge.test/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('src="/docs/standalone.js"');
    expect(html).toContain("/openapi.json");
    // Nothing the page loads names another host: no CDN script, stylesheet or font.
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).not.toMatch(/fonts\.googleapis|cdn\.jsdelivr|unpkg/);
  });
});
