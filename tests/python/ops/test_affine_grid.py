"""AffineGrid (2-D and 3-D, align_corners on/off) against onnx.reference, which computes in the input
dtype and returns float32 — so the reference values here come from a float64 numpy oracle for float64."""
import numpy as np
import pytest

from op_harness import check_op


def oracle(theta, size, align_corners):
    spatial = size[2:]

    def coords(n):
        if align_corners:
            return np.array([-1.0]) if n == 1 else np.linspace(-1.0, 1.0, n)
        return (2.0 * np.arange(n) + 1.0) / n - 1.0

    axes = [coords(n) for n in reversed(spatial)]  # x (W) first
    mesh = np.meshgrid(*reversed(axes), indexing="ij")  # over (D,) H, W
    pts = np.stack(list(reversed(mesh)) + [np.ones(mesh[0].shape)], axis=-1)  # (..., k + 1)
    grid = np.einsum("nrc,...c->n...r", theta.astype(np.float64), pts)
    return grid.astype(theta.dtype)


SIZES = [(2, 3, 5, 4), (1, 1, 1, 1), (3, 2, 1, 6), (2, 1, 3, 4, 5), (1, 2, 1, 2, 3), (2, 3, 0, 4)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("align_corners", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_grid(size, align_corners, dtype):
    rng = np.random.default_rng(len(size) * 10 + align_corners)
    k = len(size) - 2
    theta = rng.standard_normal((size[0], k, k + 1)).astype(dtype)
    size_arr = np.array(size, dtype=np.int64)
    expected = {"grid": oracle(theta, size, align_corners)}
    tol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-13)
    check_op("AffineGrid", {"theta": theta, "size": size_arr}, ["grid"], attrs={"align_corners": align_corners},
             rtol=tol[0], atol=tol[1], expected=expected)


@pytest.mark.parametrize("size", SIZES[:5])
@pytest.mark.parametrize("align_corners", [0, 1])
def test_affine_grid_vs_onnx_reference(size, align_corners):
    rng = np.random.default_rng(1)
    k = len(size) - 2
    theta = rng.standard_normal((size[0], k, k + 1)).astype(np.float32)
    check_op("AffineGrid", {"theta": theta, "size": np.array(size, dtype=np.int64)}, ["grid"],
             attrs={"align_corners": align_corners}, initializers={"size": np.array(size, dtype=np.int64)})


def test_theta_mismatch():
    theta = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.raises(RuntimeError, match="theta shape"):
        check_op("AffineGrid", {"theta": theta, "size": np.array([2, 1, 3, 4], dtype=np.int64)}, ["grid"],
                 expected={"grid": theta})
