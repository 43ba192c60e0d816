import { API_LIMITS, type ImageInput } from "../../src/api/index.ts";
import { ApiError } from "../errors.ts";
import type { ImageSource } from "../services/images/resolve-images.ts";

/** JSON image inputs as sources, each remembering its pointer (e.g. /images/2) for error messages. */
export function imageSources(inputs: readonly ImageInput[], pointer: (i: number) => string): ImageSource[] {
  // The schema let through exactly one of the two.
  return inputs.map((input, i) =>
    input.base64 !== undefined
      ? { kind: "base64", text: input.base64, pointer: `${pointer(i)}/base64` }
      : { kind: "url", url: input.url ?? "", pointer: `${pointer(i)}/url` },
  );
}

export interface MultipartImagesAndFields {
  images: ImageSource[];
  /** Every non-file field, by name, in order. */
  fields: Map<string, string[]>;
}

/** Reads a multipart body: `image` (or `images`) file fields, everything else as text fields. */
export async function readMultipart(
  bytes: Uint8Array,
  contentType: string,
): Promise<MultipartImagesAndFields> {
  let form: FormData;
  try {
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": contentType },
    }).formData();
  } catch (error) {
    throw new ApiError(
      "invalid_multipart",
      `the multipart body could not be parsed: ${(error as Error).message}`,
    );
  }
  const images: ImageSource[] = [];
  const fields = new Map<string, string[]>();
  for (const [name, value] of form.entries()) {
    if (typeof value !== "string") {
      if (name !== "image" && name !== "images")
        throw new ApiError("invalid_request", `file field "${name}" is not accepted; send images as "image"`);
      images.push({
        kind: "bytes",
        bytes: new Uint8Array(await value.arrayBuffer()),
        pointer: `/image/${images.length}`,
      });
      continue;
    }
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  return { images, fields };
}

/** A list field given either as repeated fields or as one JSON array. */
export function listField(fields: Map<string, string[]>, name: string): string[] | undefined {
  const values = fields.get(name);
  if (!values) return undefined;
  if (values.length === 1 && values[0]?.trimStart().startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(values[0]);
      if (Array.isArray(parsed) && parsed.every((v) => typeof v === "string")) return parsed;
    } catch {
      // Not JSON after all: a label may well start with "[".
    }
  }
  return values;
}

/** An integer field, or a pointed error. */
export function integerField(fields: Map<string, string[]>, name: string): number | undefined {
  const value = fields.get(name)?.[0];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new ApiError("invalid_request", `${name} must be an integer`, {
      errors: [{ pointer: `/${name}`, detail: "must be an integer" }],
    });
  return n;
}

/** The multipart checks JSON bodies get from the schema: known fields only, 1–16 images. */
export function checkMultipart(
  { images, fields }: MultipartImagesAndFields,
  allowedFields: readonly string[],
): void {
  const unknown = [...fields.keys()].filter((name) => !allowedFields.includes(name));
  if (unknown.length)
    throw new ApiError(
      "invalid_request",
      `unknown field${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`,
    );
  if (images.length === 0 || images.length > API_LIMITS.maxImages) {
    throw new ApiError("invalid_request", `send 1 to ${API_LIMITS.maxImages} "image" file fields`, {
      errors: [{ pointer: "/image", detail: `got ${images.length}` }],
    });
  }
}
