import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 20).astype(dtype)


@pytest.mark.parametrize("shape,axis,n", [((3, 4), 0, 3), ((3, 4), 1, 2), ((3, 4), -1, 4), ((3, 4), None, 12),
                                          ((2, 3, 5), 2, 5), ((2, 3, 5), None, 7), ((4, 2), 0, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_compress(shape, axis, n, dtype):
    x = rand(shape, dtype)
    cond = np.random.default_rng(2).random(n) > 0.4
    attrs = {} if axis is None else {"axis": axis}
    check_op("Compress", {"X": x, "C": cond}, ["Y"], attrs=attrs)


@pytest.mark.parametrize("shape", [(3, 4), (7,), (2, 3, 4), (0, 3), (1,)])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_, np.float16])
def test_nonzero(shape, dtype):
    x = rand(shape, dtype)
    if dtype != np.bool_:
        x = np.where(np.random.default_rng(3).random(shape) > 0.5, x, 0).astype(dtype)
    check_op("NonZero", {"X": x}, ["Y"])


@pytest.mark.parametrize("time_axis", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_reverse_sequence(time_axis, dtype):
    batch, steps = 4, 5
    shape = (steps, batch, 3) if time_axis == 0 else (batch, steps, 3)
    x = rand(shape, dtype)
    lens = np.array([5, 2, 1, 3], np.int64)
    check_op("ReverseSequence", {"X": x, "L": lens}, ["Y"], attrs={"time_axis": time_axis,
                                                                   "batch_axis": 1 - time_axis})


@pytest.mark.parametrize("shape,target,axes", [((10, 7, 3), [8, 9, 3], None), ((5, 6), [3, 3], None),
                                               ((5, 6), [8, 2], None), ((4, 5, 3), [2, 7], [0, 1]),
                                               ((4, 5, 3), [6], [-2]), ((3, 3), [3, 3], None)])
@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_center_crop_pad(shape, target, axes, dtype):
    x = rand(shape, dtype)
    attrs = {} if axes is None else {"axes": axes}
    check_op("CenterCropPad", {"X": x, "S": np.array(target, np.int64)}, ["Y"], attrs=attrs)


BAD = [
    ("Compress", {"X": np.ones((2, 3), np.float32), "C": np.array([0, 0, 0, 1], bool)}, {"axis": 1}),
    ("Compress", {"X": np.ones((2, 3), np.float32), "C": np.array([1, 0], bool)}, {"axis": 2}),
    ("ReverseSequence", {"X": np.ones((3, 2), np.float32), "L": np.array([4, 1], np.int64)}, {}),
    ("ReverseSequence", {"X": np.ones((3, 2), np.float32), "L": np.array([1], np.int64)}, {}),
    ("CenterCropPad", {"X": np.ones((3, 2), np.float32), "S": np.array([1], np.int64)}, {}),
]


@pytest.mark.parametrize("op,inputs,attrs", BAD)
def test_bad_input_fails_cleanly(op, inputs, attrs):
    with pytest.raises(RuntimeError, match=op):
        check_op(op, inputs, ["Y"], attrs=attrs, expected={"Y": np.zeros(1)})


def test_reverse_sequence_zero_length_copies():
    x = rand((3, 2), np.float32)
    check_op("ReverseSequence", {"X": x, "L": np.array([0, 3], np.int64)}, ["Y"],
             expected={"Y": np.stack([x[:, 0], x[::-1, 1]], axis=1)})
