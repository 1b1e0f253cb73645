import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest
from onnx import numpy_helper

from op_harness import check_op


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 20).astype(dtype)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (7,), (), (0, 3)])
def test_shape(shape):
    x = rand(shape, np.float32)
    check_op("Shape", {"X": x}, ["Y"])
    r = len(shape)
    for start in [None, 0, 1, -1, -10, 10]:
        for end in [None, 2, -1, -10, 10]:
            attrs = {k: v for k, v in {"start": start, "end": end}.items() if v is not None}
            check_op("Shape", {"X": x}, ["Y"], attrs=attrs, opset=15)


@pytest.mark.parametrize("shape", [(2, 3, 4), (7,), (), (0, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_size(shape, dtype):
    check_op("Size", {"X": rand(shape, dtype)}, ["Y"])


@pytest.mark.parametrize("dims", [[2, 3], [4], [], [3, 0, 2]])
@pytest.mark.parametrize("value", [None, np.array([2.5], np.float32), np.array([-7], np.int64),
                                   np.array([True]), np.array([3], np.float16)])
def test_constant_of_shape(dims, value):
    attrs = {} if value is None else {"value": numpy_helper.from_array(value)}
    s = np.array(dims, np.int64)
    check_op("ConstantOfShape", {"S": s}, ["Y"], attrs=attrs)
    check_op("ConstantOfShape", {"S": s}, ["Y"], attrs=attrs, initializers={"S": s})


RANGES = [(0, 10, 3), (10, 0, -3), (5, 5, 1), (1, 10, -1), (-7, 8, 2), (3, -20, -4)]


@pytest.mark.parametrize("start,limit,delta", RANGES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.int16])
def test_range(start, limit, delta, dtype):
    inputs = {"S": np.array(start, dtype), "L": np.array(limit, dtype), "D": np.array(delta, dtype)}
    check_op("Range", inputs, ["Y"])
    check_op("Range", inputs, ["Y"], initializers=inputs)


def test_range_fractional():
    inputs = {"S": np.array(0.5, np.float32), "L": np.array(3.3, np.float32), "D": np.array(0.7, np.float32)}
    check_op("Range", inputs, ["Y"])


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 2), (0, 4)])
@pytest.mark.parametrize("k", [0, 1, -1, 3, -7])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_eye_like(shape, k, dtype):
    check_op("EyeLike", {"X": rand(shape, dtype)}, ["Y"], attrs={"k": k})


def test_eye_like_dtype_attr():
    check_op("EyeLike", {"X": rand((4, 3), np.float32)}, ["Y"], attrs={"dtype": 7, "k": 1})


BAD = [("Range", {"S": np.array(0, np.int64), "L": np.array(5, np.int64), "D": np.array(0, np.int64)}),
       ("Range", {"S": np.array(0.0, np.float32), "L": np.array(np.inf, np.float32),
                  "D": np.array(1.0, np.float32)}),
       ("ConstantOfShape", {"S": np.array([2, -1], np.int64)}),
       ("EyeLike", {"X": np.zeros((2, 2, 2), np.float32)})]


@pytest.mark.parametrize("op,inputs", BAD)
def test_bad_input_fails_cleanly(op, inputs):
    with pytest.raises(RuntimeError, match=op):
        check_op(op, inputs, ["Y"], expected={"Y": np.zeros(1)})
