import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op


def rand(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 20).astype(dtype)


@pytest.mark.parametrize("shape,b", [((1, 8, 2, 3), 2), ((2, 18, 3, 1), 3), ((1, 4, 1, 1), 2), ((3, 4, 5, 7), 1)])
@pytest.mark.parametrize("mode", ["DCR", "CRD"])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
def test_depth_to_space(shape, b, mode, dtype):
    check_op("DepthToSpace", {"X": rand(shape, dtype)}, ["Y"], attrs={"blocksize": b, "mode": mode})


@pytest.mark.parametrize("shape,b", [((1, 2, 4, 6), 2), ((2, 3, 9, 3), 3), ((1, 1, 2, 2), 2), ((2, 3, 5, 7), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_space_to_depth(shape, b, dtype):
    check_op("SpaceToDepth", {"X": rand(shape, dtype)}, ["Y"], attrs={"blocksize": b})


@pytest.mark.parametrize("op,shape,b", [("DepthToSpace", (1, 6, 2, 2), 2), ("SpaceToDepth", (1, 2, 3, 4), 2),
                                        ("DepthToSpace", (6, 2, 2), 2), ("SpaceToDepth", (1, 2, 4, 4), 0)])
def test_bad_input_fails_cleanly(op, shape, b):
    x = rand(shape, np.float32)
    with pytest.raises(RuntimeError, match=op):
        check_op(op, {"X": x}, ["Y"], attrs={"blocksize": b}, expected={"Y": x})
