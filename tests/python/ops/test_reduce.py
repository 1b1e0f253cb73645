import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
       "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]
CASES = [  # shape, axes (None: attribute/input absent)
    ((3, 4, 5), [1]), ((3, 4, 5), [0, 2]), ((3, 4, 5), [-1]), ((3, 4, 5), None), ((2, 3, 4, 5), [1, 2]),
    ((2, 3, 4, 5), [-4, 3]), ((7,), [0]), ((1, 5, 1), [0, 2]), ((2, 1, 3), [1]), ((3, 0, 2), [2]),
]
TOL = {np.float32: (1e-5, 1e-5), np.float64: (1e-12, 1e-12), np.float16: (2e-3, 2e-3)}


def data_for(op, shape, dtype, rng):
    if np.issubdtype(dtype, np.integer):
        lo = 1 if op in ("ReduceLogSum",) else -5
        if np.issubdtype(dtype, np.unsignedinteger):
            lo = 1 if op == "ReduceLogSum" else 0
        return rng.integers(lo, 6, size=shape).astype(dtype)
    x = rng.standard_normal(shape)
    if op == "ReduceLogSum":
        x = np.abs(x) + 0.1
    if op == "ReduceProd":
        x = 0.5 + np.abs(x)
    return x.astype(dtype)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64])
def test_reduce(op, case, keepdims, dtype):
    shape, axes = case
    rng = np.random.default_rng(len(shape) * 7 + keepdims)
    x = data_for(op, shape, dtype, rng)
    inputs = {"data": x}
    inits = {}
    if axes is not None:
        inputs["axes"] = np.array(axes, dtype=np.int64)
        inits["axes"] = inputs["axes"]
    rtol, atol = TOL.get(dtype, (0, 0))
    expected = None
    if np.issubdtype(dtype, np.integer) and op in ("ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"):
        # onnx.reference cannot take the log of an integer sum in place and widens sums of squares to
        # int64 and cannot subtract a float max from integers in place; the spec keeps the element type
        # (logs truncated toward zero).
        ax = None if axes is None else tuple(axes)
        if op == "ReduceLogSumExp":
            # In long double, and snapped where the exact value is an integer (log(exp(x)) over one element):
            # numpy's float64 exp/log (AVX-512 SIMD on CPUs that have it) can land a hair under, which
            # truncation turns into the next integer toward zero.
            v = np.log(np.sum(np.exp(x.astype(np.longdouble)), axis=ax, keepdims=bool(keepdims)))
            want = np.where(np.abs(v - np.round(v)) < 1e-12, np.round(v), v).astype(dtype)
        elif op == "ReduceLogSum":
            want = np.log(np.sum(x.astype(np.float64), axis=ax, keepdims=bool(keepdims))).astype(dtype)
        else:
            want = np.sum(x.astype(np.int64) ** 2, axis=ax, keepdims=bool(keepdims)).astype(dtype)
        expected = {"reduced": want}
    check_op(op, inputs, ["reduced"], attrs={"keepdims": keepdims}, initializers=inits, rtol=rtol, atol=atol,
             expected=expected)


@pytest.mark.parametrize("op", OPS)
def test_reduce_attr_axes_old_opset(op):
    rng = np.random.default_rng(3)
    x = data_for(op, (2, 3, 4), np.float32, rng)
    opset = 11 if op != "ReduceSum" else 12
    check_op(op, {"data": x}, ["reduced"], attrs={"axes": [0, -1], "keepdims": 0}, opset=opset)


@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMax", "ReduceMean"])
def test_reduce_runtime_axes(op):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    check_op(op, {"data": x, "axes": np.array([2, 0], dtype=np.int64)}, ["reduced"], attrs={"keepdims": 0})


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("noop", [0, 1])
def test_reduce_empty_axes(op, noop):
    rng = np.random.default_rng(5)
    x = data_for(op, (2, 3), np.float32, rng)
    axes = np.array([], dtype=np.int64)
    check_op(op, {"data": x, "axes": axes}, ["reduced"], attrs={"noop_with_empty_axes": noop},
             initializers={"axes": axes}, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op", OPS)
def test_reduce_empty_set(op):
    # Reducing over a zero-length axis gives the identity of the operation.
    x = np.zeros((2, 0, 3), dtype=np.float32)
    axes = np.array([1], dtype=np.int64)
    check_op(op, {"data": x, "axes": axes}, ["reduced"], attrs={"keepdims": 1}, initializers={"axes": axes})


@pytest.mark.parametrize("op", ["ReduceMax", "ReduceMin"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.bool_])
def test_reduce_minmax_small_types(op, dtype):
    rng = np.random.default_rng(6)
    x = rng.integers(0, 2 if dtype == np.bool_ else 100, size=(4, 5)).astype(dtype)
    axes = np.array([1], dtype=np.int64)
    check_op(op, {"data": x, "axes": axes}, ["reduced"], attrs={"keepdims": 0}, initializers={"axes": axes},
             opset=20)


def test_reduce_sum_wraps_int32():
    x = np.full((3,), 2**30, dtype=np.int32) + np.arange(3, dtype=np.int32)
    axes = np.array([0], dtype=np.int64)
    check_op("ReduceSum", {"data": x, "axes": axes}, ["reduced"], initializers={"axes": axes})


def test_reduce_bad_axis():
    x = np.ones((2, 3), dtype=np.float32) * np.arange(3, dtype=np.float32)
    axes = np.array([2], dtype=np.int64)
    with pytest.raises(RuntimeError, match="out of range"):
        check_op("ReduceSum", {"data": x, "axes": axes}, ["reduced"], initializers={"axes": axes},
                 expected={"reduced": x})
