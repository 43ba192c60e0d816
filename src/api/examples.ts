/**
 * Examples for the OpenAPI document: what a request looks like and what it answers. The contract test validates
 * each against its schema and sends each request example to the Worker, so an example that drifts fails a test.
 */

/** A 48 × 48 PNG of a red circle on white (306 bytes), rendered here for the examples. */
export const EXAMPLE_IMAGE_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAADAAAAAwBAMAAAClLOS0AAAAMFBMVEXgICD////jMzP//f3vhobkOTnhJSXxmJj++Pj1trbvjY34zMzrbGznU1PnUVH4ysq/eS4fAAAACXBIWXMAAAsTAAALEwEAmpwYAAAAqElEQVQ4y2MQxAEYhp2EvZ9a0pPPmBLtCgxAwFSBLiEZwAAGrBNRJYQXMEABiyGKhA0DHBxGkXBASHAhS0gyIIGJSBKtyBIRSBIFyBLsCAlhBWQJJkO4hDwDCvgIlxBBlXCES8ihSlyESwihSijCJcRQJRIJS+A0CqflOJ2L5sGNhIMEZyDiDnacESW4AEfU4k4MOJMPzgSHO4kCE7WvWtKVz8M416IBAMEgS4KnMgSpAAAAAElFTkSuQmCC";

const usage = { images: 1, texts_computed: 6, texts_cached: 15 };

export const EXAMPLES = {
  classifyRequest: {
    images: [{ base64: EXAMPLE_IMAGE_BASE64 }],
    labels: ["red circle", "blue star", "yellow square"],
    top_k: 2,
  },
  classifyResponse: {
    model: "clip-edge/tiny-clip",
    preprocessing: "pil-exact-2+a6ecfc7f1c",
    provider: "gpu",
    results: [
      {
        labels: [
          { label: "red circle", score: 0.982, similarity: 0.311 },
          { label: "yellow square", score: 0.012, similarity: 0.158 },
        ],
      },
    ],
    usage,
  },
  embeddingsRequest: { input: ["a red circle", { image: { base64: EXAMPLE_IMAGE_BASE64 } }] },
  embeddingsResponse: {
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.0123, -0.0456, 0.0789] },
      { object: "embedding", index: 1, embedding: [0.0311, -0.0122, 0.0651] },
    ],
    model: "clip-edge/tiny-clip",
    preprocessing: "pil-exact-2+a6ecfc7f1c",
    usage: { images: 1, texts_computed: 1, texts_cached: 0 },
  },
  captionsRequest: { images: [{ base64: EXAMPLE_IMAGE_BASE64 }], top_k: 2 },
  captionsResponse: {
    model: "clip-edge/tiny-clip",
    preprocessing: "pil-exact-2+a6ecfc7f1c",
    results: [
      {
        captions: [
          { text: "a red circle", score: 0.324 },
          { text: "one red circle on a white background", score: 0.301 },
        ],
      },
    ],
    usage: { images: 1, texts_computed: 0, texts_cached: 0 },
  },
  model: {
    id: "openai/clip-vit-base-patch32",
    object: "model",
    embedding_dim: 512,
    context_length: 77,
    image_size: 224,
    logit_scale: 100,
    preprocessing: {
      version: "pil-exact-2+0d4f1c2a9e",
      settings: {
        crop_size: 224,
        do_center_crop: true,
        image_mean: [0.48145466, 0.4578275, 0.40821073],
        image_std: [0.26862954, 0.26130258, 0.27577711],
        resample: 3,
        size: { shortest_edge: 224 },
      },
    },
    vocabulary: { size: 49408, hash: "5d1f0c3e2b7a9c41" },
    recommended_upload: { min_short_side: 448, format: "jpeg" },
    caption_bank: { size: 10000 },
  },
  problem: {
    type: "https://clip-edge.dev/docs/errors#invalid_request",
    title: "The request does not match the schema",
    status: 400,
    detail: "/labels: send at least one label",
    code: "invalid_request",
    request_id: "req_4f1c2a9e0b7d4c3a",
    errors: [{ pointer: "/labels", detail: "send at least one label" }],
  },
} as const;
