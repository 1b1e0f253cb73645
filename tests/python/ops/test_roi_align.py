import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op


def inputs(rng, n=2, c=3, h=7, w=9, rois=4):
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    xy1 = rng.uniform(-1, 6, size=(rois, 2))
    wh = rng.uniform(0.5, 5, size=(rois, 2))
    boxes = np.concatenate([xy1, xy1 + wh], axis=1).astype(np.float32)
    bi = rng.integers(0, n, size=(rois,)).astype(np.int64)
    return {"X": x, "rois": boxes, "batch_indices": bi}


@pytest.mark.parametrize("mode", ["avg", "max"])
@pytest.mark.parametrize("coord", ["half_pixel", "output_half_pixel"])
@pytest.mark.parametrize("sampling_ratio", [0, 2])
@pytest.mark.parametrize("out", [(1, 1), (3, 2)])
@pytest.mark.parametrize("spatial_scale", [1.0, 0.5])
def test_roi_align(mode, coord, sampling_ratio, out, spatial_scale):
    rng = np.random.default_rng(sampling_ratio + out[0])
    check_op("RoiAlign", inputs(rng), ["Y"],
             attrs={"mode": mode, "coordinate_transformation_mode": coord, "sampling_ratio": sampling_ratio,
                    "output_height": out[0], "output_width": out[1], "spatial_scale": spatial_scale},
             rtol=1e-5, atol=1e-5)


def test_roi_align_opset10_output_half_pixel():
    rng = np.random.default_rng(1)
    ins = inputs(rng)
    want = check_op("RoiAlign", ins, ["Y"], attrs={"coordinate_transformation_mode": "output_half_pixel",
                                                   "output_height": 2, "output_width": 2}, rtol=1e-5, atol=1e-5)
    check_op("RoiAlign", ins, ["Y"], attrs={"output_height": 2, "output_width": 2}, opset=10, expected=want)


def test_roi_align_bad_batch_index():
    rng = np.random.default_rng(2)
    ins = inputs(rng)
    ins["batch_indices"] = np.array([0, 1, 5, 0], dtype=np.int64)
    with pytest.raises(RuntimeError, match="batch index 5 is out of range"):
        check_op("RoiAlign", ins, ["Y"], expected={"Y": ins["X"]})
