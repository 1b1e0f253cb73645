import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [0, 1])
def test_grid_sample_2d(mode, padding, align_corners):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    grid = rng.uniform(-1.3, 1.3, size=(2, 3, 6, 2)).astype(np.float32)  # some points outside
    check_op("GridSample", {"X": x, "grid": grid}, ["Y"],
             attrs={"mode": mode, "padding_mode": padding, "align_corners": align_corners}, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [0, 1])
def test_grid_sample_3d(mode, padding, align_corners):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 3, 4, 3)).astype(np.float32)
    grid = rng.uniform(-1.2, 1.2, size=(1, 2, 3, 2, 3)).astype(np.float32)
    check_op("GridSample", {"X": x, "grid": grid}, ["Y"],
             attrs={"mode": mode, "padding_mode": padding, "align_corners": align_corners}, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
def test_grid_sample_opset16_names(mode):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 5, 4)).astype(np.float32)
    grid = rng.uniform(-1, 1, size=(1, 4, 4, 2)).astype(np.float32)
    new = {"bilinear": "linear", "bicubic": "cubic", "nearest": "nearest"}[mode]
    want = check_op("GridSample", {"X": x, "grid": grid}, ["Y"], attrs={"mode": new}, rtol=1e-5, atol=1e-5)
    check_op("GridSample", {"X": x, "grid": grid}, ["Y"], attrs={"mode": mode}, opset=16, expected=want)


def test_grid_sample_float64():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 1, 3, 3))
    grid = rng.uniform(-1, 1, size=(1, 2, 2, 2))
    check_op("GridSample", {"X": x, "grid": grid}, ["Y"], rtol=1e-6, atol=1e-6)


def test_grid_sample_bad_grid():
    x = np.ones((1, 1, 3, 3), np.float32) * np.arange(3, dtype=np.float32)
    grid = np.zeros((1, 2, 2, 3), np.float32)
    with pytest.raises(RuntimeError, match="last dim of 'grid'"):
        check_op("GridSample", {"X": x, "grid": grid}, ["Y"], expected={"Y": x})
