"""Optional, OptionalHasElement, OptionalGetElement through `ingot run`. onnx.reference's Optional wraps
its input in a list (so OptionalGetElement returns it with an extra axis, and an empty optional reads as
present): expected values are written out here, onnx.reference is used only where it is right."""
import pathlib
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from onnx.reference import ReferenceEvaluator

from op_harness import run_ingot

F = TensorProto.FLOAT


def model_of(nodes, inputs, outputs):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", onnx.defs.onnx_opset_version())])
    m.ir_version = 10
    return m


def run_both(model, feeds, expected=None):
    if expected is None:
        expected = ReferenceEvaluator(model).run(None, feeds)
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, feeds, pathlib.Path(d))
    for o, want in zip(model.graph.output, expected):
        want = np.asarray(want)
        assert got[o.name].shape == want.shape and got[o.name].dtype == want.dtype, o.name
        np.testing.assert_array_equal(got[o.name], want, err_msg=o.name)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(3,), (2, 0), ()])
def test_wrap_and_unwrap_tensor(dtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 10).astype(dtype)
    t = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    nodes = [helper.make_node("Optional", ["x"], ["o"]),
             helper.make_node("OptionalHasElement", ["o"], ["has"]),
             helper.make_node("OptionalGetElement", ["o"], ["y"]),
             helper.make_node("OptionalHasElement", ["x"], ["has_t"]),
             helper.make_node("OptionalGetElement", ["x"], ["y_t"])]
    m = model_of(nodes, [helper.make_tensor_value_info("x", t, list(shape))],
                 [helper.make_tensor_value_info(n, TensorProto.BOOL if n.startswith("has") else t, None)
                  for n in ["has", "y", "has_t", "y_t"]])
    run_both(m, {"x": x}, expected=[np.array(True), x, np.array(True), x])


def test_empty_optional_has_no_element():
    tp = helper.make_tensor_type_proto(F, [2])
    nodes = [helper.make_node("Optional", [], ["o"], type=tp),
             helper.make_node("OptionalHasElement", ["o"], ["has"]),
             helper.make_node("OptionalHasElement", [], ["has_none"])]
    m = model_of(nodes, [], [helper.make_tensor_value_info("has", TensorProto.BOOL, []),
                             helper.make_tensor_value_info("has_none", TensorProto.BOOL, [])])
    run_both(m, {}, expected=[np.array(False), np.array(False)])


def test_get_element_of_empty_fails():
    tp = helper.make_tensor_type_proto(F, [2])
    nodes = [helper.make_node("Optional", [], ["o"], type=tp), helper.make_node("OptionalGetElement", ["o"], ["y"])]
    m = model_of(nodes, [], [helper.make_tensor_value_info("y", F, None)])
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(RuntimeError, match="empty"):
            run_ingot(m, {}, pathlib.Path(d))


def test_optional_sequence_round_trip():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 2)).astype(np.float32), rng.standard_normal((1, 2)).astype(np.float32)
    nodes = [helper.make_node("SequenceConstruct", ["a", "b"], ["s"]),
             helper.make_node("Optional", ["s"], ["o"]),
             helper.make_node("OptionalHasElement", ["o"], ["has"]),
             helper.make_node("OptionalGetElement", ["o"], ["s2"]),
             helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=0)]
    m = model_of(nodes, [helper.make_tensor_value_info("a", F, [2, 2]), helper.make_tensor_value_info("b", F, [1, 2])],
                 [helper.make_tensor_value_info("has", TensorProto.BOOL, []), helper.make_tensor_value_info("y", F, None)])
    run_both(m, {"a": a, "b": b}, expected=[np.array(True), np.concatenate([a, b])])
