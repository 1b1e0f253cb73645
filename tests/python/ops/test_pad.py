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


PADS = [((3, 4), [1, 2, 0, 3]), ((3, 4), [0, 0, 0, 0]), ((2, 3, 5), [0, 1, 2, 1, 0, 4]), ((5,), [4, 3]),
        ((1, 2, 3, 4), [0, 0, 2, 1, 0, 0, 1, 3]), ((3, 4), [3, 5, 2, 7])]


@pytest.mark.parametrize("shape,pads", PADS)
@pytest.mark.parametrize("mode", ["constant", "reflect", "edge", "wrap"])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.float16])
def test_pad_modes(shape, pads, mode, dtype):
    x = rand(shape, dtype)
    p = np.array(pads, np.int64)
    inputs = {"X": x, "P": p}
    if mode == "constant":
        inputs["V"] = np.array(dtype(7), dtype)
    check_op("Pad", inputs, ["Y"], attrs={"mode": mode}, opset=19, initializers={"P": p})
    check_op("Pad", inputs, ["Y"], attrs={"mode": mode}, opset=19)


@pytest.mark.parametrize("axes,pads", [([1], [2, 1]), ([-1, 0], [1, 0, 2, 3]), ([0, 2], [1, 1, 0, 2])])
@pytest.mark.parametrize("mode", ["constant", "edge"])
def test_pad_axes(axes, pads, mode):
    x = rand((3, 4, 5), np.float32)
    inputs = {"X": x, "P": np.array(pads, np.int64), "V": None, "A": np.array(axes, np.int64)}
    check_op("Pad", inputs, ["Y"], attrs={"mode": mode}, opset=18)


def test_pad_negative_pads_crop():
    x = rand((5, 6), np.float32)
    want = np.pad(x[1:, :4], ((0, 2), (3, 0)), constant_values=0)
    check_op("Pad", {"X": x, "P": np.array([-1, 3, 2, -2], np.int64)}, ["Y"], expected={"Y": want})


def test_pad_opset2_attributes():
    x = rand((3, 4), np.float32)
    check_op("Pad", {"X": x}, ["Y"], attrs={"pads": [1, 0, 2, 3], "value": 1.5, "mode": "constant"}, opset=2)
    check_op("Pad", {"X": x}, ["Y"], attrs={"pads": [1, 2, 1, 2], "mode": "edge"}, opset=2)


def test_pad_bool_and_int8():
    for dtype in [np.bool_, np.int8]:
        x = rand((3, 4), dtype)
        check_op("Pad", {"X": x, "P": np.array([1, 1, 2, 0], np.int64)}, ["Y"])


BAD = [({"P": np.array([1, 1], np.int64)}, {}),
       ({"P": np.array([0, np.iinfo(np.int64).max, 0, 5], np.int64)}, {}), ({"P": np.array([0, -5, 0, 0], np.int64)}, {}),
       ({"P": np.array([0, 0, 0, 0], np.int64)}, {"mode": "bogus"})]


@pytest.mark.parametrize("extra,attrs", BAD)
def test_bad_input_fails_cleanly(extra, attrs):
    x = rand((3, 4), np.float32)
    with pytest.raises(RuntimeError, match="Pad"):
        check_op("Pad", {"X": x, **extra}, ["Y"], attrs=attrs, expected={"Y": x})


def test_reflect_of_empty_axis_fails_cleanly():
    x = rand((0, 4), np.float32)
    with pytest.raises(RuntimeError, match="Pad"):
        check_op("Pad", {"X": x, "P": np.array([1, 0, 1, 0], np.int64)}, ["Y"], attrs={"mode": "reflect"},
                 expected={"Y": x})
