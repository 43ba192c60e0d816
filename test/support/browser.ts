import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). puppeteer-core never downloads a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Whether the browser tests can run. Without Chromium they skip with a loud message, and under CI they fail
 * instead (unless .ci/run could not install it and said so): a green run must not hide that the pages were never opened in a browser.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  // .ci/run sets CHROMIUM_SKIP_OK only after apt failed, and has said so loudly itself.
  if (process.env.CI === "true" && process.env.CHROMIUM_SKIP_OK !== "1") throw new Error(message);
  console.warn(`\n${"!".repeat(message.length)}\n${message}\n${"!".repeat(message.length)}\n`);
  return false;
}

export const launchChromium = (): Promise<Browser> =>
  puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI has no user namespace for the sandbox; /dev/shm is small in containers.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
  });

export interface WatchedPage {
  page: Page;
  /** Requests to anything but loopback (or data:/blob:), each aborted before it left the machine. */
  outside: string[];
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * A page whose every request is checked: any to a non-loopback address is aborted and recorded. Each page has a
 * context of its own, so one test's localStorage (the playground keeps the key there) is not the next one's.
 */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await (await browser.createBrowserContext()).newPage();
  const outside: string[] = [];
  const errors: string[] = [];
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const url = new URL(request.url());
    const local = url.protocol === "data:" || url.protocol === "blob:" || LOOPBACK.has(url.hostname);
    if (local) return void request.continue();
    outside.push(request.url());
    return void request.abort("blockedbyclient");
  });
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${message.text()} (${message.location().url ?? ""})`);
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return { page, outside, errors };
}

/** Where screenshots go (git-ignored); CI keeps the folder as the run's artefacts. */
export async function artifactPath(name: string): Promise<string> {
  const dir = new URL("../../test-artifacts/", import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  return `${dir}${name}`;
}
