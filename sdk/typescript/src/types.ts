// Request and response types per operation, read from the generated OpenAPI types so they follow the document.
import type { components, operations } from "./generated/openapi.gen.ts";
import type { ImageSource } from "./images.ts";

export type Schemas = components["schemas"];
export type OperationId = keyof operations;
type Op<K extends OperationId> = operations[K];

/** The JSON body an operation accepts. */
export type JsonBody<K extends OperationId> =
  Op<K> extends {
    requestBody?: { content: { "application/json": infer B } };
  }
    ? B
    : never;

/** The JSON answer of an operation's success status (200, 201 or 202). */
export type Answer<K extends OperationId> = Op<K>["responses"] extends infer R
  ? R extends { 200: { content: { "application/json": infer A } } }
    ? A
    : R extends { 201: { content: { "application/json": infer A } } }
      ? A | (R extends { 202: { content: { "application/json": infer B } } } ? B : never)
      : never
  : never;

/** An operation's query parameters ({} when it has none). */
export type Query<K extends OperationId> = Op<K>["parameters"] extends { query?: infer Q }
  ? Q extends undefined
    ? Record<never, never>
    : NonNullable<Q>
  : Record<never, never>;

/**
 * A request body where every `image` / `images` field also takes an ImageSource (Blob, bytes, base64, {url}); the
 * SDK turns it into the document's `{ base64 } | { url }`.
 */
export type WithImages<T> = T extends readonly (infer E)[]
  ? WithImages<E>[]
  : T extends object
    ? {
        [K in keyof T]: K extends "image"
          ? ImageSource | Extract<T[K], undefined>
          : K extends "images"
            ? ImageSource[] | Extract<T[K], undefined>
            : WithImages<T[K]>;
      }
    : T;
