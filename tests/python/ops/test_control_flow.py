"""If, Loop and Scan through `ingot run`, compared with onnx.reference (or numpy where onnx.reference
lacks a feature: Scan's axes and directions)."""
import pathlib
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from op_harness import run_ingot

F = TensorProto.FLOAT


def vi(name, elem=F, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def model_of(nodes, inputs, outputs, opset=None, inits=None):
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits or [])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset or onnx.defs.onnx_opset_version())])
    m.ir_version = 10 if (opset or 21) >= 21 else 8
    return m


def run_both(model, feeds, expected=None, rtol=1e-5, atol=1e-6):
    if expected is None:
        expected = ReferenceEvaluator(model).run(None, feeds)
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, feeds, pathlib.Path(d))
    for o, want in zip(model.graph.output, expected):
        have = got[o.name]
        want = np.asarray(want)
        assert have.shape == want.shape, f"{o.name}: shape {have.shape} != {want.shape}"
        assert have.dtype == want.dtype, f"{o.name}: dtype {have.dtype} != {want.dtype}"
        if np.issubdtype(want.dtype, np.floating):
            np.testing.assert_allclose(have, want, rtol=rtol, atol=atol, err_msg=o.name)
        else:
            np.testing.assert_array_equal(have, want, err_msg=o.name)
    return got


def run_fails(model, feeds, match):
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(RuntimeError, match=match):
            run_ingot(model, feeds, pathlib.Path(d))


# ---- If ----

@pytest.mark.parametrize("cond", [True, False])
@pytest.mark.parametrize("shape", [(3,), (2, 5), (0, 4), ()])
def test_if_reads_outer_values(cond, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    then_g = helper.make_graph([helper.make_node("Add", ["x", "x"], ["t"])], "then", [], [vi("t")])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [], [vi("e")])
    nodes = [helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Mul", ["y", "x"], ["z"])]
    m = model_of(nodes, [vi("c", TensorProto.BOOL, []), vi("x", F, list(shape))], [vi("y"), vi("z")])
    run_both(m, {"c": np.array(cond), "x": x})


@pytest.mark.parametrize("cond", [True, False])
def test_if_branches_of_different_shapes_and_ints(cond):
    then_g = helper.make_graph([helper.make_node("Concat", ["a", "a"], ["t"], axis=0)], "then", [],
                               [vi("t", TensorProto.INT64)])
    else_g = helper.make_graph([helper.make_node("Identity", ["a"], ["e"])], "else", [], [vi("e", TensorProto.INT64)])
    a = np.random.default_rng(1).integers(-50, 50, (3, 2)).astype(np.int64)
    m = model_of([helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
                 [vi("c", TensorProto.BOOL, [1]), vi("a", TensorProto.INT64, [3, 2])], [vi("y", TensorProto.INT64)])
    run_both(m, {"c": np.array([cond]), "a": a})


def test_nested_if_in_loop_sees_both_frames():
    # Loop body holds an If whose branches read the loop's carried value and a value of the main graph.
    then_g = helper.make_graph([helper.make_node("Add", ["v_in", "w"], ["t"])], "then", [], [vi("t")])
    else_g = helper.make_graph([helper.make_node("Sub", ["v_in", "w"], ["e"])], "else", [], [vi("e")])
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["i_f"], to=F),
         helper.make_node("Mod", ["i", "two"], ["r"]),
         helper.make_node("Equal", ["r", "zero"], ["even"]),
         helper.make_node("If", ["even"], ["v_out"], then_branch=then_g, else_branch=else_g),
         helper.make_node("Mul", ["v_out", "i_f"], ["s"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("v_in")],
        [vi("cond_out", TensorProto.BOOL, []), vi("v_out"), vi("s")],
        [numpy_helper.from_array(np.array(2, np.int64), "two"), numpy_helper.from_array(np.array(0, np.int64), "zero")])
    rng = np.random.default_rng(2)
    # 1-D values: onnx.reference vstacks scan outputs (a concat, not the stack ONNX asks for) and only
    # agrees with the spec for 1-D per-iteration tensors.
    w = rng.standard_normal((3,)).astype(np.float32)
    v0 = rng.standard_normal((3,)).astype(np.float32)
    nodes = [helper.make_node("Relu", ["w_in"], ["w"]),
             helper.make_node("Loop", ["M", "c", "v0"], ["v", "scan"], body=body)]
    m = model_of(nodes, [vi("M", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("w_in", F, [3]),
                         vi("v0", F, [3])], [vi("v"), vi("scan")])
    run_both(m, {"M": np.array(5, np.int64), "c": np.array(True), "w_in": w, "v0": v0})


# ---- Loop ----

def cumulative_body(extra_nodes=(), cond_out="cond_in", shape=None):
    """Body: acc_out = acc_in + x * (i+1); scan output = acc_out (declared of `shape`)."""
    nodes = [helper.make_node("Add", ["i", "one"], ["i1"]),
             helper.make_node("Cast", ["i1"], ["i1f"], to=F),
             helper.make_node("Mul", ["x", "i1f"], ["xi"]),
             helper.make_node("Add", ["acc_in", "xi"], ["acc_out"]),
             helper.make_node("Identity", ["acc_out"], ["scan_out"]),
             *extra_nodes]
    if cond_out == "cond_in":
        nodes.append(helper.make_node("Identity", ["cond_in"], ["cond_out"]))
    return helper.make_graph(nodes, "body",
                             [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in")],
                             [vi("cond_out", TensorProto.BOOL, []), vi("acc_out"), vi("scan_out", F, shape)],
                             [numpy_helper.from_array(np.array(1, np.int64), "one")])


@pytest.mark.parametrize("trips", [0, 1, 4])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (0, 2)])
@pytest.mark.parametrize("with_cond", [False, True])
def test_loop_trip_count(trips, shape, with_cond):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    acc = rng.standard_normal(shape).astype(np.float32)
    # The body declares the scan output's shape, which is what types it when no iteration runs.
    body = cumulative_body(shape=list(shape))
    inputs = [vi("M", TensorProto.INT64, []), vi("x", F, list(shape)), vi("acc", F, list(shape))]
    feeds = {"M": np.array(trips, np.int64), "x": x, "acc": acc}
    if with_cond:
        inputs.append(vi("c", TensorProto.BOOL, []))
        feeds["c"] = np.array(True)
    m = model_of([helper.make_node("Loop", ["M", "c" if with_cond else "", "acc"], ["final", "all"], body=body)],
                 inputs, [vi("final"), vi("all", F, [None, *shape])])
    final, scans = acc.copy(), []
    for i in range(trips):
        final = final + x * np.float32(i + 1)
        scans.append(final)
    expected = [final, np.stack(scans) if scans else np.zeros((0, *shape), np.float32)]
    run_both(m, feeds, expected=expected)
    if trips > 0 and with_cond and len(shape) == 1:
        # onnx.reference agrees where it can: it cannot type an empty scan output, reads an omitted cond
        # as false, and vstacks scan outputs (right only for 1-D per-iteration tensors).
        run_both(m, feeds)


def test_loop_condition_stops_early():
    # cond_out = i < 2: runs three iterations of a trip count of 10.
    extra = [helper.make_node("Less", ["i", "limit"], ["cond_out"])]
    body = cumulative_body(extra, cond_out=None)
    body.initializer.append(numpy_helper.from_array(np.array(2, np.int64), "limit"))
    x = np.random.default_rng(4).standard_normal((4,)).astype(np.float32)
    m = model_of([helper.make_node("Loop", ["M", "c", "acc"], ["final", "all"], body=body)],
                 [vi("M", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("x", F, [4]), vi("acc", F, [4])],
                 [vi("final"), vi("all")])
    got = run_both(m, {"M": np.array(10, np.int64), "c": np.array(True), "x": x, "acc": np.zeros(4, np.float32) + 1})
    assert got["all"].shape == (3, 4)


def test_loop_initial_false_condition_runs_nothing():
    x = np.random.default_rng(5).standard_normal((3,)).astype(np.float32)
    acc = np.random.default_rng(6).standard_normal((3,)).astype(np.float32)
    m = model_of([helper.make_node("Loop", ["M", "c", "acc"], ["final"], body=cumulative_body())],
                 [vi("M", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("x", F, [3]), vi("acc", F, [3])],
                 [vi("final")])
    run_both(m, {"M": np.array(7, np.int64), "c": np.array(False), "x": x, "acc": acc}, expected=[acc])


def test_loop_cond_only_until_false():
    # No trip count: runs while acc < 50 (acc doubles each time).
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "acc_in"], ["acc_out"]),
         helper.make_node("ReduceMax", ["acc_out"], ["mx"], keepdims=0),
         helper.make_node("Less", ["mx", "lim"], ["cond_out"])],
        "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in")],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out")],
        [numpy_helper.from_array(np.array(50, np.float32), "lim")])
    m = model_of([helper.make_node("Loop", ["", "c", "acc"], ["final"], body=body)],
                 [vi("c", TensorProto.BOOL, []), vi("acc", F, [3])], [vi("final")])
    acc = np.array([0.7, 1.3, 2.1], np.float32)
    run_both(m, {"c": np.array(True), "acc": acc})


def test_loop_runaway_condition_fails_with_limit():
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                              helper.make_node("Identity", ["acc_in"], ["acc_out"])],
                             "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in")],
                             [vi("cond_out", TensorProto.BOOL, []), vi("acc_out")])
    m = model_of([helper.make_node("Loop", ["", "c", "acc"], ["final"], body=body)],
                 [vi("c", TensorProto.BOOL, []), vi("acc", F, [1])], [vi("final")])
    run_fails(m, {"c": np.array(True), "acc": np.ones(1, np.float32)}, "limit of")


def test_loop_scan_output_changing_shape_fails():
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                              helper.make_node("Concat", ["acc_in", "acc_in"], ["acc_out"], axis=0),
                              helper.make_node("Identity", ["acc_out"], ["s"])],
                             "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in")],
                             [vi("cond_out", TensorProto.BOOL, []), vi("acc_out"), vi("s")])
    m = model_of([helper.make_node("Loop", ["M", "", "acc"], ["final", "s"], body=body)],
                 [vi("M", TensorProto.INT64, []), vi("acc", F, [1])], [vi("final"), vi("s")])
    run_fails(m, {"M": np.array(3, np.int64), "acc": np.ones(1, np.float32)}, "changes shape")


def test_loop_carried_grows():
    # A loop-carried value whose shape changes every iteration (no scan outputs).
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                              helper.make_node("Concat", ["acc_in", "x"], ["acc_out"], axis=0)],
                             "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []),
                                      vi("acc_in", TensorProto.INT32)],
                             [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", TensorProto.INT32)])
    x = np.random.default_rng(7).integers(-9, 9, (2,)).astype(np.int32)
    m = model_of([helper.make_node("Loop", ["M", "c", "acc"], ["final"], body=body)],
                 [vi("M", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("acc", TensorProto.INT32, [1]),
                  vi("x", TensorProto.INT32, [2])], [vi("final", TensorProto.INT32)])
    run_both(m, {"M": np.array(3, np.int64), "c": np.array(True), "acc": np.array([5], np.int32), "x": x})


def test_loop_with_sequence_carried_value():
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Cast", ["i"], ["i_f"], to=F),
         helper.make_node("Mul", ["x", "i_f"], ["xi"]),
         helper.make_node("SequenceInsert", ["seq_in", "xi"], ["seq_out"])],
        "body", [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_sequence_value_info("seq_in", F, None)],
        [vi("cond_out", TensorProto.BOOL, []), helper.make_tensor_sequence_value_info("seq_out", F, None)])
    nodes = [helper.make_node("SequenceEmpty", [], ["empty"], dtype=F),
             helper.make_node("Loop", ["M", "c", "empty"], ["seq"], body=body),
             helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=0, new_axis=1)]
    x = np.random.default_rng(8).standard_normal((2, 3)).astype(np.float32)
    m = model_of(nodes, [vi("M", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("x", F, [2, 3])], [vi("y")])
    run_both(m, {"M": np.array(4, np.int64), "c": np.array(True), "x": x})


# ---- Scan ----

def scan_body(n_states=1, n_scans=1):
    """states: s_out = s_in + x_0 (+ x_1 ...); scan outputs: s_out and x_0 * 2."""
    nodes, ins = [], [vi(f"s{i}_in") for i in range(n_states)] + [vi(f"x{j}") for j in range(n_scans)]
    total = "x0"
    for j in range(1, n_scans):
        nodes.append(helper.make_node("Add", [total, f"x{j}"], [f"tot{j}"]))
        total = f"tot{j}"
    for i in range(n_states):
        nodes.append(helper.make_node("Add", [f"s{i}_in", total], [f"s{i}_out"]))
    nodes.append(helper.make_node("Identity", ["s0_out"], ["y0"]))
    nodes.append(helper.make_node("Add", ["x0", "x0"], ["y1"]))
    outs = [vi(f"s{i}_out") for i in range(n_states)] + [vi("y0"), vi("y1")]
    return helper.make_graph(nodes, "body", ins, outs)


def numpy_scan(states, xs, in_axes, in_dirs, out_axes, out_dirs):
    length = xs[0].shape[in_axes[0]]
    ys = [[], []]
    states = list(states)
    for t in range(length):
        sl = [np.take(x, length - 1 - t if d else t, axis=a) for x, a, d in zip(xs, in_axes, in_dirs)]
        total = sl[0]
        for s in sl[1:]:
            total = total + s
        states = [s + total for s in states]
        ys[0].append(states[0])
        ys[1].append(sl[0] + sl[0])
    outs = []
    for y, a, d in zip(ys, out_axes, out_dirs):
        if d:
            y = y[::-1]
        outs.append(np.stack(y, axis=a))
    return states + outs


@pytest.mark.parametrize("in_axes,in_dirs,out_axes,out_dirs", [
    ([0], [0], [0, 0], [0, 0]),
    ([1], [0], [0, 1], [0, 0]),
    ([0], [1], [0, 0], [0, 1]),
    ([-1], [1], [-1, 1], [1, 0]),
])
def test_scan9_axes_and_directions(in_axes, in_dirs, out_axes, out_dirs):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    s_shape = np.take(x, 0, axis=in_axes[0]).shape
    s0 = rng.standard_normal(s_shape).astype(np.float32)
    m = model_of([helper.make_node("Scan", ["s0", "x"], ["s", "y0", "y1"], body=scan_body(), num_scan_inputs=1,
                                   scan_input_axes=in_axes, scan_input_directions=in_dirs,
                                   scan_output_axes=out_axes, scan_output_directions=out_dirs)],
                 [vi("s0", F, list(s_shape)), vi("x", F, [4, 3])], [vi("s"), vi("y0"), vi("y1")])
    expected = numpy_scan([s0], [x], in_axes, in_dirs, out_axes, out_dirs)
    run_both(m, {"s0": s0, "x": x}, expected=expected)


def test_scan9_two_inputs_two_states_matches_reference():
    rng = np.random.default_rng(10)
    x0 = rng.standard_normal((5, 2)).astype(np.float32)
    x1 = rng.standard_normal((5, 2)).astype(np.float32)
    s0 = rng.standard_normal((2,)).astype(np.float32)
    s1 = rng.standard_normal((2,)).astype(np.float32)
    m = model_of([helper.make_node("Scan", ["s0", "s1", "x0", "x1"], ["a", "b", "y0", "y1"],
                                   body=scan_body(2, 2), num_scan_inputs=2)],
                 [vi("s0", F, [2]), vi("s1", F, [2]), vi("x0", F, [5, 2]), vi("x1", F, [5, 2])],
                 [vi("a"), vi("b"), vi("y0"), vi("y1")])
    feeds = {"s0": s0, "s1": s1, "x0": x0, "x1": x1}
    run_both(m, feeds, expected=numpy_scan([s0, s1], [x0, x1], [0, 0], [0, 0], [0, 0], [0, 0]))


def test_scan9_mismatched_lengths_fail():
    m = model_of([helper.make_node("Scan", ["s0", "x0", "x1"], ["s", "y0", "y1"], body=scan_body(1, 2),
                                   num_scan_inputs=2)],
                 [vi("s0", F, [2]), vi("x0", F, [3, 2]), vi("x1", F, [4, 2])], [vi("s"), vi("y0"), vi("y1")])
    ones = np.ones
    run_fails(m, {"s0": ones(2, np.float32), "x0": ones((3, 2), np.float32), "x1": ones((4, 2), np.float32)},
              "scan length")


@pytest.mark.parametrize("lens", [None, [3, 1]])
@pytest.mark.parametrize("direction", [0, 1])
def test_scan8_batched(lens, direction):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    s0 = rng.standard_normal((2, 4)).astype(np.float32)
    inputs = ["seq_lens" if lens is not None else "", "s0", "x"]
    graph_inputs = [vi("s0", F, [2, 4]), vi("x", F, [2, 3, 4])]
    feeds = {"s0": s0, "x": x}
    if lens is not None:
        graph_inputs.insert(0, vi("seq_lens", TensorProto.INT64, [2]))
        feeds["seq_lens"] = np.array(lens, np.int64)
    m = model_of([helper.make_node("Scan", inputs, ["s", "y0", "y1"], body=scan_body(), num_scan_inputs=1,
                                   directions=[direction])],
                 graph_inputs, [vi("s"), vi("y0"), vi("y1")], opset=8)
    m.ir_version = 4
    states, y0, y1 = [], np.zeros((2, 3, 4), np.float32), np.zeros((2, 3, 4), np.float32)
    for b in range(2):
        n = 3 if lens is None else lens[b]
        st, a, c = numpy_scan([s0[b]], [x[b, :n]], [0], [direction], [0, 0], [0, 0])
        states.append(st)
        y0[b, :n], y1[b, :n] = a, c
    run_both(m, feeds, expected=[np.stack(states), y0, y1])
