import numpy as np
import pytest

from op_harness import check_op

SHAPES = [((2, 3), (2, 3)), ((2, 3, 4), (4,)), ((1, 3, 1), (2, 1, 5)), ((0, 3), (3,)), ((), (2, 2)), ((5,), ()),
          ((3, 4, 5), (3, 1, 5)), ((7,), (7,))]
NUMERIC = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
           np.uint32, np.uint64]


def rand(rng, shape, dtype):
    """Small-range values so that ties (equal elements) are frequent."""
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        lo = 0 if np.issubdtype(dtype, np.unsignedinteger) else -3
        return rng.integers(lo, 4, shape).astype(dtype)
    v = rng.integers(-3, 4, shape) * 0.5 + (rng.random(shape) < 0.3) * rng.standard_normal(shape)
    return v.astype(dtype)


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", NUMERIC)
def test_compare(op, shapes, dtype):
    rng = np.random.default_rng(0)
    check_op(op, {"A": rand(rng, shapes[0], dtype), "B": rand(rng, shapes[1], dtype)}, ["C"])


@pytest.mark.parametrize("op", ["Equal", "Less", "Greater"])
def test_compare_nan(op):
    a = np.array([np.nan, 1.0, np.nan, -np.inf, 2.5], np.float32)
    b = np.array([np.nan, np.nan, 1.0, -np.inf, 2.5], np.float32)
    check_op(op, {"A": a, "B": b}, ["C"])


@pytest.mark.parametrize("shapes", SHAPES)
def test_equal_bool(shapes):
    rng = np.random.default_rng(1)
    check_op("Equal", {"A": rand(rng, shapes[0], np.bool_), "B": rand(rng, shapes[1], np.bool_)}, ["C"])


@pytest.mark.parametrize("shapes", SHAPES[:6])
def test_equal_string(shapes):
    rng = np.random.default_rng(2)
    words = np.array(["", "a", "ab", "b"])
    a = words[rng.integers(0, 4, shapes[0])]
    b = words[rng.integers(0, 4, shapes[1])]
    check_op("Equal", {"A": a, "B": b}, ["C"], expected={"C": np.equal(a, b)})


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_logic(op, shapes):
    rng = np.random.default_rng(3)
    check_op(op, {"A": rand(rng, shapes[0], np.bool_), "B": rand(rng, shapes[1], np.bool_)}, ["C"])


@pytest.mark.parametrize("op,fn", [("Equal", np.equal), ("Less", np.less), ("And", np.logical_and)])
def test_legacy_axis_broadcast(op, fn):
    """Opset < 7: broadcast=1 with axis places B at that axis of A."""
    rng = np.random.default_rng(4)
    dtype = np.bool_ if op == "And" else np.int32
    a = rand(rng, (2, 3, 4, 5), dtype)
    b = rand(rng, (3, 4), dtype)
    check_op(op, {"A": a, "B": b}, ["C"], attrs={"broadcast": 1, "axis": 1}, opset=6,
             expected={"C": fn(a, b.reshape(3, 4, 1))})


def test_logic_rejects_non_bool():
    rng = np.random.default_rng(5)
    with pytest.raises(RuntimeError, match="bool"):
        check_op("And", {"A": rand(rng, (2,), np.int32), "B": rand(rng, (2,), np.int32)}, ["C"],
                 expected={"C": np.zeros(2, bool)})


def test_compare_type_mismatch():
    rng = np.random.default_rng(6)
    with pytest.raises(RuntimeError, match="types differ"):
        check_op("Less", {"A": rand(rng, (2,), np.int32), "B": rand(rng, (2,), np.float32)}, ["C"],
                 expected={"C": np.zeros(2, bool)})
