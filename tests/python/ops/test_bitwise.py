import numpy as np
import pytest

from op_harness import check_op

SHAPES = [((2, 3), (2, 3)), ((2, 3, 4), (4,)), ((1, 3, 1), (2, 1, 5)), ((0, 3), (3,)), ((), (2, 2)), ((5,), ())]
UNSIGNED = [np.uint8, np.uint16, np.uint32, np.uint64]


def rand_int(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", UNSIGNED)
def test_bitshift(direction, shapes, dtype):
    rng = np.random.default_rng(0)
    bits = np.iinfo(dtype).bits
    x = rand_int(rng, shapes[0], dtype)
    n = rng.integers(0, bits, shapes[1]).astype(dtype)
    check_op("BitShift", {"X": x, "Y": n}, ["Z"], attrs={"direction": direction})


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
def test_bitshift_by_width_or_more_is_zero(direction):
    x = np.array([1, 255, 128, 7], np.uint8)
    n = np.array([8, 9, 200, 255], np.uint8)
    check_op("BitShift", {"X": x, "Y": n}, ["Z"], attrs={"direction": direction},
             expected={"Z": np.zeros(4, np.uint8)})


def test_bitshift_bad_direction():
    with pytest.raises(RuntimeError, match="direction"):
        check_op("BitShift", {"X": np.ones(2, np.uint8), "Y": np.ones(2, np.uint8)}, ["Z"],
                 attrs={"direction": "UP"}, expected={"Z": np.ones(2, np.uint8)})


@pytest.mark.parametrize("op", ["BitwiseAnd", "BitwiseOr", "BitwiseXor"])
@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64] + UNSIGNED)
def test_bitwise(op, shapes, dtype):
    rng = np.random.default_rng(1)
    check_op(op, {"A": rand_int(rng, shapes[0], dtype), "B": rand_int(rng, shapes[1], dtype)}, ["C"])


def test_bitwise_rejects_float():
    with pytest.raises(RuntimeError, match="integers"):
        check_op("BitwiseAnd", {"A": np.ones(2, np.float32), "B": np.ones(2, np.float32)}, ["C"],
                 expected={"C": np.ones(2, np.float32)})
