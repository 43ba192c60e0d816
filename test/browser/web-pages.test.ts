// The playground (/) and the reference (/docs) in a real headless Chromium against the real local stack: a GPU
// service process and the Worker in workerd with its static assets. Every request the pages make must stay on
// loopback (the stack is offline, and a page that phones home would be a leak), and they must log no errors.
import { execFileSync } from "node:child_process";
import type { Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { artifactPath, chromiumAvailable, launchChromium, watchedPage } from "../support/browser.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";

const RED_CIRCLE = new URL("../../examples/red-circle.jpg", import.meta.url).pathname;

describe.runIf(chromiumAvailable())("the playground and /docs in Chromium", () => {
  let stack: EdgeStack;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    // The reference's script is a copied build artefact (npm test copies it too; a lone vitest run may not have).
    execFileSync(process.execPath, ["tools/docs-assets.ts"], { stdio: "inherit" });
    [stack, browser] = await Promise.all([startEdgeStack(), launchChromium()]);
    key = (stack.apiHeaders.authorization as string).replace(/^Bearer /, "");
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("classifies examples/red-circle.jpg with 'red circle' first, showing curl and SDK code", async () => {
    const { page, outside, errors } = await watchedPage(browser);
    // A phone-sized viewport: the page must work there.
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await page.goto(`${stack.edgeUrl}/`, { waitUntil: "networkidle0" });
    await page.type("#key", key);
    const input = await page.$("#photos");
    await input?.uploadFile(RED_CIRCLE);
    await page.$eval("#labels", (el) => {
      (el as unknown as { value: string }).value = "blue star\nred circle\nyellow square";
    });
    await page.click("#classify");
    await page.waitForSelector("#result .bar", { timeout: 60_000 });
    const ranked = await page.$$eval("#result .bar .label", (els) => els.map((e) => e.textContent));
    expect(ranked[0]).toBe("red circle");
    expect(ranked).toHaveLength(3);
    // The best label's bar is drawn, wide, at a phone's width (a layout that squeezes it to nothing fails here).
    const fill = await page.$eval(
      "#result .bar .fill",
      (e) => (e as unknown as { clientWidth: number }).clientWidth,
    );
    expect(fill).toBeGreaterThan(200);
    expect(await page.$eval("#status", (e) => e.textContent)).toMatch(/^200 /);
    expect(await page.$eval("#curl", (e) => e.textContent)).toContain("-F labels='red circle'");
    expect(await page.$eval("#sdk", (e) => e.textContent)).toContain("clip.classify(");
    // The key stays in the browser, in localStorage, for the next visit.
    expect(await page.evaluate(() => localStorage.getItem("clip-edge.playground.key"))).toBe(key);
    const screenshot = await artifactPath("playground-classify.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`playground screenshot: ${screenshot}`);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("captions the photo and draws one heatmap per label from /v1/explain's grid", async () => {
    const { page, outside, errors } = await watchedPage(browser);
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    await page.goto(`${stack.edgeUrl}/`, { waitUntil: "networkidle0" });
    await page.type("#key", key);
    await (await page.$("#photos"))?.uploadFile(RED_CIRCLE);
    await page.click("#captions");
    await page.waitForSelector("#result .bar", { timeout: 60_000 });
    expect(await page.$eval("#sdk", (e) => e.textContent)).toContain("clip.caption(");
    const captions = await page.$$eval("#result .bar .label", (els) => els.map((e) => e.textContent ?? ""));
    expect(captions.length).toBeGreaterThan(0);
    expect(captions[0]).toMatch(/red/);
    await page.click("#explain");
    await page.waitForSelector("#result figure canvas", { timeout: 90_000 });
    const figures = await page.$$eval("#result figure figcaption", (els) =>
      els.map((e) => e.textContent ?? ""),
    );
    expect(figures.map((f) => f.split(" · ")[0])).toEqual(["red circle", "blue star", "yellow square"]);
    // The overlays come from each label's own grid: the same photo under two labels' heatmaps differs.
    const drawn = await page.$$eval("#result figure canvas", (els) =>
      els.map((c) => (c as unknown as { toDataURL(): string }).toDataURL()),
    );
    expect(drawn).toHaveLength(3);
    expect(drawn[0]).not.toBe(drawn[1]);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("shows a bad file's problem code, the one the API gives for it", async () => {
    const form = new FormData();
    form.append("image", new Blob(["this is not a picture"], { type: "image/jpeg" }), "bad.jpg");
    form.append("labels", "red circle");
    const direct = await fetch(`${stack.edgeUrl}/v1/classify`, {
      method: "POST",
      headers: stack.apiHeaders,
      body: form,
    });
    const answer = (await direct.json()) as { code?: string; results?: { error?: { code: string } }[] };
    const expected = answer.code ?? answer.results?.[0]?.error?.code;
    expect(expected).toMatch(/^[a-z_]+$/);

    const { page, outside, errors } = await watchedPage(browser);
    await page.goto(`${stack.edgeUrl}/`, { waitUntil: "networkidle0" });
    await page.type("#key", key);
    const bad = await artifactPath("bad.jpg");
    await import("node:fs/promises").then((fs) => fs.writeFile(bad, "this is not a picture"));
    await (await page.$("#photos"))?.uploadFile(bad);
    await page.click("#classify");
    await page.waitForSelector("#error:not([hidden])", { timeout: 60_000 });
    expect(
      await page.$eval("#error", (e) => (e as unknown as { dataset: Record<string, string> }).dataset.code),
    ).toBe(expected);
    expect(outside).toEqual([]);
    // A 4xx answer is logged by Chromium as a failed resource load; the page itself must log nothing else.
    expect(errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });

  it("renders /docs from /openapi.json with assets from this server only", async () => {
    const { page, outside, errors } = await watchedPage(browser);
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${stack.edgeUrl}/docs`, { waitUntil: "networkidle0", timeout: 90_000 });
    // An operation summary exists only in the served document, so seeing it means the reference rendered it.
    // A string, not a function: the Node type check has no DOM types. It runs in the page.
    await page.waitForFunction('document.body.textContent.includes("Label images zero-shot")', {
      timeout: 90_000,
    });
    const screenshot = await artifactPath("docs.png");
    await page.screenshot({ path: screenshot });
    console.log(`docs screenshot: ${screenshot}`);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
