import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CountingServer, selfSignedCertificate, startHttpsServer } from "./tls-server.ts";

/** The address the image host listens on: loopback, but no hosts-file name points there. */
export const IMAGE_HOST_ADDRESS = "127.0.0.2";
/** The name its URLs use: a reserved test TLD (RFC 2606) that only the test GPU process resolves, to the address. */
export const IMAGE_HOST_NAME = "images.test";

/** What a test GPU process needs to reach the image host (test/support/gpu-test-main.ts). */
export interface TestImageHost {
  name: string;
  address: string;
  /** A PEM file with the host's certificate (SAN `DNS:images.test`): the only one that fetcher trusts. */
  caFile: string;
}

export interface ImageHost extends TestImageHost {
  server: CountingServer;
  /** `https://images.test:<port><path>`. */
  url(path?: string): string;
  /**
   * Plain-HTTP control of held downloads, for tests inside workerd (which cannot trust the test certificate):
   * `GET /held/<id>` answers 200 once a download of `/held/<id>.jpg` is waiting, `POST /release/<id>` lets it go.
   */
  controlUrl: string;
  close(): Promise<void>;
}

/**
 * A real HTTPS server standing in for a public image host, for tests of image URLs through the whole stack. Its URLs
 * name `images.test`, which passes the edge's text check like any public name; only a GPU process started with
 * `startGpuProcess(env, { imageHost })` resolves it (to 127.0.0.2) and trusts that one address
 * and certificate — through code injected by the test entry point, never through the environment, so nothing an
 * operator can configure opens loopback. Paths: /red.jpg (the given image), /short (302 → /red.jpg), /page.html
 * (HTML), /missing.jpg (404), /loop/N (endless redirects), /to-http (redirect to http), /huge (declares 11 MiB),
 * /held/<id>.jpg (the image, once the test releases it through `controlUrl`).
 */
export async function startImageHost(image: Uint8Array): Promise<ImageHost> {
  const held = new Map<string, { waiting: boolean; release: () => void; released: Promise<void> }>();
  const hold = (id: string) => {
    let entry = held.get(id);
    if (!entry) {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      entry = { waiting: false, release, released };
      held.set(id, entry);
    }
    return entry;
  };
  const certificate = selfSignedCertificate([], [IMAGE_HOST_NAME]);
  const dir = mkdtempSync(join(tmpdir(), "clip-edge-image-host-"));
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, certificate.cert);
  const server = await startHttpsServer(
    certificate,
    (request, response) => {
      const path = request.url ?? "/";
      const loop = /^\/loop\/(\d+)$/.exec(path);
      const heldId = /^\/held\/([\w-]+)\.jpg$/.exec(path)?.[1];
      if (heldId) {
        const entry = hold(heldId);
        entry.waiting = true;
        void entry.released.then(() => response.writeHead(200, { "content-type": "image/jpeg" }).end(image));
        return;
      }
      if (path === "/red.jpg") response.writeHead(200, { "content-type": "image/jpeg" }).end(image);
      else if (path === "/short") response.writeHead(302, { location: "/red.jpg" }).end();
      else if (path === "/page.html")
        response.writeHead(200, { "content-type": "image/jpeg" }).end("<!doctype html><p>hi</p>");
      else if (path === "/to-http")
        response.writeHead(302, { location: `http://${IMAGE_HOST_NAME}/red.jpg` }).end();
      else if (path === "/huge")
        response.writeHead(200, { "content-length": String(11 * 1024 * 1024) }).end();
      else if (loop) response.writeHead(301, { location: `/loop/${Number(loop[1]) + 1}` }).end();
      else response.writeHead(404).end("not found");
    },
    IMAGE_HOST_ADDRESS,
  );
  const control: Server = createServer((request, response) => {
    const [, verb, id = ""] = /^\/(held|release)\/([\w-]+)$/.exec(request.url ?? "") ?? [];
    if (verb === "held") response.writeHead(held.get(id)?.waiting ? 200 : 404).end();
    else if (verb === "release" && request.method === "POST") {
      hold(id).release();
      response.writeHead(204).end();
    } else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => control.listen(0, IMAGE_HOST_ADDRESS, resolve));
  const controlPort = (control.address() as AddressInfo).port;
  return {
    name: IMAGE_HOST_NAME,
    address: IMAGE_HOST_ADDRESS,
    server,
    caFile,
    url: (path = "") => `https://${IMAGE_HOST_NAME}:${server.port}${path}`,
    controlUrl: `http://${IMAGE_HOST_ADDRESS}:${controlPort}`,
    close: async () => {
      for (const entry of held.values()) entry.release();
      await new Promise<void>((resolve) => control.close(() => resolve()));
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
