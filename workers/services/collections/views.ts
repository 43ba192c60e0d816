import type { Collection } from "../../../src/api/collections.ts";
import { decodeBase64, encodeBase64 } from "../../../src/encoding/base64.ts";
import type { CollectionRow } from "./collection-store.ts";

/** A collection as the API shows it (its internal id stays inside). */
export function collectionView(row: CollectionRow): Collection {
  return {
    object: "collection",
    name: row.name,
    description: row.description,
    model: row.model,
    dim: row.dim,
    count: row.count,
    created: row.created,
  };
}

export const COLLECTION_EXAMPLE: Collection = {
  object: "collection",
  name: "camera-roll",
  description: "My camera roll",
  model: "clip-edge/tiny-clip",
  dim: 128,
  count: 0,
  created: "2026-12-01T09:00:00.000Z",
};

/**
 * An opaque cursor from the last name or id of a page: its UTF-8 in base64url (no `+` or `/` for a client to forget to
 * escape in a query string). At most 684 characters, for an id of 128 four-byte characters.
 */
export const encodeCursor = (last: string) =>
  encodeBase64(new TextEncoder().encode(last)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** The name or id a cursor holds, or undefined for one this API did not return (`valid` checks what it decodes to). */
export function decodeCursor(cursor: string, valid: (last: string) => boolean): string | undefined {
  const bytes = decodeBase64(cursor);
  if (!bytes) return undefined;
  try {
    const last = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return valid(last) ? last : undefined;
  } catch {
    return undefined;
  }
}
