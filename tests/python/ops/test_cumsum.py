import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

SHAPES_AXES = [((7,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 5), -2), ((2, 3, 5), 2), ((0, 4), 1), ((4, 0), 0)]
TOL = {np.float32: (1e-5, 1e-5), np.float64: (1e-12, 1e-12), np.float16: (3e-3, 3e-3)}


@pytest.mark.parametrize("shape_axis", SHAPES_AXES)
@pytest.mark.parametrize("exclusive", [0, 1])
@pytest.mark.parametrize("reverse", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint32, np.uint64])
@pytest.mark.parametrize("axis_dtype", [np.int64, np.int32])
def test_cumsum(shape_axis, exclusive, reverse, dtype, axis_dtype):
    shape, axis = shape_axis
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(shape) * 10).astype(dtype) if np.issubdtype(dtype, np.floating) else \
        rng.integers(0, 50, size=shape).astype(dtype)
    ax = np.array(axis, dtype=axis_dtype)
    rtol, atol = TOL.get(dtype, (0, 0))
    check_op("CumSum", {"x": x, "axis": ax}, ["y"], attrs={"exclusive": exclusive, "reverse": reverse},
             rtol=rtol, atol=atol)


def test_cumsum_constant_axis():
    x = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    ax = np.array(-1, dtype=np.int64)
    check_op("CumSum", {"x": x, "axis": ax}, ["y"], initializers={"axis": ax})


def test_cumsum_bad_axis():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    ax = np.array(3, dtype=np.int64)
    with pytest.raises(RuntimeError, match="out of range"):
        check_op("CumSum", {"x": x, "axis": ax}, ["y"], expected={"y": x})
