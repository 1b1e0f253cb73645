import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

CASES = [((7,), 0, 3), ((3, 6), 1, 2), ((3, 6), 0, 3), ((2, 5, 4), -2, 5), ((2, 5, 4), 2, 1), ((4, 3), -1, 0),
         ((0, 5), 1, 2), ((3, 5), 1, 5)]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("largest", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8])
def test_topk(case, largest, dtype):
    shape, axis, k = case
    rng = np.random.default_rng(k + 10 * largest)
    # Repeated values check the tie order (lower index first).
    x = rng.integers(0, 5, size=shape).astype(dtype)
    check_op("TopK", {"X": x, "K": np.array([k], dtype=np.int64)}, ["Values", "Indices"],
             attrs={"axis": axis, "largest": largest, "sorted": 1})


def test_topk_constant_k():
    x = np.random.default_rng(0).standard_normal((4, 9)).astype(np.float32)
    k = np.array([4], dtype=np.int64)
    check_op("TopK", {"X": x, "K": k}, ["Values", "Indices"], initializers={"K": k})


def test_topk_opset1_attribute():
    x = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    check_op("TopK", {"X": x}, ["Values", "Indices"], attrs={"k": 3}, opset=9)


def test_topk_k_too_large():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.raises(RuntimeError, match="exceeds"):
        check_op("TopK", {"X": x, "K": np.array([4], dtype=np.int64)}, ["Values", "Indices"],
                 expected={"Values": x, "Indices": x})
