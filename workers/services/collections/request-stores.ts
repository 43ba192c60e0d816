import type { Context } from "hono";
import { waitUntilOf } from "../../context.ts";
import { ApiError } from "../../errors.ts";
import { type CollectionRow, CollectionStore, Refusal, SUPPORTED_DIMS } from "./collection-store.ts";
import { ItemStore } from "./item-store.ts";
import { openSqlClient } from "./sql-client.ts";

/** The stores a request uses, on one database client opened on first use and closed when the request is done. */
export interface RequestStores {
  collections: CollectionStore;
  items(collection: CollectionRow): ItemStore;
}

const OPEN = new WeakMap<Context, { stores: RequestStores; close(): Promise<void> }>();

export function storesOf(c: Context): RequestStores {
  let open = OPEN.get(c);
  if (!open) {
    const client = openSqlClient(c.env.HYPERDRIVE);
    const stores = {
      collections: new CollectionStore(client.sql),
      items: (row: CollectionRow) => new ItemStore(client.sql, row),
    };
    open = { stores, close: () => client.close() };
    OPEN.set(c, open);
  }
  return open.stores;
}

/**
 * Closes the request's database client, if it opened one, once the answer is on its way (its sockets belong to
 * this request, and Hyperdrive keeps the pool). The app's middleware calls it after every /v1 request.
 */
export function closeStores(c: Context): void {
  const open = OPEN.get(c);
  if (!open) return;
  OPEN.delete(c);
  waitUntilOf(c)(open.close());
}

/** The calling key's account's live collection of that name, served by this deployment's model; else 404 or 409. */
export async function collectionOf(c: Context, name: string): Promise<CollectionRow> {
  const collection = await storesOf(c).collections.get(c.get("apiKey").account, name);
  if (!collection) throw new ApiError("collection_not_found", `no collection "${name}" in this account`);
  const model = c.get("services").model;
  if (collection.model !== model.id || collection.dim !== model.embeddingDim)
    throw new ApiError(
      "model_mismatch",
      `collection "${name}" was made with ${collection.model} (${collection.dim}-d); this deployment serves ${model.id}`,
    );
  return collection;
}

/** Whether the served model's embeddings have a table to live in. */
export function modelCanStore(dim: number): boolean {
  return (SUPPORTED_DIMS as readonly number[]).includes(dim);
}

/** Runs a write on a collection; one deleted meanwhile (the store's "gone" refusal) is the API's 404. */
export async function whileLive<T>(name: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof Refusal && error.reason === "gone")
      throw new ApiError("collection_not_found", `collection "${name}" was deleted`);
    throw error;
  }
}
