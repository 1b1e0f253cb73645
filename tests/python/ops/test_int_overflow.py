"""Integer arithmetic that overflows wraps as two's complement, as onnxruntime and numpy give (and with no
undefined behaviour: the sanitizer build runs these)."""
import numpy as np
import pytest

from op_harness import check_op

INT_TYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def extremes(dtype):
    info = np.iinfo(dtype)
    return np.array([info.min, info.max, info.max - 1, info.min + 1, 0, 1, -1 if info.min < 0 else 2, 3],
                    dtype=dtype)


@pytest.mark.parametrize("op,fn", [("Add", np.add), ("Sub", np.subtract), ("Mul", np.multiply)])
@pytest.mark.parametrize("dtype", INT_TYPES)
def test_binary_wraps(op, fn, dtype):
    a = extremes(dtype)
    b = np.roll(a, 1).reshape(1, -1)
    grid_a = np.repeat(a.reshape(-1, 1), a.size, axis=1)
    with np.errstate(over="ignore"):
        want = fn(grid_a, np.repeat(b, a.size, axis=0)).astype(dtype)
    check_op(op, {"A": grid_a, "B": b}, ["C"], expected={"C": want})


@pytest.mark.parametrize("dtype", INT_TYPES)
def test_sum_wraps(dtype):
    a = extremes(dtype)
    with np.errstate(over="ignore"):
        want = (a + a + np.roll(a, 3)).astype(dtype)
    check_op("Sum", {"a": a, "b": a, "c": np.roll(a, 3)}, ["s"], expected={"s": want})


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_neg_abs_of_lowest(dtype):
    a = extremes(dtype)
    with np.errstate(over="ignore"):
        check_op("Neg", {"X": a}, ["Y"], expected={"Y": (-a).astype(dtype)})
        check_op("Abs", {"X": a}, ["Y"], expected={"Y": np.abs(a).astype(dtype)})


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint64])
def test_matmul_and_gemm_wrap(dtype):
    info = np.iinfo(dtype)
    a = np.array([[info.max, info.max, 3], [info.min, 7, info.max]], dtype=dtype)
    b = np.array([[info.max, 2], [5, info.max], [info.min, 1]], dtype=dtype)
    with np.errstate(over="ignore"):
        want = np.matmul(a, b)  # numpy's integer matmul wraps in the element type
    check_op("MatMul", {"A": a, "B": b}, ["Y"], expected={"Y": want.astype(dtype)})
    if dtype != np.uint64:
        c = np.array([info.max, info.min], dtype=dtype)
        with np.errstate(over="ignore"):
            check_op("Gemm", {"A": a, "B": b, "C": c}, ["Y"], expected={"Y": (want + c).astype(dtype)})


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_reduce_sum_prod_and_cumsum_wrap(dtype):
    info = np.iinfo(dtype)
    x = np.array([[info.max, info.max, 5], [info.min, -1, info.min]], dtype=dtype)
    axes = np.array([1], np.int64)
    with np.errstate(over="ignore"):
        check_op("ReduceSum", {"data": x, "axes": axes}, ["r"], expected={"r": x.sum(axis=1, keepdims=True, dtype=dtype)})
        check_op("ReduceProd", {"data": x, "axes": axes}, ["r"], opset=18,
                 expected={"r": x.prod(axis=1, keepdims=True, dtype=dtype)})
        check_op("CumSum", {"x": x, "axis": np.array(1, np.int64)}, ["y"], expected={"y": np.cumsum(x, axis=1, dtype=dtype)})
