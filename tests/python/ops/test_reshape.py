import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

DTYPES = [np.float32, np.float16, np.int64, np.int8, np.bool_]


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 20).astype(dtype)


RESHAPES = [
    ((2, 3, 4), [4, 6], 0),
    ((2, 3, 4), [-1], 0),
    ((2, 3, 4), [0, -1], 0),
    ((2, 3, 4), [0, 0, 2, 2], 0),
    ((2, 3, 4), [-1, 4, 1], 0),
    ((1, 5, 7), [7, 0, -1], 0),
    ((6,), [1, 2, 1, 3], 0),
    ((0, 3), [3, 0], 1),
    ((0, 3), [-1, 3], 0),
    ((3, 0), [0, 5, 0], 1),
    ((), [1, 1], 0),
    ((1,), [], 0),
]


@pytest.mark.parametrize("shape,spec,allowzero", RESHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape(shape, spec, allowzero, dtype):
    x = rand(shape, dtype)
    s = np.array(spec, dtype=np.int64)
    check_op("Reshape", {"X": x, "S": s}, ["Y"], attrs={"allowzero": allowzero}, initializers={"S": s})


def test_reshape_runtime_shape_input():
    x = rand((4, 6), np.float32)
    check_op("Reshape", {"X": x, "S": np.array([3, -1, 2], dtype=np.int64)}, ["Y"])


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), (), (2, 0, 3), (1, 2, 1, 3, 1)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_flatten(shape, dtype):
    r = len(shape)
    x = rand(shape, dtype)
    for axis in range(-r, r + 1):
        a = axis + r if axis < 0 else axis
        # onnx.reference cannot flatten empty tensors (numpy's -1 is ambiguous there): expect numpy's answer.
        want = {"Y": x.reshape(int(np.prod(shape[:a])), int(np.prod(shape[a:])))} if x.size == 0 else None
        check_op("Flatten", {"X": x}, ["Y"], attrs={"axis": axis}, expected=want)


SQUEEZE = [((1, 3, 1, 4), None), ((1, 3, 1, 4), [0]), ((1, 3, 1, 4), [-2, 0]), ((1, 1), [1]), ((1,), [0]),
           ((3, 1, 0), [1]), ((2, 3), None)]


@pytest.mark.parametrize("shape,axes", SQUEEZE)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
def test_squeeze(shape, axes, dtype):
    x = rand(shape, dtype)
    if axes is None:
        check_op("Squeeze", {"X": x}, ["Y"])
    else:
        a = np.array(axes, dtype=np.int64)
        check_op("Squeeze", {"X": x, "A": a}, ["Y"], initializers={"A": a})
        check_op("Squeeze", {"X": x}, ["Y"], attrs={"axes": axes}, opset=11)


UNSQUEEZE = [((3, 4), [0]), ((3, 4), [2]), ((3, 4), [-1]), ((3, 4), [0, 3]), ((3, 4), [3, 0, -3]), ((), [0]),
             ((0, 2), [1, 2]), ((5,), [-1, -2])]


@pytest.mark.parametrize("shape,axes", UNSQUEEZE)
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16])
def test_unsqueeze(shape, axes, dtype):
    x = rand(shape, dtype)
    a = np.array(axes, dtype=np.int64)
    check_op("Unsqueeze", {"X": x, "A": a}, ["Y"], initializers={"A": a})
    # onnx.reference's Unsqueeze-11 inserts axes one at a time, which the spec does not: expect numpy's answer.
    want = {"Y": np.expand_dims(x, tuple(axes))}
    check_op("Unsqueeze", {"X": x}, ["Y"], attrs={"axes": axes}, opset=11, expected=want)


BAD = [
    ("Reshape", (2, 3), {"S": np.array([4, -1], dtype=np.int64)}, {}),
    ("Reshape", (2, 3), {"S": np.array([-1, -1], dtype=np.int64)}, {}),
    ("Reshape", (2, 3), {"S": np.array([0, 0, 0], dtype=np.int64)}, {}),
    ("Reshape", (2, 3), {"S": np.array([7], dtype=np.int64)}, {}),
    ("Squeeze", (2, 3), {"A": np.array([0], dtype=np.int64)}, {}),
    ("Squeeze", (1, 3), {"A": np.array([2], dtype=np.int64)}, {}),
    ("Unsqueeze", (2, 3), {"A": np.array([0, 0], dtype=np.int64)}, {}),
    ("Unsqueeze", (2, 3), {"A": np.array([5], dtype=np.int64)}, {}),
    ("Flatten", (2, 3), {}, {"axis": 3}),
]


@pytest.mark.parametrize("op,shape,extra,attrs", BAD)
def test_bad_input_fails_cleanly(op, shape, extra, attrs):
    x = rand(shape, np.float32)
    with pytest.raises(RuntimeError, match=op):
        check_op(op, {"X": x, **extra}, ["Y"], attrs=attrs, expected={"Y": x})
