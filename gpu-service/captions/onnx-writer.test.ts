import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { encodeModel, type ModelSpec } from "./onnx-writer.ts";
import { flatten, MessageWriter, varint } from "./protobuf.ts";

const floats = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe("protobuf wire format", () => {
  it("writes varints as protobuf does, negatives as ten-byte two's complement", () => {
    expect([...varint(0)]).toEqual([0]);
    expect([...varint(300)]).toEqual([0xac, 0x02]);
    expect([...varint(2 ** 40)]).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    expect([...varint(-1)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => varint(2 ** 60)).toThrow(RangeError);
  });

  it("nests messages behind a tag and a length without copying the payload", () => {
    const payload = new Uint8Array([1, 2, 3]);
    const inner = new MessageWriter().bytes(9, payload).finish();
    const outer = new MessageWriter().int(1, 150).message(5, inner).finish();
    expect(outer.chunks).toContain(payload);
    // field 1 varint 150; field 5 length 5: field 9 length 3 payload
    expect([...flatten(outer)]).toEqual([0x08, 0x96, 0x01, 0x2a, 0x05, 0x4a, 0x03, 1, 2, 3]);
  });
});

describe("ONNX models written here load and run in ONNX Runtime", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  const run = async (
    spec: ModelSpec,
    feeds: Record<string, Tensor>,
    options: InferenceSession.SessionOptions = {},
  ) => {
    const session = await InferenceSession.create(encodeModel(spec), {
      executionProviders: ["cpu"],
      ...options,
    });
    try {
      return await session.run(feeds);
    } finally {
      await session.release();
    }
  };

  it("an initializer with raw data, named dimensions and an int attribute", async () => {
    const out = await run(
      {
        opset: 17,
        metadata: { purpose: "test" },
        docString: "adds one, then flattens",
        graph: {
          name: "add_one",
          nodes: [
            { op: "Add", inputs: ["x", "one"], outputs: ["y"] },
            { op: "Flatten", inputs: ["y"], outputs: ["z"], attributes: [{ name: "axis", int: 0 }] },
          ],
          initializers: [{ name: "one", type: "float", dims: [1], data: { kind: "raw", bytes: floats(1) } }],
          inputs: [{ name: "x", type: "float", shape: ["rows", 2] }],
          outputs: [{ name: "z", type: "float", shape: [1, "n"] }],
        },
      },
      { x: new Tensor("float32", Float32Array.of(1, 2, 3, 4), [2, 2]) },
    );
    expect(out.z?.dims).toEqual([1, 4]);
    expect(Array.from(out.z?.data as Float32Array)).toEqual([2, 3, 4, 5]);
  });

  it("ints and string attributes, int64 inputs and negative ints", async () => {
    const out = await run(
      {
        opset: 17,
        graph: {
          name: "transpose_then_pad",
          nodes: [
            { op: "Transpose", inputs: ["x"], outputs: ["t"], attributes: [{ name: "perm", ints: [1, 0] }] },
            {
              op: "Pad",
              inputs: ["t", "pads"],
              outputs: ["p"],
              attributes: [{ name: "mode", string: "edge" }],
            },
            {
              op: "ReduceSum",
              inputs: ["p", "axes"],
              outputs: ["s"],
              attributes: [{ name: "keepdims", int: 0 }],
            },
          ],
          initializers: [
            {
              name: "axes",
              type: "int64",
              dims: [1],
              data: { kind: "raw", bytes: new Uint8Array(BigInt64Array.of(-1n).buffer) },
            },
          ],
          inputs: [
            { name: "x", type: "float", shape: [2, 3] },
            { name: "pads", type: "int64", shape: [4] },
          ],
          outputs: [{ name: "s", type: "float", shape: [3] }],
        },
      },
      {
        x: new Tensor("float32", Float32Array.of(1, 2, 3, 10, 20, 30), [2, 3]),
        pads: new Tensor("int64", BigInt64Array.of(0n, 1n, 0n, 0n), [4]),
      },
    );
    // transposed rows [1,10] [2,20] [3,30], each padded on the left by its edge value, then summed
    expect(Array.from(out.s?.data as Float32Array)).toEqual([12, 24, 36]);
  });

  it("external data: a float16 initializer read from a file at an offset, found through the session's folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "onnx-writer-"));
    dirs.push(dir);
    const halves = Uint16Array.of(0x1234, 0x3c00, 0x4000, 0x4200); // junk, then 1, 2, 3
    await writeFile(join(dir, "weights.bin"), new Uint8Array(halves.buffer));
    const spec: ModelSpec = {
      opset: 17,
      graph: {
        name: "external",
        nodes: [
          { op: "Cast", inputs: ["w"], outputs: ["w32"], attributes: [{ name: "to", int: 1 }] },
          { op: "Mul", inputs: ["x", "w32"], outputs: ["y"] },
        ],
        initializers: [
          {
            name: "w",
            type: "float16",
            dims: [3],
            data: { kind: "external", location: "weights.bin", offset: 2, length: 6 },
          },
        ],
        inputs: [{ name: "x", type: "float", shape: [3] }],
        outputs: [{ name: "y", type: "float", shape: [3] }],
      },
    };
    const out = await run(
      spec,
      { x: new Tensor("float32", Float32Array.of(5, 5, 5), [3]) },
      { extra: { session: { model_external_initializers_file_folder_path: dir } } },
    );
    expect(Array.from(out.y?.data as Float32Array)).toEqual([5, 10, 15]);
    // …and ORT refuses the model when the folder does not hold the file.
    await expect(
      InferenceSession.create(encodeModel(spec), {
        extra: { session: { model_external_initializers_file_folder_path: tmpdir() } },
      }),
    ).rejects.toThrow();
  });
});
