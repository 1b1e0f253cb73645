import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

OUTS = ["Y", "indices", "inverse_indices", "counts"]


@pytest.mark.parametrize("shape", [(9,), (3, 4), (2, 3, 4), (0,), (1,)])
@pytest.mark.parametrize("sorted_", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.float64])
def test_unique_flat(shape, sorted_, dtype):
    x = np.random.default_rng(3).integers(-3, 4, size=shape).astype(dtype)
    if x.ndim > 1 and not sorted_:
        # onnx.reference takes the unsorted Y from x along axis 0 instead of the flattened x.
        flat = x.reshape(-1)
        y, idx, inv, cnt = np.unique(flat, return_index=True, return_inverse=True, return_counts=True)
        order = np.argsort(idx)
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        want = {"Y": flat[idx[order]], "indices": idx[order], "inverse_indices": rank[inv.reshape(-1)],
                "counts": cnt[order]}
        check_op("Unique", {"X": x}, OUTS, attrs={"sorted": sorted_}, expected=want)
    else:
        check_op("Unique", {"X": x}, OUTS, attrs={"sorted": sorted_})


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_unique_axis_sorted(axis):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2, size=(4, 5, 3)).astype(np.float32)
    check_op("Unique", {"X": x}, OUTS, attrs={"sorted": 1, "axis": axis})


def test_unique_axis0_unsorted():
    x = np.array([[1, 0, 0], [1, 0, 0], [2, 3, 4], [0, 1, 1], [2, 3, 4]], dtype=np.int64)
    check_op("Unique", {"X": x}, OUTS, attrs={"sorted": 0, "axis": 0})


def test_unique_only_y():
    x = np.random.default_rng(4).integers(0, 5, size=(12,)).astype(np.int32)
    check_op("Unique", {"X": x}, ["Y"])
