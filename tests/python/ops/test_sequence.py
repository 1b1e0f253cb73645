"""Sequence ops through `ingot run`, compared with onnx.reference. The CLI writes tensors only, so each
model ends in SequenceAt / ConcatFromSequence / SequenceLength."""
import pathlib
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from op_harness import run_ingot

DTYPES = [np.float32, np.int64, np.float16, np.uint8, np.bool_]


def vi(name, elem, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def ttype(dtype):
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def rand(rng, shape, dtype):
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 100, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def model_of(nodes, inputs, outputs, inits=None):
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits or [])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", onnx.defs.onnx_opset_version())])
    m.ir_version = 10
    return m


def run_both(model, feeds):
    expected = ReferenceEvaluator(model).run(None, feeds)
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, feeds, pathlib.Path(d))
    for o, want in zip(model.graph.output, expected):
        have, want = got[o.name], np.asarray(want)
        assert have.shape == want.shape, f"{o.name}: shape {have.shape} != {want.shape}"
        if want.dtype == object or want.dtype.kind == "U":  # strings: the fixed width may differ
            want, have = want.astype(str), have.astype(str)
            assert have.dtype.kind == "U", f"{o.name}: dtype {have.dtype} is not a string type"
        else:
            assert have.dtype == want.dtype, f"{o.name}: dtype {have.dtype} != {want.dtype}"
        np.testing.assert_array_equal(have, want, err_msg=o.name)
    return got


def run_fails(model, feeds, match):
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(RuntimeError, match=match):
            run_ingot(model, feeds, pathlib.Path(d))


def i64(name, v):
    return numpy_helper.from_array(np.array(v, np.int64), name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pos", [0, 2, -1, -3])
def test_construct_at_length(dtype, pos):
    rng = np.random.default_rng(0)
    xs = [rand(rng, s, dtype) for s in [(2, 3), (1, 3), (0, 3)]]
    t = ttype(dtype)
    nodes = [helper.make_node("SequenceConstruct", ["a", "b", "c"], ["seq"]),
             helper.make_node("SequenceAt", ["seq", "pos"], ["y"]),
             helper.make_node("SequenceLength", ["seq"], ["n"])]
    m = model_of(nodes, [vi("a", t, [2, 3]), vi("b", t, [1, 3]), vi("c", t, [0, 3])],
                 [vi("y", t), vi("n", TensorProto.INT64)], [i64("pos", pos)])
    run_both(m, dict(zip("abc", xs)))


@pytest.mark.parametrize("positions", [[], [0], [1, 0], [-1, 2, 0]])
def test_insert_then_concat(positions):
    rng = np.random.default_rng(1)
    a, b = rand(rng, (2, 3), np.float32), rand(rng, (1, 3), np.float32)
    nodes = [helper.make_node("SequenceConstruct", ["a", "b"], ["s0"])]
    inits = []
    for k, p in enumerate(positions):
        nodes.append(helper.make_node("SequenceInsert", [f"s{k}", "a" if k % 2 else "b", f"p{k}"], [f"s{k + 1}"]))
        inits.append(i64(f"p{k}", p))
    k = len(positions)
    nodes.append(helper.make_node("SequenceInsert", [f"s{k}", "b"], ["s_end"]))  # no position: at the back
    nodes.append(helper.make_node("ConcatFromSequence", ["s_end"], ["y"], axis=0))
    m = model_of(nodes, [vi("a", TensorProto.FLOAT, [2, 3]), vi("b", TensorProto.FLOAT, [1, 3])],
                 [vi("y", TensorProto.FLOAT)], inits)
    run_both(m, {"a": a, "b": b})


@pytest.mark.parametrize("pos", [None, 0, 1, -2])
def test_erase(pos):
    rng = np.random.default_rng(2)
    xs = {n: rand(rng, (2,), np.int32) for n in "abc"}
    inputs = ["seq"] + (["pos"] if pos is not None else [])
    nodes = [helper.make_node("SequenceConstruct", ["a", "b", "c"], ["seq"]),
             helper.make_node("SequenceErase", inputs, ["s2"]),
             helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=0, new_axis=1),
             helper.make_node("SequenceLength", ["s2"], ["n"])]
    m = model_of(nodes, [vi(n, TensorProto.INT32, [2]) for n in "abc"],
                 [vi("y", TensorProto.INT32), vi("n", TensorProto.INT64)], [i64("pos", pos)] if pos is not None else [])
    run_both(m, xs)


def test_empty_then_insert():
    nodes = [helper.make_node("SequenceEmpty", [], ["e"], dtype=TensorProto.INT64),
             helper.make_node("SequenceLength", ["e"], ["n0"]),
             helper.make_node("SequenceInsert", ["e", "x"], ["s"]),
             helper.make_node("SequenceInsert", ["s", "x", "zero"], ["s2"]),
             helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=-1, new_axis=1)]
    x = np.random.default_rng(3).integers(-5, 5, (2, 2)).astype(np.int64)
    m = model_of(nodes, [vi("x", TensorProto.INT64, [2, 2])],
                 [vi("n0", TensorProto.INT64), vi("y", TensorProto.INT64)], [i64("zero", 0)])
    run_both(m, {"x": x})


@pytest.mark.parametrize("shape,axis,split,keepdims", [
    ((5, 3), 0, None, 1), ((5, 3), 0, None, 0), ((5, 3), -1, None, 0), ((5, 3), 1, None, 1),
    ((7, 2), 0, 3, 1), ((7, 2), 0, 7, 1), ((7, 2), 0, 10, 1), ((2, 6), 1, [1, 0, 5], 1), ((2, 6), -1, [6], 0),
    ((4, 3, 2), 1, [2, 1], 1),
])
@pytest.mark.parametrize("dtype", [np.float32, np.int8, str])
def test_split_to_sequence(shape, axis, split, keepdims, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(np.float32)
    if dtype is str:
        # Fixed-width unicode: what .npy (and so the CLI) carries; ingot writes strings back the same way.
        x = np.array([f"s{v:.3f}" for v in x.ravel()]).reshape(shape)
        t = TensorProto.STRING
    else:
        x = (x * 10).astype(dtype)
        t = ttype(dtype)
    inputs = ["x"] + (["split"] if split is not None else [])
    inits = [i64("split", split)] if split is not None else []
    dim = shape[axis]
    if split is None:
        n = dim
    elif np.ndim(split) == 0:
        n = -(-dim // split)
    else:
        n = len(split)
    nodes = [helper.make_node("SplitToSequence", inputs, ["seq"], axis=axis, keepdims=keepdims),
             helper.make_node("SequenceLength", ["seq"], ["n"])]
    outputs = [vi("n", TensorProto.INT64)]
    for k in range(n):
        nodes.append(helper.make_node("SequenceAt", ["seq", f"k{k}"], [f"y{k}"]))
        inits.append(i64(f"k{k}", k))
        outputs.append(vi(f"y{k}", t))
    m = model_of(nodes, [vi("x", t, list(shape))], outputs, inits)
    run_both(m, {"x": x})


@pytest.mark.parametrize("axis,new_axis", [(0, 0), (1, 0), (-1, 0), (0, 1), (2, 1), (-1, 1), (-3, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.uint16])
def test_concat_from_sequence(axis, new_axis, dtype):
    rng = np.random.default_rng(5)
    shapes = [(2, 3)] * 3
    if not new_axis:  # pieces differ along the concat axis
        shapes = [tuple(d + (k if i == axis % 2 else 0) for i, d in enumerate((2, 3))) for k in range(3)]
    xs = {f"x{k}": rand(rng, s, dtype) for k, s in enumerate(shapes)}
    t = ttype(dtype)
    nodes = [helper.make_node("SequenceConstruct", list(xs), ["seq"]),
             helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=axis, new_axis=new_axis)]
    m = model_of(nodes, [vi(n, t, list(v.shape)) for n, v in xs.items()], [vi("y", t)])
    run_both(m, xs)


def test_concat_from_sequence_mismatched_shapes_fail():
    nodes = [helper.make_node("SequenceConstruct", ["a", "b"], ["seq"]),
             helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=0)]
    m = model_of(nodes, [vi("a", TensorProto.FLOAT, [2, 3]), vi("b", TensorProto.FLOAT, [2, 4])],
                 [vi("y", TensorProto.FLOAT)])
    run_fails(m, {"a": np.ones((2, 3), np.float32), "b": np.ones((2, 4), np.float32)}, "does not match")


@pytest.mark.parametrize("pos", [3, -4])
def test_sequence_at_out_of_range_fails(pos):
    nodes = [helper.make_node("SequenceConstruct", ["a", "a", "a"], ["seq"]),
             helper.make_node("SequenceAt", ["seq", "pos"], ["y"])]
    m = model_of(nodes, [vi("a", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT)], [i64("pos", pos)])
    run_fails(m, {"a": np.ones(2, np.float32)}, "out of range")


def test_insert_wrong_dtype_fails():
    nodes = [helper.make_node("SequenceConstruct", ["a"], ["seq"]),
             helper.make_node("SequenceInsert", ["seq", "b"], ["s2"]),
             helper.make_node("SequenceLength", ["s2"], ["n"])]
    m = model_of(nodes, [vi("a", TensorProto.FLOAT, [2]), vi("b", TensorProto.INT32, [2])],
                 [vi("n", TensorProto.INT64)])
    run_fails(m, {"a": np.ones(2, np.float32), "b": np.ones(2, np.int32)}, "cannot insert")


@pytest.mark.parametrize("second", ["seq", "tensor"])
def test_sequence_map(second):
    rng = np.random.default_rng(6)
    a, b = rand(rng, (2, 3), np.float32), rand(rng, (4, 3), np.float32)
    w = rand(rng, (3,), np.float32)
    body = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["z"]), helper.make_node("Shape", ["x"], ["shp"])], "body",
        [vi("x", TensorProto.FLOAT, None), vi("y", TensorProto.FLOAT, None)],
        [vi("z", TensorProto.FLOAT, None), vi("shp", TensorProto.INT64, [None])])
    nodes = [helper.make_node("SequenceConstruct", ["a", "b"], ["seq"])]
    if second == "seq":
        nodes.append(helper.make_node("SequenceConstruct", ["a", "b"], ["seq2"]))
        nodes.append(helper.make_node("SequenceMap", ["seq", "seq2"], ["zs", "shapes"], body=body))
    else:
        nodes.append(helper.make_node("SequenceMap", ["seq", "w"], ["zs", "shapes"], body=body))
    nodes += [helper.make_node("ConcatFromSequence", ["zs"], ["z"], axis=0),
              helper.make_node("ConcatFromSequence", ["shapes"], ["s"], axis=0, new_axis=1)]
    m = model_of(nodes, [vi("a", TensorProto.FLOAT, [2, 3]), vi("b", TensorProto.FLOAT, [4, 3]),
                         vi("w", TensorProto.FLOAT, [3])],
                 [vi("z", TensorProto.FLOAT), vi("s", TensorProto.INT64)])
    run_both(m, {"a": a, "b": b, "w": w})
