import numpy as np
import pytest

from op_harness import check_op

# (X, slope): scalar slope, per-channel [C,1,1] as PyTorch exports it, full shape, trailing broadcast, empty.
SHAPES = [((2, 3, 4, 5), (1,)), ((2, 3, 4, 5), (3, 1, 1)), ((2, 3, 4, 5), (2, 3, 4, 5)), ((3, 4, 5), (5,)),
          ((2, 3), ()), ((0, 3), (3,)), ((7,), (7,))]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64])
def test_prelu(shapes, dtype):
    rng = np.random.default_rng(0)
    if np.issubdtype(dtype, np.integer):
        x = rng.integers(-20, 20, shapes[0]).astype(dtype)
        s = rng.integers(-3, 4, shapes[1]).astype(dtype)
    else:
        x = rng.standard_normal(shapes[0]).astype(dtype)
        s = (rng.random(shapes[1]) * 0.5).astype(dtype)
    rtol = 1e-3 if dtype == np.float16 else 1e-6
    check_op("PRelu", {"X": x, "slope": s}, ["Y"], rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_prelu_unsigned(dtype):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 100, (3, 4)).astype(dtype)
    s = rng.integers(0, 5, (4,)).astype(dtype)
    check_op("PRelu", {"X": x, "slope": s}, ["Y"], expected={"Y": x})


@pytest.mark.parametrize("opset", [6, 16])
def test_prelu_channel_slope(opset):
    """A 1-D slope of C elements on NCHW: along the channel axis (what opsets before 7 meant)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    s = rng.random(3).astype(np.float32)
    expected = np.where(x > 0, x, x * s.reshape(3, 1, 1))
    check_op("PRelu", {"X": x, "slope": s}, ["Y"], opset=opset, expected={"Y": expected})


def test_prelu_slope_not_broadcastable():
    rng = np.random.default_rng(3)
    with pytest.raises(RuntimeError, match="slope"):
        check_op("PRelu", {"X": rng.standard_normal((2, 3)).astype(np.float32),
                           "slope": rng.random(4).astype(np.float32)}, ["Y"], expected={"Y": np.zeros((2, 3))})


def test_prelu_slope_bigger_than_x():
    """The broadcast is unidirectional: a slope that would grow X is an error."""
    rng = np.random.default_rng(4)
    with pytest.raises(RuntimeError, match="slope"):
        check_op("PRelu", {"X": rng.standard_normal((3,)).astype(np.float32),
                           "slope": rng.random((2, 3)).astype(np.float32)}, ["Y"], expected={"Y": np.zeros(3)})
