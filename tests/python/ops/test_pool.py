import pathlib
import tempfile

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator

from op_harness import check_op, make_model, run_ingot

TOL = {np.float32: (1e-5, 1e-5), np.float64: (1e-12, 1e-12), np.float16: (2e-3, 2e-3)}


def reference_f32(op, x, attrs, outputs):
    """The op evaluated in float32 on the half / 8-bit input, float outputs rounded to float16."""
    model = make_model(op, {"X": x.astype(np.float32)}, outputs, attrs)
    got = ReferenceEvaluator(model).run(None, {"X": x.astype(np.float32)})
    return {n: (np.asarray(v).astype(np.float16) if np.asarray(v).dtype == np.float32 else np.asarray(v))
            for n, v in zip(outputs, got)}


def check(op, x, attrs, dtype, outputs=("Y",)):
    x = x.astype(dtype)
    rtol, atol = TOL.get(dtype, (0, 0))
    expected = None
    if dtype == np.float16:
        expected = reference_f32(op, x, attrs, list(outputs))
    elif np.issubdtype(dtype, np.integer):
        # onnx.reference pads with NaN, so 8-bit MaxPool is evaluated on the values as float (exact).
        expected = {n: v.astype(dtype) for n, v in reference_f32(op, x, attrs, list(outputs)).items()}
    check_op(op, {"X": x}, list(outputs), attrs, rtol=rtol, atol=atol, expected=expected)


def random_input(shape, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    return rng.standard_normal(shape)


# (x shape, attrs) shared by the windowed pools; odd sizes, strides, dilations, pads, ceil_mode.
WINDOW_CASES = [
    ((1, 2, 9), dict(kernel_shape=[3])),
    ((2, 3, 10), dict(kernel_shape=[4], strides=[3], pads=[1, 2])),
    ((1, 2, 7, 8), dict(kernel_shape=[3, 3])),
    ((1, 3, 11, 10), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),  # resnet stem pool
    ((2, 2, 9, 7), dict(kernel_shape=[2, 3], strides=[2, 1], pads=[1, 0, 0, 2])),
    ((1, 2, 9, 9), dict(kernel_shape=[3, 2], strides=[2, 2], ceil_mode=1)),
    ((1, 2, 10, 9), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)),
    ((1, 2, 10, 11), dict(kernel_shape=[2, 2], dilations=[2, 3])),
    ((1, 2, 10, 11), dict(kernel_shape=[3, 2], strides=[2, 2], dilations=[2, 2], pads=[1, 1, 2, 0])),
    ((1, 2, 8, 9), dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER", strides=[2, 2])),
    ((1, 2, 8, 9), dict(kernel_shape=[2, 3], auto_pad="SAME_LOWER")),
    ((1, 2, 8, 9), dict(kernel_shape=[3, 2], auto_pad="VALID", strides=[2, 3])),
    ((1, 2, 5, 6, 7), dict(kernel_shape=[2, 3, 2], strides=[1, 2, 2], pads=[0, 1, 1, 1, 1, 0])),
    ((0, 2, 6, 6), dict(kernel_shape=[2, 2])),  # empty batch
]


def case_id(c):
    return f"{c[0]}-{c[1]}"


@pytest.mark.parametrize("case", WINDOW_CASES, ids=case_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int8, np.uint8])
def test_max_pool(case, dtype):
    shape, attrs = case
    check("MaxPool", random_input(shape, len(shape), dtype), attrs, dtype)


# onnx.reference returns Indices only on its strided/dilated path and computes SAME_LOWER sizes with
# floor there, so Indices are checked on the strided/dilated explicit-pad cases.
INDEX_CASES = [c for c in WINDOW_CASES
               if (max(c[1].get("strides", [1])) > 1 or max(c[1].get("dilations", [1])) > 1)
               and "auto_pad" not in c[1] and len(c[0]) <= 5 and c[0][0] > 0]


@pytest.mark.parametrize("case", INDEX_CASES, ids=case_id)
@pytest.mark.parametrize("storage_order", [0, 1])
def test_max_pool_indices(case, storage_order):
    shape, attrs = case
    if storage_order == 1 and len(shape) != 4:
        pytest.skip("onnx.reference applies storage_order to 2-D pools only")
    check("MaxPool", random_input(shape, 3), dict(attrs, storage_order=storage_order), np.float32,
          outputs=("Y", "Indices"))


def test_max_pool_indices_3d_column_major():
    # storage_order=1 for 3-D: column-major spatial index (d + D * (h + H * w)) plus the plane offset.
    x = random_input((2, 3, 4, 5, 6), 9).astype(np.float32)
    model = make_model("MaxPool", {"X": x}, ["Y", "I"], dict(kernel_shape=[2, 2, 2], strides=[2, 2, 2],
                                                              storage_order=1))
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, {"X": x}, pathlib.Path(d))
    windows = x[:, :, :4, :4, :].reshape(2, 3, 2, 2, 2, 2, 3, 2).transpose(0, 1, 2, 4, 6, 3, 5, 7).reshape(2, 3, 2, 2, 3, 8)
    np.testing.assert_array_equal(got["Y"], windows.max(-1))
    arg = windows.argmax(-1)
    od, oh, ow = np.meshgrid(np.arange(2), np.arange(2), np.arange(3), indexing="ij")
    dd, hh, ww = 2 * od + arg // 4, 2 * oh + arg // 2 % 2, 2 * ow + arg % 2
    plane = np.arange(6).reshape(2, 3, 1, 1, 1) * (4 * 5 * 6)
    np.testing.assert_array_equal(got["I"], plane + dd + 4 * (hh + 5 * ww))


@pytest.mark.parametrize("case", WINDOW_CASES, ids=case_id)
@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_average_pool(case, count_include_pad, dtype):
    shape, attrs = case
    check("AveragePool", random_input(shape, 5), dict(attrs, count_include_pad=count_include_pad), dtype)


@pytest.mark.parametrize("case", [c for c in WINDOW_CASES if "ceil_mode" not in c[1]], ids=case_id)
@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lp_pool(case, p, dtype):
    shape, attrs = case
    check("LpPool", random_input(shape, 6), dict(attrs, p=p), dtype)


GLOBAL_SHAPES = [(1, 3, 7), (2, 3, 5, 6), (1, 4, 3, 4, 5), (2, 3, 1, 1), (0, 3, 4, 4)]


# onnx.reference's global pools mishandle 1-D / 3-D inputs and empty batches (and it has no
# GlobalLpPool): numpy is the oracle, reducing in float64.
GLOBAL_ORACLE = {
    "GlobalAveragePool": lambda x, axes, p: x.mean(axis=axes, keepdims=True),
    "GlobalMaxPool": lambda x, axes, p: x.max(axis=axes, keepdims=True, initial=-np.inf),
    "GlobalLpPool": lambda x, axes, p: (np.abs(x) ** p).sum(axis=axes, keepdims=True) ** (1.0 / p),
}


@pytest.mark.parametrize("op, p", [("GlobalAveragePool", None), ("GlobalMaxPool", None), ("GlobalLpPool", 1),
                                   ("GlobalLpPool", 2), ("GlobalLpPool", 3)])
@pytest.mark.parametrize("shape", GLOBAL_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_global_pool(op, p, shape, dtype):
    x = random_input(shape, 7).astype(dtype)
    want = GLOBAL_ORACLE[op](x.astype(np.float64), tuple(range(2, len(shape))), p).astype(dtype)
    rtol, atol = TOL[dtype]
    check_op(op, {"X": x}, ["Y"], {} if p is None else dict(p=p), rtol=rtol, atol=atol, expected={"Y": want})


@pytest.mark.parametrize("shape, attrs, with_output_shape", [
    ((1, 2, 8, 8), dict(kernel_shape=[2, 2], strides=[2, 2]), False),
    ((2, 3, 7, 7), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), False),
    ((1, 2, 9), dict(kernel_shape=[3], strides=[3]), False),
    ((1, 2, 9, 9), dict(kernel_shape=[2, 2], strides=[2, 2]), True),  # natural size 8x8
    ((2, 3, 7, 8), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), True),
])
def test_max_unpool_inverts_max_pool(shape, attrs, with_output_shape):
    # MaxPool's indices address its input, so unpooling to that shape puts every maximum back in place.
    x = random_input(shape, 10).astype(np.float32)
    pool = make_model("MaxPool", {"X": x}, ["Y", "I"], attrs)
    y, idx = ReferenceEvaluator(pool).run(None, {"X": x})
    natural = [(y.shape[d] - 1) * attrs["strides"][d - 2] + attrs["kernel_shape"][d - 2]
               - (attrs.get("pads", [0] * 2 * (len(shape) - 2))[d - 2]
                  + attrs.get("pads", [0] * 2 * (len(shape) - 2))[d - 2 + len(shape) - 2])
               for d in range(2, len(shape))]
    out_shape = list(shape) if with_output_shape else [shape[0], shape[1], *natural]
    expected = np.zeros(int(np.prod(out_shape)), np.float32)
    expected[idx.ravel()] = y.ravel()
    inputs = {"X": y, "I": idx}
    if with_output_shape:
        inputs["output_shape"] = np.array(shape, np.int64)
    else:
        assert out_shape == list(shape)
    check_op("MaxUnpool", inputs, ["Y"], attrs, expected={"Y": expected.reshape(out_shape)})


def run_expect_error(op, inputs, attrs, match):
    model = make_model(op, inputs, ["Y"], attrs)
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(RuntimeError, match=match):
            run_ingot(model, inputs, pathlib.Path(d))


@pytest.mark.parametrize("op, attrs, shape, match", [
    ("MaxPool", {}, (1, 2, 5, 5), "kernel_shape is required"),
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[0, 1]), (1, 2, 5, 5), "strides .* must be positive"),
    ("AveragePool", dict(kernel_shape=[6, 2]), (1, 2, 5, 5), "larger than the padded input"),
    ("AveragePool", dict(kernel_shape=[2, 2], pads=[1, 1]), (1, 2, 5, 5), "pads .* should have 4 values"),
    ("MaxPool", dict(kernel_shape=[2]), (2, 5), "rank >= 3"),
    ("LpPool", dict(kernel_shape=[2, 2], p=0), (1, 2, 5, 5), "p must be positive"),
    ("GlobalAveragePool", {}, (2, 5), "rank >= 3"),
])
def test_pool_errors(op, attrs, shape, match):
    run_expect_error(op, {"X": random_input(shape, 11).astype(np.float32)}, attrs, match)


def test_max_unpool_index_out_of_range():
    x = random_input((1, 1, 2, 2), 12).astype(np.float32)
    idx = np.array([[[[0, 3], [8, 16]]]], np.int64)  # 16 is past the 4x4 output
    run_expect_error("MaxUnpool", {"X": x, "I": idx}, dict(kernel_shape=[2, 2], strides=[2, 2]), "outside the output")
