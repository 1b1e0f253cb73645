"""Single-op tests: build a one-node ONNX model, run it through `ingot run`, compare with onnx.reference.

    from op_harness import check_op
    check_op("Relu", {"X": rng.standard_normal((2, 3)).astype(np.float32)}, outputs=["Y"])
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

ROOT = pathlib.Path(__file__).resolve().parents[2]
INGOT = os.environ.get("INGOT_BIN", str(ROOT / "build" / "bin" / "ingot"))


def make_model(op_type, inputs: dict, outputs: list[str], attrs=None, opset=None, initializers=None,
               domain="", output_types=None):
    """A one-node model; `inputs` maps names to arrays (or None for an omitted optional input)."""
    attrs = attrs or {}
    initializers = initializers or {}
    names = [n if v is not None else "" for n, v in inputs.items()]
    node = helper.make_node(op_type, names, outputs, domain=domain, **attrs)
    graph_inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
                    for n, v in inputs.items() if v is not None and n not in initializers]
    inits = [numpy_helper.from_array(v, n) for n, v in initializers.items()]
    graph_outputs = [helper.make_tensor_value_info(o, (output_types or {}).get(o, 0), None) for o in outputs]
    graph = helper.make_graph([node], f"test_{op_type}", graph_inputs, graph_outputs, inits)
    opsets = [helper.make_opsetid("", opset or onnx.defs.onnx_opset_version())]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 10
    return model


def run_ingot(model, feeds: dict, tmp: pathlib.Path):
    """Runs `model` through the CLI; returns {output name: array}. Raises with ingot's stderr on failure."""
    path = tmp / "model.onnx"
    onnx.save(model, path)
    args = [INGOT, "run", str(path), "--output-dir", str(tmp / "out")]
    for name, value in feeds.items():
        f = tmp / f"in_{len(args)}.npy"
        np.save(f, value)
        args += ["--input", f"{name}={f}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"ingot run failed ({proc.returncode}): {proc.stderr.strip()}")
    out = {}
    for o in model.graph.output:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in o.name)
        out[o.name] = np.load(tmp / "out" / f"{safe}.npy", allow_pickle=False)
    return out


def check_op(op_type, inputs: dict, outputs: list[str], attrs=None, opset=None, initializers=None,
             rtol=1e-5, atol=1e-6, domain="", expected=None):
    """Runs one op in ingot and in onnx.reference (or compares with `expected`) and asserts they agree."""
    model = make_model(op_type, inputs, outputs, attrs, opset, initializers, domain)
    feeds = {n: v for n, v in inputs.items() if v is not None and n not in (initializers or {})}
    if expected is None:
        ref = ReferenceEvaluator(model)
        expected = dict(zip(outputs, ref.run(None, feeds)))
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, feeds, pathlib.Path(d))
    for name in outputs:
        want = np.asarray(expected[name])
        have = got[name]
        assert have.shape == want.shape, f"{op_type} output {name}: shape {have.shape} != {want.shape}"
        assert have.dtype == want.dtype, f"{op_type} output {name}: dtype {have.dtype} != {want.dtype}"
        if np.issubdtype(want.dtype, np.floating):
            np.testing.assert_allclose(have, want, rtol=rtol, atol=atol, err_msg=f"{op_type} output {name}")
        else:
            np.testing.assert_array_equal(have, want, err_msg=f"{op_type} output {name}")
    return got
