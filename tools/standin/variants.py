"""Writes the stand-in's fp16 and int8 encoders beside the fp32 ones, under the names the Xenova layout gives them.

Called by tools/standin/build.ts after export.py. Debian's onnx 1.12 has no float16 converter and no quantizer, and
onnxruntime's Python tools cannot be installed here, so both rewrites are done with onnx's helper API alone, into
the graph shapes those tools emit, because those are the files a real Hub folder holds and our loader and
Transformers.js meet:

- `onnx/<name>_fp16.onnx` (Transformers.js dtype "fp16"): every float tensor is float16 but the graph's own inputs and
  outputs stay float32, with a Cast at each boundary (onnxconverter-common's `keep_io_types=True`, which
  Transformers.js's scripts/quantize.py passes). Callers feed and read float32 at every precision. On an x86 CPU,
  onnxruntime has few float16 kernels: it casts around the rest and folds the weights back to float32 at load, so
  this file is half the size but no faster there; it is for GPUs.
- `onnx/<name>_quantized.onnx` (dtype "q8"): onnxruntime's `quantize_dynamic` shape. Each MatMul whose second
  input is a float32 initializer becomes DynamicQuantizeLinear(A) -> MatMulInteger(A_q, W_q, A_zp, W_zp) ->
  Cast(float) -> Mul(A_scale * W_scale); ORT fuses that chain into one integer kernel on the CPU. Weights are int8,
  symmetric, one scale per output column. The token table becomes an int8 Gather followed by DequantizeLinear, as
  quantize_dynamic writes it. The patch Conv (2% of the vision weights) and the position embeddings stay float32;
  Xenova's files also turn the Conv into ConvInteger.

Each file is written under a temporary name and renamed, so a reader never sees half a model.

Usage: python3 tools/standin/variants.py OUT_DIR
"""
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ENCODERS = ("vision_model", "text_model")
FLOAT16_MAX = float(np.finfo(np.float16).max)


def to_float16(model):
    """The model with float16 arithmetic and float32 inputs and outputs."""
    graph = model.graph
    for i, tensor in enumerate(graph.initializer):
        if tensor.data_type == TensorProto.FLOAT:
            graph.initializer[i].CopyFrom(half_tensor(tensor))
    for node in graph.node:
        for attribute in node.attribute:
            # Constant and ConstantOfShape carry their value as a tensor attribute (the text mask's -inf included).
            if attribute.type == onnx.AttributeProto.TENSOR and attribute.t.data_type == TensorProto.FLOAT:
                attribute.t.CopyFrom(half_tensor(attribute.t))
            if node.op_type == "Cast" and attribute.name == "to" and attribute.i == TensorProto.FLOAT:
                attribute.i = TensorProto.FLOAT16
    for info in graph.value_info:
        if info.type.tensor_type.elem_type == TensorProto.FLOAT:
            info.type.tensor_type.elem_type = TensorProto.FLOAT16

    boundary = []
    for graph_input in graph.input:
        if graph_input.type.tensor_type.elem_type == TensorProto.FLOAT:
            inner = f"{graph_input.name}_fp16"
            rename_uses(graph, graph_input.name, inner)
            boundary.append(helper.make_node("Cast", [graph_input.name], [inner], to=TensorProto.FLOAT16,
                                             name=f"{graph_input.name}_to_fp16"))
    for graph_output in graph.output:
        if graph_output.type.tensor_type.elem_type == TensorProto.FLOAT:
            inner = f"{graph_output.name}_fp16"
            rename_uses(graph, graph_output.name, inner)
            for node in graph.node:
                node.output[:] = [inner if name == graph_output.name else name for name in node.output]
            graph.node.append(helper.make_node("Cast", [inner], [graph_output.name], to=TensorProto.FLOAT,
                                               name=f"{graph_output.name}_to_fp32"))
    # The input casts must come first: the graph's nodes are kept in topological order.
    nodes = boundary + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def half_tensor(tensor):
    # Clipped so a large weight saturates at float16's maximum instead of becoming infinite; -inf stays -inf.
    array = numpy_helper.to_array(tensor)
    finite = np.isfinite(array)
    array = np.where(finite, np.clip(array, -FLOAT16_MAX, FLOAT16_MAX), array).astype(np.float16)
    return numpy_helper.from_array(array, tensor.name)


def rename_uses(graph, old, new):
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]


def quantize_dynamic(model):
    """The model with its constant-weight MatMuls and embedding lookups in int8; returns (model, counts by op)."""
    graph = model.graph
    weights = {t.name: t for t in graph.initializer if t.data_type == TensorProto.FLOAT and len(t.dims) == 2}
    quantized = set()  # float weights replaced by int8 ones, written once even when used twice
    activations = {}  # one DynamicQuantizeLinear per activation, shared by the q, k and v projections
    nodes, counts = [], {"MatMul": 0, "Gather": 0}

    def int8_weight(name, quantize):
        if name not in quantized:
            quantized.add(name)
            q, scale, zero_point = quantize(numpy_helper.to_array(weights[name]))
            graph.initializer.extend([numpy_helper.from_array(q, f"{name}_quantized"),
                                      numpy_helper.from_array(scale, f"{name}_scale"),
                                      numpy_helper.from_array(zero_point, f"{name}_zero_point")])
        return f"{name}_quantized", f"{name}_scale", f"{name}_zero_point"

    for node in graph.node:
        if node.op_type == "Gather" and node.input[0] in weights and node.input[1] not in weights:
            nodes.extend(quantized_gather(node, int8_weight(node.input[0], int8_table)))
        elif node.op_type == "MatMul" and node.input[1] in weights:
            a = node.input[0]
            if a not in activations:
                activations[a] = (f"{a}_quantized", f"{a}_scale", f"{a}_zero_point")
                nodes.append(helper.make_node("DynamicQuantizeLinear", [a], list(activations[a]),
                                              name=f"{a}_QuantizeLinear"))
            nodes.extend(quantized_matmul(node, activations[a], int8_weight(node.input[1], int8_columns)))
        else:
            nodes.append(node)
            continue
        counts[node.op_type] += 1
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [t for t in graph.initializer if t.name not in quantized]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return model, counts


def quantized_matmul(node, activation, weight):
    """MatMul(A, W) as quantize_dynamic writes it: integer product, then both scales applied at once."""
    (a_q, a_scale, a_zero), (w_q, w_scale, w_zero) = activation, weight
    out, name = node.output[0], node.name or node.output[0]
    return [
        helper.make_node("MatMulInteger", [a_q, w_q, a_zero, w_zero], [f"{out}_int32"], name=f"{name}_quant"),
        helper.make_node("Cast", [f"{out}_int32"], [f"{out}_float"], to=TensorProto.FLOAT, name=f"{name}_cast"),
        helper.make_node("Mul", [a_scale, w_scale], [f"{out}_scale"], name=f"{name}_scales_mul"),
        helper.make_node("Mul", [f"{out}_float", f"{out}_scale"], [out], name=f"{name}_output_scale_mul"),
    ]


def quantized_gather(node, table):
    """An embedding lookup on an int8 table, dequantized after the lookup (onnxruntime's GatherQuant)."""
    table_q, scale, zero_point = table
    out = node.output[0]
    gather = helper.make_node("Gather", [table_q, node.input[1]], [f"{out}_quantized"], name=f"{node.name}_quant")
    gather.attribute.extend(node.attribute)
    return [gather, helper.make_node("DequantizeLinear", [f"{out}_quantized", scale, zero_point], [out],
                                     name=f"{node.name}_DequantizeLinear")]


def int8_table(table):
    """Symmetric int8, one scale for the whole table: DequantizeLinear after a lookup has no per-row axis."""
    scale = np.float32(np.abs(table).max() / 127.0 or 1.0)
    q = np.clip(np.rint(table / scale), -127, 127).astype(np.int8)
    return q, np.array(scale, dtype=np.float32), np.array(0, dtype=np.int8)


def int8_columns(weight):
    """Symmetric int8, one scale per output column (weight is [K, N]; MatMulInteger takes a zero point per column)."""
    largest = np.abs(weight).max(axis=0)
    scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
    return q, scale, np.zeros(scale.shape, dtype=np.int8)


def save(model, path):
    onnx.checker.check_model(model)
    partial = f"{path}.partial"
    onnx.save(model, partial)
    os.replace(partial, path)
    return os.path.getsize(path)


def main(out):
    for name in ENCODERS:
        source = os.path.join(out, "onnx", f"{name}.onnx")
        started = time.monotonic()
        size = save(to_float16(onnx.load(source)), os.path.join(out, "onnx", f"{name}_fp16.onnx"))
        print(f"standin: {name}_fp16.onnx {size / 2**20:.0f} MiB in {time.monotonic() - started:.0f} s", flush=True)
        started = time.monotonic()
        model, counts = quantize_dynamic(onnx.load(source))
        size = save(model, os.path.join(out, "onnx", f"{name}_quantized.onnx"))
        int8 = ", ".join(f"{n} {op}" for op, n in counts.items() if n)
        print(f"standin: {name}_quantized.onnx (int8: {int8}) {size / 2**20:.0f} MiB in "
              f"{time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
