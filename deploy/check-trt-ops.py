#!/usr/bin/env python3
"""Checks an exported model.onnx against TensorRT's ONNX operator support matrix.

  /usr/bin/python3 deploy/check-trt-ops.py BUNDLE/model.onnx --operators OPERATORS_MD [--json]

OPERATORS_MD is docs/operators.md of onnx/onnx-tensorrt for the TensorRT release on the device
(the parser that TensorRT 10.3 ships is the onnx-tensorrt 10.3 branch). It is not stored in this
repository (a public file, fetch it next to the addon's headers: native/node-tensorrt/third_party/).

Reports every op type of the graph with its support status and restrictions, and checks the
restrictions it can check mechanically: the opset range, "`X` must be an initializer" inputs,
TopK's `sorted` and K limit, Resize's modes, LayerNormalization's extra outputs, float64 tensors.
Exit status 0 when nothing is unsupported, 1 otherwise, 2 on bad usage.
"""
import argparse
import collections
import json
import re
import sys

import onnx
from onnx import defs, numpy_helper


def parse_matrix(path):
    """{op: (supported 'Y'/'N'/..., types, restrictions)} and the opset range from the header."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"opset (\d+) to opset (\d+)", text)
    opsets = (int(m.group(1)), int(m.group(2))) if m else None
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", cells[0]):
            continue
        if cells[0] in ("Operator",):
            continue
        table[cells[0]] = (cells[1], cells[2] if len(cells) > 2 else "", cells[3] if len(cells) > 3 else "")
    return table, opsets


def constant_names(graph):
    names = {i.name for i in graph.initializer}
    values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant":
            names.update(n.output)
            for a in n.attribute:
                if a.name == "value":
                    values[n.output[0]] = numpy_helper.to_array(a.t)
    return names, values


def all_nodes(graph):
    for n in graph.node:
        yield n
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from all_nodes(a.g)


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def check(model_path, matrix_path):
    model = onnx.load(model_path, load_external_data=False)
    table, opsets = parse_matrix(matrix_path)
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    consts, const_values = constant_names(model.graph)
    problems = []
    if opsets and opset is not None and not (opsets[0] <= opset <= opsets[1]):
        problems.append(f"opset {opset} is outside the supported range {opsets[0]}..{opsets[1]}")

    counts = collections.Counter()
    for node in all_nodes(model.graph):
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}"
        counts[key] += 1
        status = table.get(node.op_type)
        if status is None or not status[0].startswith("Y"):
            continue
        restrictions = status[2]
        # "`axes` must be an initializer", "`K` input must be an initializer", ...
        for name in re.findall(r"`(\w+)`(?: input)? must be (?:an initializer|a constant tensor)", restrictions):
            try:
                schema = defs.get_schema(node.op_type, opset or 17)
                idx = [i.name for i in schema.inputs].index(name)
            except (onnx.defs.SchemaError, ValueError):
                continue
            if idx < len(node.input) and node.input[idx] and node.input[idx] not in consts:
                problems.append(f"{node.op_type} {node.name!r}: input `{name}` is computed, TensorRT needs an initializer")
        if node.op_type == "TopK":
            if attr(node, "sorted", 1) != 1:
                problems.append(f"TopK {node.name!r}: sorted must be 1")
            k = const_values.get(node.input[1]) if len(node.input) > 1 else None
            if k is not None and int(k.reshape(-1)[0]) >= 3840:
                problems.append(f"TopK {node.name!r}: K={int(k.reshape(-1)[0])} must be < 3840")
        if node.op_type == "Resize":
            mode = attr(node, "mode", b"nearest").decode()
            ctm = attr(node, "coordinate_transformation_mode", b"half_pixel").decode()
            if mode not in ("nearest", "linear"):
                problems.append(f"Resize {node.name!r}: mode {mode} unsupported (nearest, linear)")
            if ctm not in ("half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners"):
                problems.append(f"Resize {node.name!r}: coordinate_transformation_mode {ctm} unsupported")
            if attr(node, "antialias", 0):
                problems.append(f"Resize {node.name!r}: antialiasing unsupported")
        if node.op_type == "LayerNormalization" and any(o for o in node.output[1:]):
            problems.append(f"LayerNormalization {node.name!r}: only the first output is supported")
        if node.op_type == "Constant" and any(a.name in ("sparse_value", "value_string", "value_strings") for a in node.attribute):
            problems.append(f"Constant {node.name!r}: sparse/string values unsupported")

    doubles = [i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.DOUBLE]
    if doubles:
        problems.append(f"{len(doubles)} float64 initializers (TensorRT casts them to float32): {doubles[:3]}")

    ops = []
    for op, n in sorted(counts.items()):
        status = table.get(op)
        supported = status[0] if status else "not listed"
        ops.append({"op": op, "count": n, "supported": supported, "restrictions": status[2] if status else ""})
        if not status or not status[0].startswith("Y"):
            problems.append(f"{op} (x{n}) is not supported ({supported})")
    return {"model": model_path, "opset": opset, "supportedOpsets": opsets, "ops": ops, "problems": problems}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx", help="model.onnx of a bundle")
    ap.add_argument("--operators", required=True, help="onnx-tensorrt docs/operators.md of the target TensorRT")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    try:
        report = check(args.onnx, args.operators)
    except (OSError, ValueError) as e:
        print(f"check-trt-ops: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{report['model']}: opset {report['opset']} (TensorRT parser: {report['supportedOpsets']})")
        for o in report["ops"]:
            note = f"  [{o['restrictions']}]" if o["restrictions"] else ""
            print(f"  {o['supported']:<4} {o['op']} x{o['count']}{note}")
        print("problems:" if report["problems"] else "no unsupported ops or violated restrictions found")
        for p in report["problems"]:
            print(f"  - {p}")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
