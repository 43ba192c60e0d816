import type { Collection } from "../../../src/api/collections.ts";
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

/** An opaque cursor from the last name or id of a page, and back. */
export const encodeCursor = (last: string) => btoa(String.fromCodePoint(...new TextEncoder().encode(last)));
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(atob(cursor), (ch) => ch.charCodeAt(0)),
    );
  } catch {
    return undefined;
  }
}
