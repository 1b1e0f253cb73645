import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op


def rand(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 20).astype(dtype)


@pytest.mark.parametrize("ishape,axis", [((5,), -1), ((5,), 0), ((5,), 1), ((2, 3), -1), ((2, 3), 0), ((2, 3), 1),
                                         ((2, 3), -3), ((), 0), ((), -1), ((2, 0), 1)])
@pytest.mark.parametrize("idtype", [np.int64, np.int32, np.float32])
@pytest.mark.parametrize("vdtype", [np.float32, np.int64])
def test_one_hot(ishape, axis, idtype, vdtype):
    depth = 7
    idx = np.random.default_rng(1).integers(-depth, depth, size=ishape).astype(idtype)
    inputs = {"I": idx, "D": np.array(depth, np.int64), "V": np.array([-2, 5], vdtype)}
    check_op("OneHot", inputs, ["Y"], attrs={"axis": axis})


def test_one_hot_out_of_range_is_all_off():
    # The spec: indices outside [-depth, depth) give all-off rows (onnx.reference wraps them modulo depth).
    idx = np.array([1, 9, -9, -1], np.int64)
    want = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1]], np.float32)
    inputs = {"I": idx, "D": np.array(3.0, np.float32), "V": np.array([0, 1], np.float32)}
    check_op("OneHot", inputs, ["Y"], expected={"Y": want})


@pytest.mark.parametrize("shape", [(4, 5), (5, 4), (2, 3, 3), (1, 0, 3), (3, 1)])
@pytest.mark.parametrize("upper", [0, 1])
@pytest.mark.parametrize("k", [None, 0, 1, -1, 3, -4, 10])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_trilu(shape, upper, k, dtype):
    x = rand(shape, dtype)
    inputs = {"X": x}
    if k is not None:
        inputs["K"] = np.array(k, np.int64)
    check_op("Trilu", inputs, ["Y"], attrs={"upper": upper})


def test_trilu_extreme_k():
    x = rand((3, 4), np.float32)
    for k in [np.iinfo(np.int64).max, np.iinfo(np.int64).min]:
        for upper in [0, 1]:
            want = np.triu(x, 0) * 0 if (upper and k > 0) or (not upper and k < 0) else x
            check_op("Trilu", {"X": x, "K": np.array(k, np.int64)}, ["Y"], attrs={"upper": upper},
                     expected={"Y": want})


@pytest.mark.parametrize("op,inputs", [
    ("OneHot", {"I": np.array([1], np.int64), "D": np.array(0, np.int64), "V": np.array([0, 1], np.float32)}),
    ("OneHot", {"I": np.array([1], np.int64), "D": np.array(3, np.int64), "V": np.array([0, 1, 2], np.float32)}),
    ("Trilu", {"X": np.ones(3, np.float32)}),
])
def test_bad_input_fails_cleanly(op, inputs):
    with pytest.raises(RuntimeError, match=op):
        check_op(op, inputs, ["Y"], expected={"Y": np.zeros(1)})
