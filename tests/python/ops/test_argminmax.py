import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

SHAPES_AXES = [((5,), 0), ((3, 4), 1), ((3, 4), -2), ((2, 3, 4), 1), ((2, 1, 7), -1), ((0, 3), 1), ((1,), 0)]


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("shape_axis", SHAPES_AXES)
@pytest.mark.parametrize("keepdims", [0, 1])
@pytest.mark.parametrize("select_last_index", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.int8])
def test_arg(op, shape_axis, keepdims, select_last_index, dtype):
    shape, axis = shape_axis
    rng = np.random.default_rng(abs(axis) + 3 * keepdims)
    # Few distinct values, so ties are common and select_last_index matters.
    x = rng.integers(0, 4, size=shape).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        x = (x + rng.choice([0.0, 0.5], size=shape)).astype(dtype)
    check_op(op, {"data": x}, ["reduced"],
             attrs={"axis": axis, "keepdims": keepdims, "select_last_index": select_last_index})


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_default_axis_old_opset(op):
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    check_op(op, {"data": x}, ["reduced"], opset=11)


def test_arg_bad_axis():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.raises(RuntimeError, match="out of range"):
        check_op("ArgMax", {"data": x}, ["reduced"], attrs={"axis": 2}, expected={"reduced": x})
