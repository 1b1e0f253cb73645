import numpy as np
import pytest

from op_harness import check_op

# Input shape lists: 1..4 inputs, broadcasting among several, scalars, empty dims.
SHAPES = [
    [(2, 3)],
    [(2, 3), (2, 3)],
    [(3, 1), (1, 4)],
    [(2, 3, 4), (4,), (3, 1)],
    [(), (2, 2), (1, 2), (2, 1)],
    [(0, 3), (3,)],
    [(5,), ()],
    [(1, 7, 1), (2, 1, 9), (9,)],
]
ALL = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
       np.uint64]


def rand(rng, shape, dtype):
    if np.issubdtype(dtype, np.integer):
        lo = 0 if np.issubdtype(dtype, np.unsignedinteger) else -50
        return rng.integers(lo, 50, shape).astype(dtype)
    return (rng.standard_normal(shape) * 5).astype(dtype)


def feeds(rng, shapes, dtype):
    return {f"x{i}": rand(rng, s, dtype) for i, s in enumerate(shapes)}


@pytest.mark.parametrize("op", ["Max", "Min"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", ALL)
def test_max_min(op, shapes, dtype):
    rng = np.random.default_rng(0)
    check_op(op, feeds(rng, shapes, dtype), ["y"])


@pytest.mark.parametrize("op", ["Max", "Min"])
def test_max_min_nan_propagates(op):
    a = np.array([np.nan, 1.0, 2.0, -np.inf], np.float32)
    b = np.array([0.0, np.nan, 3.0, 5.0], np.float32)
    fn = np.maximum if op == "Max" else np.minimum
    check_op(op, {"a": a, "b": b}, ["y"], expected={"y": fn(a, b)})


@pytest.mark.parametrize("op", ["Sum", "Mean"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype,rtol,atol", [(np.float32, 1e-6, 1e-6), (np.float64, 1e-12, 1e-12),
                                             (np.float16, 1e-3, 1e-3)])
def test_sum_mean(op, shapes, dtype, rtol, atol):
    rng = np.random.default_rng(1)
    f = feeds(rng, shapes, dtype)
    expected = None
    if op == "Mean":
        # onnx.reference's Mean accumulates in place into the first input, which fails when that input is
        # the one being broadcast; the same left-to-right fold, out of place:
        acc = f["x0"]
        for v in list(f.values())[1:]:
            acc = acc + v
        expected = {"y": (acc / len(f)).astype(dtype)}
    check_op(op, f, ["y"], rtol=rtol, atol=atol, expected=expected)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_sum_int(dtype):
    rng = np.random.default_rng(2)
    f = feeds(rng, [(2, 3), (3,), (2, 1)], dtype)
    check_op("Sum", f, ["y"], expected={"y": f["x0"] + f["x1"] + f["x2"]})


def test_variadic_type_mismatch():
    rng = np.random.default_rng(3)
    with pytest.raises(RuntimeError, match="types differ"):
        check_op("Max", {"a": rand(rng, (2,), np.float32), "b": rand(rng, (2,), np.float64)}, ["y"],
                 expected={"y": np.zeros(2, np.float32)})


def test_variadic_bad_broadcast():
    rng = np.random.default_rng(4)
    with pytest.raises(RuntimeError, match="broadcast"):
        check_op("Sum", {"a": rand(rng, (2, 3), np.float32), "b": rand(rng, (3, 2), np.float32)}, ["y"],
                 expected={"y": np.zeros(2, np.float32)})
