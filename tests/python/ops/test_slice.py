import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 20).astype(dtype)


# (shape, starts, ends, axes, steps)
SLICES = [
    ((20, 10, 5), [0, 0], [3, 10], None, None),
    ((20, 10, 5), [1], [1000], [1], None),
    ((20, 10, 5), [-5], [I64_MAX], [0], None),
    ((20, 10, 5), [0, 0, 3], [20, 10, 4], [0, 1, 2], [1, 1, 1]),
    ((20, 10, 5), [-1], [I64_MIN], [1], [-1]),
    ((20, 10, 5), [20, 10], [0, -100], [0, 1], [-3, -2]),
    ((20, 10, 5), [0, 1], [-1, 1000], [-1, -3], [2, 7]),
    ((20, 10, 5), [1000], [1001], [1], [1]),
    ((20, 10, 5), [3], [1], [0], [1]),
    ((7,), [-100], [100], [0], [3]),
    ((7,), [5], [-100], [0], [-2]),
    ((4, 0, 3), [0], [2], [0], None),
    ((3, 4), [0, 0], [3, 4], [1, 0], [1, 1]),
    ((20, 10, 5), [2, -1], [20, I64_MIN], [0, 1], [I64_MAX, I64_MIN]),  # huge steps must not overflow
]


@pytest.mark.parametrize("shape,starts,ends,axes,steps", SLICES)
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16, np.bool_])
def test_slice(shape, starts, ends, axes, steps, dtype):
    x = rand(shape, dtype)
    inputs = {"X": x, "S": np.array(starts, np.int64), "E": np.array(ends, np.int64)}
    if axes is not None:
        inputs["A"] = np.array(axes, np.int64)
    if steps is not None:
        if axes is None:
            inputs["A"] = np.arange(len(starts), dtype=np.int64)
        inputs["T"] = np.array(steps, np.int64)
    consts = {k: v for k, v in inputs.items() if k != "X"}
    check_op("Slice", inputs, ["Y"], initializers=consts)
    check_op("Slice", inputs, ["Y"])  # slice parameters known only at run time


def test_slice_int32_params():
    x = rand((6, 8), np.float32)
    inputs = {"X": x, "S": np.array([1, -3], np.int32), "E": np.array([5, 1], np.int32),
              "A": np.array([0, 1], np.int32), "T": np.array([2, -1], np.int32)}
    check_op("Slice", inputs, ["Y"])


@pytest.mark.parametrize("starts,ends,axes", [([1], [3], None), ([0, 1], [2, -1], [1, 0]), ([2], [100], [-1])])
def test_slice_opset9_attributes(starts, ends, axes):
    x = rand((4, 5), np.float32)
    attrs = {"starts": starts, "ends": ends}
    if axes is not None:
        attrs["axes"] = axes
    check_op("Slice", {"X": x}, ["Y"], attrs=attrs, opset=9)


BAD = [
    ([0], [1], [2], [1]),  # axis out of range
    ([0, 0], [1, 1], [0, 0], [1, 1]),  # repeated axis
    ([0], [1], [0], [0]),  # step 0
    ([0, 1], [1], [0], [1]),  # length mismatch
]


@pytest.mark.parametrize("starts,ends,axes,steps", BAD)
def test_bad_input_fails_cleanly(starts, ends, axes, steps):
    x = rand((3, 4), np.float32)
    inputs = {"X": x, "S": np.array(starts, np.int64), "E": np.array(ends, np.int64), "A": np.array(axes, np.int64),
              "T": np.array(steps, np.int64)}
    with pytest.raises(RuntimeError, match="Slice"):
        check_op("Slice", inputs, ["Y"], expected={"Y": x})
