import numpy as np
import pytest

from op_harness import check_op

SHAPES = [((2, 3), (2, 3)), ((2, 3, 4), (4,)), ((1, 3, 1), (2, 1, 5)), ((0, 3), (3,)), ((), (2, 2)), ((5,), ())]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_arith(op, shapes, dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shapes[0]) * 10).astype(dtype)
    b = (rng.standard_normal(shapes[1]) * 10).astype(dtype)
    if op == "Div" and np.issubdtype(dtype, np.integer):
        # Integer division truncates toward zero (as onnxruntime and C++ do); onnx.reference floors,
        # so compare on non-negative operands where both agree.
        a, b = np.abs(a), np.abs(b)
        b = np.where(b == 0, 3, b).astype(dtype)
    check_op(op, {"A": a, "B": b}, ["C"])
