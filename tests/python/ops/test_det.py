"""Det against onnx.reference (numpy.linalg.det)."""
import numpy as np
import pytest

from op_harness import check_op


@pytest.mark.parametrize("shape", [(3, 3), (1, 1), (2, 4, 4), (2, 3, 5, 5), (0, 2, 2), (2, 0, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_det(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    check_op("Det", {"X": x}, ["Y"], rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)


def test_det_singular_and_permuted():
    x = np.array([[[1, 2], [2, 4]], [[0, 1], [1, 0]], [[0, 0], [0, 0]]], np.float64)
    check_op("Det", {"X": x}, ["Y"], expected={"Y": np.array([0.0, -1.0, 0.0])})


def test_det_float16():
    # numpy.linalg.det (the reference) takes no float16: the expected value is the double one, rounded.
    x = np.random.default_rng(1).standard_normal((3, 3, 3)).astype(np.float16)
    want = np.linalg.det(x.astype(np.float64)).astype(np.float16)
    check_op("Det", {"X": x}, ["Y"], expected={"Y": want}, rtol=1e-3, atol=1e-3)


def test_det_not_square():
    x = np.random.default_rng(2).standard_normal((2, 3)).astype(np.float32)
    with pytest.raises(RuntimeError, match="square"):
        check_op("Det", {"X": x}, ["Y"], expected={"Y": np.zeros(1)})
