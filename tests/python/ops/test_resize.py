import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from onnx.reference import ReferenceEvaluator

from op_harness import check_op, make_model

COORDS = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
SCALES = [[1.0, 1.0, 1.7, 0.6], [1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 0.5, 0.34]]
SIZES = [[1, 2, 7, 3], [1, 2, 1, 9]]


def x_input(dtype=np.float32, shape=(1, 2, 4, 5)):
    rng = np.random.default_rng(11)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 200, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def resize(x, attrs, scales=None, sizes=None, roi=None, opset=None, **tol):
    inputs = {"X": x, "roi": roi, "scales": None if scales is None else np.array(scales, dtype=np.float32),
              "sizes": None if sizes is None else np.array(sizes, dtype=np.int64)}
    inits = {k: v for k, v in inputs.items() if k != "X" and v is not None}
    return check_op("Resize", inputs, ["Y"], attrs=attrs, initializers=inits, opset=opset, **tol)


@pytest.mark.parametrize("coord", COORDS)
@pytest.mark.parametrize("nearest", NEAREST)
@pytest.mark.parametrize("scales", SCALES)
def test_nearest_scales(coord, nearest, scales):
    resize(x_input(), {"mode": "nearest", "coordinate_transformation_mode": coord, "nearest_mode": nearest},
           scales=scales)


@pytest.mark.parametrize("coord", COORDS)
@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_sizes(coord, sizes, mode):
    resize(x_input(), {"mode": mode, "coordinate_transformation_mode": coord}, sizes=sizes, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("coord", COORDS)
@pytest.mark.parametrize("scales", SCALES)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
@pytest.mark.parametrize("antialias", [0, 1])
def test_linear_cubic_scales(coord, scales, mode, antialias):
    resize(x_input(), {"mode": mode, "coordinate_transformation_mode": coord, "antialias": antialias},
           scales=scales, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("exclude_outside", [0, 1])
@pytest.mark.parametrize("a", [-0.75, -0.5])
def test_cubic_coeff_exclude_outside(exclude_outside, a):
    resize(x_input(), {"mode": "cubic", "cubic_coeff_a": a, "exclude_outside": exclude_outside},
           scales=[1.0, 1.0, 1.5, 0.7], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize("extrapolation", [0.0, 10.0])
def test_tf_crop_and_resize(mode, extrapolation):
    roi = np.array([0, 0, -0.2, 0.3, 1, 1, 0.8, 1.3], dtype=np.float32)
    resize(x_input(), {"mode": mode, "coordinate_transformation_mode": "tf_crop_and_resize",
                       "extrapolation_value": extrapolation}, sizes=[1, 2, 5, 6], roi=roi, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axes", [[2, 3], [3, 2], [-1], [1]])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_axes(axes, mode):
    x = x_input()
    scales = np.array([1.5 + 0.5 * i for i in range(len(axes))], dtype=np.float32)
    # onnx.reference mishandles negative axes: take its answer for the equivalent positive ones.
    pos = [a % x.ndim for a in axes]
    ref_model = make_model("Resize", {"X": x, "roi": None, "scales": scales}, ["Y"], {"mode": mode, "axes": pos})
    want = ReferenceEvaluator(ref_model).run(None, {"X": x, "scales": scales})[0]
    check_op("Resize", {"X": x, "roi": None, "scales": scales}, ["Y"], attrs={"mode": mode, "axes": axes},
             initializers={"scales": scales}, expected={"Y": want}, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("policy", ["not_larger", "not_smaller"])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_keep_aspect_ratio(policy, mode):
    resize(x_input(), {"mode": mode, "axes": [2, 3], "keep_aspect_ratio_policy": policy}, sizes=[7, 6],
           rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.float64, np.float16])
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_dtypes(dtype, mode):
    tol = {"rtol": 1e-3, "atol": 1e-3} if dtype == np.float16 else {"rtol": 1e-7, "atol": 1e-7}
    resize(x_input(dtype), {"mode": mode}, scales=[1.0, 1.0, 1.6, 0.8], **tol)


def test_runtime_scales():
    x = x_input()
    check_op("Resize", {"X": x, "roi": None, "scales": np.array([1, 1, 2, 1.5], dtype=np.float32)}, ["Y"],
             attrs={"mode": "linear"}, rtol=1e-5, atol=1e-5)


def test_5d_and_3d():
    resize(x_input(shape=(1, 2, 3, 4, 2)), {"mode": "linear"}, scales=[1, 1, 1.5, 0.5, 2], rtol=1e-5, atol=1e-5)
    resize(x_input(shape=(2, 3, 5)), {"mode": "nearest"}, sizes=[2, 3, 9])


def test_empty_batch():
    x = x_input(shape=(0, 2, 4, 5))
    s = np.array([1, 1, 2, 2], dtype=np.float32)
    check_op("Resize", {"X": x, "roi": None, "scales": s}, ["Y"], attrs={"mode": "linear"},
             initializers={"scales": s}, expected={"Y": np.zeros((0, 2, 8, 10), np.float32)})


def test_resize_opset10_is_asymmetric_floor():
    # Resize-10 (X, scales) had Upsample's semantics: asymmetric coordinates, floor for nearest.
    x = x_input()
    want = x[:, :, np.floor(np.arange(6) / 1.5).astype(int)][:, :, :, np.floor(np.arange(10) / 2).astype(int)]
    check_op("Resize", {"X": x, "scales": np.array([1, 1, 1.5, 2], dtype=np.float32)}, ["Y"],
             attrs={"mode": "nearest"}, opset=10, initializers={"scales": np.array([1, 1, 1.5, 2], np.float32)},
             expected={"Y": want})


@pytest.mark.parametrize("opset", [7, 9])
def test_upsample_nearest(opset):
    x = x_input()
    scales = [1.0, 1.0, 2.0, 3.0]
    want = np.repeat(np.repeat(x, 2, axis=2), 3, axis=3)
    if opset == 7:
        check_op("Upsample", {"X": x}, ["Y"], attrs={"mode": "nearest", "scales": scales}, opset=7,
                 expected={"Y": want})
    else:
        s = np.array(scales, dtype=np.float32)
        check_op("Upsample", {"X": x, "scales": s}, ["Y"], attrs={"mode": "nearest"}, opset=9,
                 initializers={"scales": s}, expected={"Y": want})


def test_resize_needs_scales_or_sizes():
    x = x_input()
    with pytest.raises(RuntimeError, match="exactly one of 'scales' and 'sizes'"):
        check_op("Resize", {"X": x, "roi": None, "scales": None, "sizes": None}, ["Y"], expected={"Y": x})


def test_resize_bad_scales_length():
    x = x_input()
    s = np.array([2, 2], dtype=np.float32)
    with pytest.raises(RuntimeError, match="'scales' has 2 values"):
        check_op("Resize", {"X": x, "roi": None, "scales": s}, ["Y"], initializers={"scales": s}, expected={"Y": x})
