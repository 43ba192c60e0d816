/**
 * Writes small ONNX models from TypeScript: just the messages of onnx.proto a hand-built graph needs (ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto with raw or external data, ValueInfoProto, TypeProto,
 * OperatorSetIdProto). Field numbers are those of onnx/onnx.proto; nothing here knows about any operator.
 */
import { type Encoded, flatten, MessageWriter } from "./protobuf.ts";

/** TensorProto.DataType values used here. */
export const OnnxType = { float: 1, int32: 6, int64: 7, float16: 10 } as const;
export type OnnxTypeName = keyof typeof OnnxType;

/** Where an initializer's bytes are: in the model, or in a file beside it (ONNX "external data"). */
export type TensorData =
  | { kind: "raw"; bytes: Uint8Array }
  /** `location` is relative to the model file's folder; ONNX Runtime refuses paths that leave it. */
  | { kind: "external"; location: string; offset: number; length: number };

export interface TensorSpec {
  name: string;
  type: OnnxTypeName;
  dims: readonly number[];
  data: TensorData;
}

/** A dimension is a size, or a name for a size chosen at run time (e.g. "queries"). */
export type Dimension = number | string;

export interface ValueSpec {
  name: string;
  type: OnnxTypeName;
  shape: readonly Dimension[];
}

export type AttributeSpec =
  | { name: string; int: number }
  | { name: string; ints: readonly number[] }
  | { name: string; string: string };

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: readonly AttributeSpec[];
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
}

export interface ModelSpec {
  graph: GraphSpec;
  /** The default ("ai.onnx") operator set version the nodes are written for. */
  opset: number;
  /** ONNX IR version; 8 goes with opsets up to 18 and is read by every ONNX Runtime since 1.14. */
  irVersion?: number;
  producer?: string;
  /** Stored as metadata_props, readable through InferenceSession metadata. */
  metadata?: Readonly<Record<string, string>>;
  docString?: string;
}

// AttributeProto.AttributeType
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;
// TensorProto.DataLocation
const DATA_EXTERNAL = 1;

/**
 * Serialises a model to the bytes ONNX Runtime loads (`InferenceSession.create(bytes)`, or written to a `.onnx` file).
 *
 * @example
 * const bytes = encodeModel({
 *   opset: 17,
 *   graph: {
 *     name: "add-one",
 *     nodes: [{ op: "Add", inputs: ["x", "one"], outputs: ["y"] }],
 *     initializers: [{ name: "one", type: "float", dims: [1], data: { kind: "raw", bytes: new Uint8Array(Float32Array.of(1).buffer) } }],
 *     inputs: [{ name: "x", type: "float", shape: ["n"] }],
 *     outputs: [{ name: "y", type: "float", shape: ["n"] }],
 *   },
 * });
 */
export function encodeModel(spec: ModelSpec): Uint8Array {
  return flatten(modelMessage(spec));
}

/**
 * The model as chunks, for writing a large one to a file without first joining it into one buffer.
 *
 * @example for (const chunk of modelMessage(spec).chunks) file.write(chunk);
 */
export function modelMessage(spec: ModelSpec): Encoded {
  const model = new MessageWriter()
    .int(1, spec.irVersion ?? 8)
    .string(2, spec.producer ?? "clip-edge")
    .message(7, graphMessage(spec.graph))
    .message(8, new MessageWriter().string(1, "").int(2, spec.opset).finish());
  if (spec.docString) model.string(6, spec.docString);
  for (const [key, value] of Object.entries(spec.metadata ?? {}))
    model.message(14, new MessageWriter().string(1, key).string(2, value).finish());
  return model.finish();
}

function graphMessage(graph: GraphSpec): Encoded {
  const writer = new MessageWriter();
  for (const node of graph.nodes) writer.message(1, nodeMessage(node));
  writer.string(2, graph.name);
  for (const tensor of graph.initializers) writer.message(5, tensorMessage(tensor));
  for (const input of graph.inputs) writer.message(11, valueInfoMessage(input));
  for (const output of graph.outputs) writer.message(12, valueInfoMessage(output));
  return writer.finish();
}

function nodeMessage(node: NodeSpec): Encoded {
  const writer = new MessageWriter();
  for (const input of node.inputs) writer.string(1, input);
  for (const output of node.outputs) writer.string(2, output);
  writer.string(3, node.name ?? node.outputs[0] ?? node.op);
  writer.string(4, node.op);
  for (const attribute of node.attributes ?? []) writer.message(5, attributeMessage(attribute));
  return writer.finish();
}

function attributeMessage(attribute: AttributeSpec): Encoded {
  const writer = new MessageWriter().string(1, attribute.name);
  if ("int" in attribute) return writer.int(20, ATTRIBUTE_INT).int(3, attribute.int).finish();
  if ("ints" in attribute) return writer.int(20, ATTRIBUTE_INTS).packedInts(8, attribute.ints).finish();
  return writer.int(20, ATTRIBUTE_STRING).string(4, attribute.string).finish();
}

function tensorMessage(tensor: TensorSpec): Encoded {
  const writer = new MessageWriter()
    .packedInts(1, tensor.dims)
    .int(2, OnnxType[tensor.type])
    .string(8, tensor.name);
  const { data } = tensor;
  if (data.kind === "raw") return writer.bytes(9, data.bytes).finish();
  const entry = (key: string, value: string) => new MessageWriter().string(1, key).string(2, value).finish();
  return writer
    .message(13, entry("location", data.location))
    .message(13, entry("offset", String(data.offset)))
    .message(13, entry("length", String(data.length)))
    .int(14, DATA_EXTERNAL)
    .finish();
}

function valueInfoMessage(value: ValueSpec): Encoded {
  const shape = new MessageWriter();
  for (const dimension of value.shape) {
    const dim =
      typeof dimension === "number"
        ? new MessageWriter().int(1, dimension)
        : new MessageWriter().string(2, dimension);
    shape.message(1, dim.finish());
  }
  const tensorType = new MessageWriter().int(1, OnnxType[value.type]).message(2, shape.finish()).finish();
  const type = new MessageWriter().message(1, tensorType).finish();
  return new MessageWriter().string(1, value.name).message(2, type).finish();
}
