import numpy as np
import pytest

from op_harness import check_op

SHAPES = [((2, 3), (2, 3)), ((2, 3, 4), (4,)), ((1, 3, 1), (2, 1, 5)), ((0, 3), (3,)), ((), (2, 2)), ((5,), ()),
          ((4, 1, 6), (4, 5, 1)), ((2, 1, 1, 7), (2, 3, 7, 7))]


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


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.uint16, np.uint32, np.uint64])
def test_arith_small_ints(op, dtype):
    rng = np.random.default_rng(1)
    a = rng.integers(1, 100, (3, 5)).astype(dtype)
    b = rng.integers(1, 10, (5,)).astype(dtype)
    check_op(op, {"A": a, "B": b}, ["C"])


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", SHAPES[:4])
def test_arith_float16(op, shapes):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shapes[0]).astype(np.float16)
    b = (rng.random(shapes[1]) + 0.5).astype(np.float16)
    check_op(op, {"A": a, "B": b}, ["C"], rtol=1e-3, atol=1e-3)


def test_int_div_by_zero_fails():
    with pytest.raises(RuntimeError, match="division by zero"):
        check_op("Div", {"A": np.array([1, 2], np.int32), "B": np.array([1, 0], np.int32)}, ["C"],
                 expected={"C": np.zeros(2, np.int32)})


def test_int_div_truncates():
    a = np.array([7, -7, 7, -7, np.iinfo(np.int32).min], np.int32)
    b = np.array([2, 2, -2, -2, -1], np.int32)
    check_op("Div", {"A": a, "B": b}, ["C"],
             expected={"C": np.array([3, -3, -3, 3, np.iinfo(np.int32).min], np.int32)})


@pytest.mark.parametrize("op,fn", [("Add", np.add), ("Sub", np.subtract), ("Mul", np.multiply),
                                   ("Div", np.divide)])
@pytest.mark.parametrize("a_shape,b_shape,axis", [((2, 3, 4, 5), (3,), 1), ((2, 3, 4, 5), (3, 4), 1),
                                                  ((2, 3, 4, 5), (5,), -1), ((2, 3, 4, 5), (2,), 0),
                                                  ((2, 3, 4, 5), (4, 5), 2)])
def test_legacy_broadcast_axis(op, fn, a_shape, b_shape, axis):
    """Opset 6: with broadcast=1, B's dims line up with A's starting at `axis`."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = (rng.random(b_shape) + 0.5).astype(np.float32)
    start = axis % len(a_shape)
    b_aligned = b.reshape(b_shape + (1,) * (len(a_shape) - start - len(b_shape)))
    check_op(op, {"A": a, "B": b}, ["C"], attrs={"broadcast": 1, "axis": axis}, opset=6,
             expected={"C": fn(a, b_aligned).astype(np.float32)}, rtol=1e-6)


def test_legacy_broadcast_no_axis_is_trailing():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    b = rng.standard_normal((3, 4)).astype(np.float32)
    check_op("Add", {"A": a, "B": b}, ["C"], attrs={"broadcast": 1}, opset=6, expected={"C": a + b})


def test_legacy_broadcast_bad_axis():
    rng = np.random.default_rng(5)
    with pytest.raises(RuntimeError, match="axis"):
        check_op("Add", {"A": rng.standard_normal((2, 3)).astype(np.float32),
                         "B": rng.standard_normal((3, 4)).astype(np.float32)}, ["C"],
                 attrs={"broadcast": 1, "axis": 1}, opset=6, expected={"C": np.zeros((2, 3))})


def test_type_mismatch():
    with pytest.raises(RuntimeError, match="types differ"):
        check_op("Add", {"A": np.ones(2, np.float32), "B": np.ones(2, np.float64) * 2}, ["C"],
                 expected={"C": np.ones(2, np.float32)})
