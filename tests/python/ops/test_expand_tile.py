import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

DTYPES = [np.float32, np.float16, np.int64, np.uint8, np.bool_]


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 20).astype(dtype)


EXPAND = [((3, 1), [2, 1, 6]), ((3, 1), [3, 4]), ((1,), [5]), ((), [2, 3]), ((2, 1, 3), [1, 1]),
          ((4, 1, 1), [4, 0, 5]), ((1, 3), [7, 1, 1, 3]), ((2, 3), [2, 3])]


@pytest.mark.parametrize("shape,target", EXPAND)
@pytest.mark.parametrize("dtype", DTYPES)
def test_expand(shape, target, dtype):
    x = rand(shape, dtype)
    s = np.array(target, np.int64)
    check_op("Expand", {"X": x, "S": s}, ["Y"], initializers={"S": s})
    check_op("Expand", {"X": x, "S": s}, ["Y"])


TILE = [((2, 3), [1, 1]), ((2, 3), [3, 2]), ((3,), [4]), ((2, 1, 3), [2, 3, 1]), ((2, 3), [0, 2]),
        ((0, 2), [3, 2])]


@pytest.mark.parametrize("shape,reps", TILE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_tile(shape, reps, dtype):
    x = rand(shape, dtype)
    r = np.array(reps, np.int64)
    check_op("Tile", {"X": x, "R": r}, ["Y"], initializers={"R": r})
    check_op("Tile", {"X": x, "R": r}, ["Y"])


BAD = [("Expand", (3, 2), {"S": np.array([3, 4], np.int64)}), ("Expand", (3,), {"S": np.array([-2], np.int64)}),
       ("Tile", (2, 3), {"R": np.array([2], np.int64)}), ("Tile", (2, 3), {"R": np.array([2, -1], np.int64)})]


@pytest.mark.parametrize("op,shape,extra", BAD)
def test_bad_input_fails_cleanly(op, shape, extra):
    x = rand(shape, np.float32)
    with pytest.raises(RuntimeError, match=op):
        check_op(op, {"X": x, **extra}, ["Y"], expected={"Y": x})
