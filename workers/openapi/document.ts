import packageJson from "../../package.json" with { type: "json" };
import type { App } from "../context.ts";
import { DESCRIPTION } from "./components.ts";
import { MOBILE_SNIPPETS } from "./mobile-snippets.ts";

export type Server = { url: string; description: string };

/** Where the API is served; the live document lists the origin that served it first. */
export const SERVERS: readonly Server[] = [
  { url: "https://api.clip-edge.dev", description: "Production" },
  { url: "http://127.0.0.1:8787", description: "The local stack (`npm start`)" },
];

const TAGS = [
  { name: "Vision", description: "Labels, captions and embeddings of images and texts." },
  { name: "Collections", description: "An account's own images, texts and vectors, searched by similarity." },
  { name: "Label sets", description: "Label lists embedded once and saved, for classify without text work." },
  { name: "Moderation", description: "Policies of concept texts, calibrated on your own labelled examples." },
  { name: "Account", description: "The calling key's model and usage." },
  { name: "Admin", description: "Keys and the billing export, with the deployment's admin token." },
  { name: "Meta", description: "Health and this document." },
];

type Document = ReturnType<App["getOpenAPI31Document"]>;
const cache = new WeakMap<App, Document>();

/**
 * The OpenAPI 3.1 document of every route the app registered (each route file declares its own), generated once
 * per app. `npm run openapi` writes it to docs/openapi.json; `GET /openapi.json` serves it.
 */
export function openApiDocument(app: App): Document {
  const cached = cache.get(app);
  if (cached) return cached;
  const document = app.getOpenAPI31Document(
    {
      openapi: "3.1.0",
      info: {
        title: "clip-edge",
        version: packageJson.version,
        description: `${DESCRIPTION}\n\n${MOBILE_SNIPPETS}`,
      },
      servers: [...SERVERS],
      tags: TAGS,
    },
    { unionPreferredType: "oneOf" },
  );
  cache.set(app, document);
  return document;
}
