import pathlib
import tempfile

import numpy as np
import pytest
from onnx.reference import ReferenceEvaluator

from op_harness import check_op, make_model, run_ingot

# Tolerances per dtype: float32/float64 accumulate in a different order than numpy; float16 is
# compared against a float32 reference rounded once to float16 (ingot computes halves in float).
TOL = {np.float32: (1e-4, 1e-4), np.float64: (1e-10, 1e-10), np.float16: (2e-3, 2e-3)}


def reference(op, inputs, attrs):
    model = make_model(op, inputs, ["Y"], attrs)
    return ReferenceEvaluator(model).run(None, {n: v for n, v in inputs.items() if v is not None})[0]


def same_pads(x_shape, w_shape, attrs):
    """Explicit pads equal to auto_pad SAME_UPPER / SAME_LOWER, as the ONNX spec defines them."""
    strides = attrs.get("strides", [1] * (len(x_shape) - 2))
    dilations = attrs.get("dilations", [1] * (len(x_shape) - 2))
    head, tail = [], []
    for i, s in zip(x_shape[2:], strides):
        d = len(head)
        k = (w_shape[2 + d] - 1) * dilations[d] + 1
        total = max(0, (-(-i // s) - 1) * s + k - i)
        small, large = total // 2, total - total // 2
        head.append(small if attrs["auto_pad"] == "SAME_UPPER" else large)
        tail.append(large if attrs["auto_pad"] == "SAME_UPPER" else small)
    return head + tail


def expected_conv(inputs, attrs):
    """onnx.reference's Conv, steered around its gaps: it sizes auto_pad SAME from the batch/channel
    dims (so SAME is given as the equivalent explicit pads) and fails on an empty batch."""
    x = inputs["X"]
    if "SAME" in attrs.get("auto_pad", ""):
        attrs = dict(attrs, pads=same_pads(x.shape, inputs["W"].shape, attrs))
        del attrs["auto_pad"]
    if x.shape[0] == 0:
        one = dict(inputs, X=np.ones((1, *x.shape[1:]), x.dtype))
        return reference("Conv", one, attrs)[:0]
    return reference("Conv", inputs, attrs)


def expected_conv_transpose(inputs, attrs):
    """onnx.reference's ConvTranspose group by group: grouped, it adds group 0's bias everywhere and
    breaks on 1-D inputs."""
    group = attrs.get("group", 1)
    if group == 1:
        return reference("ConvTranspose", inputs, attrs)
    x, w, b = inputs["X"], inputs["W"], inputs["B"]
    cg, mg = x.shape[1] // group, w.shape[1]
    parts = []
    for g in range(group):
        part = {"X": x[:, g * cg:(g + 1) * cg], "W": w[g * cg:(g + 1) * cg],
                "B": None if b is None else b[g * mg:(g + 1) * mg]}
        parts.append(reference("ConvTranspose", part, dict(attrs, group=1)))
    return np.concatenate(parts, axis=1)


def check(op, inputs, attrs, dtype):
    """Compares ingot with onnx.reference; float16 against the reference in float32 rounded once."""
    inputs = {n: (v.astype(dtype) if v is not None else None) for n, v in inputs.items()}
    rtol, atol = TOL[dtype]
    wide = {n: (v.astype(np.float32) if dtype == np.float16 and v is not None else v) for n, v in inputs.items()}
    want = expected_conv(wide, attrs) if op == "Conv" else expected_conv_transpose(wide, attrs)
    check_op(op, inputs, ["Y"], attrs, rtol=rtol, atol=atol, expected={"Y": np.asarray(want).astype(dtype)})


# (x shape, w shape, attrs): 1-D / 2-D / 3-D, odd sizes, strides, dilations, asymmetric pads, groups.
CONV_CASES = [
    ((1, 3, 11), (4, 3, 3), {}),
    ((2, 4, 13), (6, 2, 5), dict(group=2, strides=[2], pads=[2, 1], dilations=[2])),
    ((1, 3, 7, 9), (5, 3, 3, 3), {}),
    ((2, 3, 10, 9), (4, 3, 3, 2), dict(strides=[2, 3], pads=[1, 0, 2, 1])),
    ((1, 4, 9, 8), (6, 2, 3, 3), dict(group=2, dilations=[2, 1], pads=[2, 1, 2, 1])),
    ((1, 6, 12, 11), (6, 1, 3, 3), dict(group=6, strides=[2, 2], pads=[1, 1, 1, 1])),  # depthwise
    ((1, 6, 12, 11), (12, 1, 5, 5), dict(group=6, pads=[2, 2, 2, 2])),  # depthwise, multiplier 2
    ((1, 8, 7, 7), (16, 8, 1, 1), {}),  # pointwise
    ((2, 8, 9, 9), (4, 8, 1, 1), dict(strides=[2, 2])),  # strided 1x1 (resnet downsample)
    ((1, 3, 30, 31), (8, 3, 7, 7), dict(strides=[2, 2], pads=[3, 3, 3, 3])),  # resnet stem
    ((1, 3, 5, 5), (2, 3, 5, 5), {}),  # kernel as large as the input
    ((1, 2, 6, 7), (3, 2, 3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2])),
    ((1, 2, 6, 7), (3, 2, 4, 4), dict(auto_pad="SAME_LOWER", strides=[1, 2])),
    ((1, 2, 6, 7), (3, 2, 2, 3), dict(auto_pad="VALID", strides=[2, 2])),
    ((1, 2, 5, 6, 7), (3, 2, 3, 2, 3), dict(strides=[1, 2, 2], pads=[1, 0, 1, 1, 1, 0])),
    ((1, 4, 5, 6, 5), (4, 2, 2, 2, 2), dict(group=2, dilations=[2, 1, 2])),
    ((0, 3, 8, 8), (4, 3, 3, 3), dict(pads=[1, 1, 1, 1])),  # empty batch
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_conv(case, bias, dtype):
    x_shape, w_shape, attrs = case
    rng = np.random.default_rng(len(x_shape) * 7 + w_shape[0])
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))
    b = rng.standard_normal(w_shape[0]) if bias else None
    check("Conv", {"X": x, "W": w, "B": b}, attrs, dtype)


def test_conv_kernel_shape_attribute():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 2)).astype(np.float32)
    check_op("Conv", {"X": x, "W": w}, ["Y"], dict(kernel_shape=[3, 2], pads=[1, 0, 1, 1]), rtol=1e-4, atol=1e-4)


def test_conv_large_channels():
    # Long reductions (k-blocking across several blocks, many column tiles) stay accurate.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 96, 17, 19)).astype(np.float32)
    w = (rng.standard_normal((40, 96, 3, 3)) / 30).astype(np.float32)
    b = rng.standard_normal(40).astype(np.float32)
    check_op("Conv", {"X": x, "W": w, "B": b}, ["Y"], dict(pads=[1, 1, 1, 1]), rtol=1e-4, atol=1e-4)


# ConvTranspose: (x shape, w shape [C, M/group, k...], attrs).
CONV_TRANSPOSE_CASES = [
    ((1, 3, 7), (3, 2, 3), {}),
    ((2, 4, 6), (4, 3, 4), dict(group=2, strides=[2], pads=[1, 2], dilations=[2])),
    ((1, 2, 4, 5), (2, 3, 3, 3), dict(strides=[2, 2])),
    ((1, 2, 4, 5), (2, 3, 3, 3), dict(strides=[3, 2], output_padding=[1, 1])),
    ((1, 2, 4, 5), (2, 3, 3, 3), dict(strides=[2, 2], pads=[1, 0, 1, 2])),
    ((2, 4, 5, 4), (4, 1, 3, 3), dict(group=4, strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 0])),
    ((1, 2, 4, 5), (2, 3, 2, 3), dict(dilations=[2, 2])),
    ((1, 2, 4, 5), (2, 3, 3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2])),
    ((1, 2, 4, 5), (2, 3, 3, 4), dict(auto_pad="SAME_LOWER", strides=[2, 3])),
    ((1, 2, 4, 5), (2, 3, 3, 3), dict(strides=[2, 2], output_shape=[9, 12])),
    ((1, 2, 3, 4, 3), (2, 2, 3, 2, 2), dict(strides=[2, 1, 2], pads=[1, 0, 0, 0, 1, 1])),
]


@pytest.mark.parametrize("case", CONV_TRANSPOSE_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_conv_transpose(case, bias, dtype):
    x_shape, w_shape, attrs = case
    rng = np.random.default_rng(len(x_shape) * 5 + w_shape[1])
    group = attrs.get("group", 1)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[2:]) * w_shape[0])
    b = rng.standard_normal(w_shape[1] * group) if bias else None
    check("ConvTranspose", {"X": x, "W": w, "B": b}, attrs, dtype)


def run_expect_error(op, inputs, attrs, match):
    model = make_model(op, inputs, ["Y"], attrs)
    with tempfile.TemporaryDirectory() as d:
        with pytest.raises(RuntimeError, match=match):
            run_ingot(model, {n: v for n, v in inputs.items() if v is not None}, pathlib.Path(d))


@pytest.mark.parametrize(
    "x_shape, w_shape, attrs, match",
    [
        ((1, 3, 8, 8), (4, 2, 3, 3), {}, "channels"),
        ((1, 4, 8, 8), (3, 2, 3, 3), dict(group=2), "divisible by group"),
        ((1, 3, 4, 4), (2, 3, 7, 7), {}, "larger than the padded input"),
        ((1, 3, 4, 4), (2, 3, 3, 3), dict(strides=[0, 1]), "strides .* must be positive"),
        ((1, 3, 4, 4), (2, 3, 3, 3), dict(strides=[-1, 1]), "strides .* must be positive"),
        ((1, 3, 4, 4), (2, 3, 3, 3), dict(pads=[1, 1]), "pads .* should have 4 values"),
        ((1, 3, 4, 4), (2, 3, 3, 3), dict(kernel_shape=[2, 2]), "kernel_shape does not match"),
        ((1, 3, 4, 4), (2, 3, 3), {}, "rank"),
    ],
)
def test_conv_errors(x_shape, w_shape, attrs, match):
    rng = np.random.default_rng(3)
    inputs = {"X": rng.standard_normal(x_shape).astype(np.float32),
              "W": rng.standard_normal(w_shape).astype(np.float32)}
    run_expect_error("Conv", inputs, attrs, match)


def test_conv_bias_size_error():
    rng = np.random.default_rng(4)
    inputs = {"X": rng.standard_normal((1, 3, 5, 5)).astype(np.float32),
              "W": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
              "B": rng.standard_normal(3).astype(np.float32)}
    run_expect_error("Conv", inputs, {}, "B has 3 values for 4 output channels")


def test_conv_transpose_channel_error():
    rng = np.random.default_rng(5)
    inputs = {"X": rng.standard_normal((1, 3, 5, 5)).astype(np.float32),
              "W": rng.standard_normal((2, 3, 3, 3)).astype(np.float32)}
    run_expect_error("ConvTranspose", inputs, {}, "channels")
