"""Normalization layers (and Dropout, the other layer that is an identity at inference) against
onnx.reference, or against the float64 numpy oracles below where onnx.reference disagrees with the
spec (LRN's channel window, the stash-typed statistics of LayerNormalization)."""
import numpy as np
import pytest

from op_harness import check_op

TOL = {np.float32: (1e-4, 1e-5), np.float64: (1e-10, 1e-12), np.float16: (1e-2, 1e-2)}
FLOATS = [np.float32, np.float64, np.float16]


def f32(v):
    """An attribute's value as ingot and onnx see it: ONNX float attributes are float32."""
    return float(np.float32(v))


def rnd(rng, shape, dtype, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(dtype)


# --- BatchNormalization -------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5), (1, 4, 3, 5), (2, 3, 2, 2, 3), (0, 3, 4)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_batchnorm_inference(shape, dtype):
    rng = np.random.default_rng(0)
    C = shape[1]
    x = rnd(rng, shape, dtype, 2.0, 1.0)
    inputs = {"X": x, "scale": rnd(rng, (C,), dtype), "B": rnd(rng, (C,), dtype), "mean": rnd(rng, (C,), dtype),
              "var": np.abs(rnd(rng, (C,), dtype)) + dtype(0.5)}
    rtol, atol = TOL[dtype]
    check_op("BatchNormalization", inputs, ["Y"], attrs={"epsilon": 1e-3}, rtol=rtol, atol=atol)


def test_batchnorm_mixed_types():
    # Opset 15: X float16, scale/bias (T1) and statistics (T2) float32.
    rng = np.random.default_rng(1)
    x = rnd(rng, (2, 4, 3, 3), np.float16)
    inputs = {"X": x, "scale": rnd(rng, (4,), np.float32), "B": rnd(rng, (4,), np.float32),
              "mean": rnd(rng, (4,), np.float32), "var": np.abs(rnd(rng, (4,), np.float32)) + 0.5}
    x64 = x.astype(np.float64)
    c = (slice(None), None, None)
    want = (inputs["scale"][c] * (x64 - inputs["mean"][c]) / np.sqrt(inputs["var"][c] + 1e-5) + inputs["B"][c])
    check_op("BatchNormalization", inputs, ["Y"], rtol=1e-2, atol=1e-2, expected={"Y": want.astype(np.float16)})


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_training(shape, dtype):
    rng = np.random.default_rng(2)
    C = shape[1]
    inputs = {"X": rnd(rng, shape, dtype, 3.0, 2.0), "scale": rnd(rng, (C,), dtype), "B": rnd(rng, (C,), dtype),
              "mean": rnd(rng, (C,), dtype), "var": np.abs(rnd(rng, (C,), dtype)) + dtype(0.5)}
    rtol, atol = TOL[dtype]
    check_op("BatchNormalization", inputs, ["Y", "running_mean", "running_var"],
             attrs={"training_mode": 1, "momentum": 0.8}, rtol=rtol, atol=atol)


def test_batchnorm_initializers():
    # The exported-CNN form: statistics are initializers.
    rng = np.random.default_rng(3)
    params = {"scale": rnd(rng, (8,), np.float32), "B": rnd(rng, (8,), np.float32),
              "mean": rnd(rng, (8,), np.float32), "var": np.abs(rnd(rng, (8,), np.float32)) + 0.1}
    check_op("BatchNormalization", {"X": rnd(rng, (1, 8, 7, 7), np.float32), **params}, ["Y"], initializers=params)


def test_batchnorm_bad_channels():
    rng = np.random.default_rng(4)
    inputs = {"X": rnd(rng, (2, 3, 4), np.float32), "scale": rnd(rng, (4,), np.float32),
              "B": rnd(rng, (3,), np.float32), "mean": rnd(rng, (3,), np.float32), "var": rnd(rng, (3,), np.float32)}
    with pytest.raises(RuntimeError, match="scale has shape"):
        check_op("BatchNormalization", inputs, ["Y"], expected={"Y": inputs["X"]})


# --- InstanceNormalization / GroupNormalization ------------------------------------------------

@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 4, 3, 5), (2, 2, 1), (3, 2)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_instancenorm(shape, dtype):
    rng = np.random.default_rng(5)
    C = shape[1]
    inputs = {"X": rnd(rng, shape, dtype, 2.0, 1.0), "scale": rnd(rng, (C,), dtype), "B": rnd(rng, (C,), dtype)}
    rtol, atol = TOL[dtype]
    check_op("InstanceNormalization", inputs, ["Y"], attrs={"epsilon": 1e-2}, rtol=rtol, atol=atol)


def group_norm_oracle(x, scale, bias, groups, eps, per_group):
    n, c = x.shape[:2]
    x64 = x.astype(np.float64).reshape(n, groups, -1)
    y = (x64 - x64.mean(axis=2, keepdims=True)) / np.sqrt(x64.var(axis=2, keepdims=True) + eps)
    y = y.reshape(x.shape)
    s, b = scale.astype(np.float64), bias.astype(np.float64)
    if per_group:
        s, b = np.repeat(s, c // groups), np.repeat(b, c // groups)
    bshape = (1, c) + (1,) * (x.ndim - 2)
    return (y * s.reshape(bshape) + b.reshape(bshape)).astype(x.dtype)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((1, 4, 3, 3), 2), ((2, 4, 3), 4), ((3, 6, 2, 2), 1)])
@pytest.mark.parametrize("opset", [18, 21])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_groupnorm(shape, groups, opset, dtype):
    rng = np.random.default_rng(6)
    per = groups if opset < 21 else shape[1]
    x, scale, bias = rnd(rng, shape, dtype, 2.0, 1.0), rnd(rng, (per,), dtype), rnd(rng, (per,), dtype)
    want = group_norm_oracle(x, scale, bias, groups, f32(1e-3), opset < 21)
    rtol, atol = TOL[dtype]
    check_op("GroupNormalization", {"X": x, "scale": scale, "bias": bias}, ["Y"],
             attrs={"num_groups": groups, "epsilon": 1e-3}, opset=opset, rtol=rtol, atol=atol, expected={"Y": want})


def test_groupnorm_matches_reference():
    rng = np.random.default_rng(7)
    x, scale, bias = rnd(rng, (2, 6, 4), np.float32), rnd(rng, (6,), np.float32), rnd(rng, (6,), np.float32)
    check_op("GroupNormalization", {"X": x, "scale": scale, "bias": bias}, ["Y"], attrs={"num_groups": 2}, opset=21)


def test_groupnorm_indivisible():
    rng = np.random.default_rng(8)
    x, scale, bias = rnd(rng, (2, 6, 4), np.float32), rnd(rng, (6,), np.float32), rnd(rng, (6,), np.float32)
    with pytest.raises(RuntimeError, match="not divisible"):
        check_op("GroupNormalization", {"X": x, "scale": scale, "bias": bias}, ["Y"], attrs={"num_groups": 4},
                 opset=21, expected={"Y": x})


# --- LayerNormalization / RMSNormalization ------------------------------------------------------

def layer_norm_oracle(x, scale, bias, axis, eps, rms=False):
    axes = tuple(range(axis % x.ndim, x.ndim))
    x64 = x.astype(np.float64)
    mean = np.zeros_like(x64.sum(axis=axes, keepdims=True)) if rms else x64.mean(axis=axes, keepdims=True)
    inv = 1.0 / np.sqrt(((x64 - mean) ** 2).mean(axis=axes, keepdims=True) + eps)
    y = (x64 - mean) * inv * scale.astype(np.float64)
    if bias is not None:
        y = y + bias.astype(np.float64)
    return y, mean, inv


@pytest.mark.parametrize("shape,axis", [((3, 4), -1), ((3, 4), 0), ((2, 3, 5), 1), ((2, 3, 5), -1),
                                        ((2, 3, 4, 5), 2), ((2, 3, 4, 5), -4), ((1, 7), 1)])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_layernorm(shape, axis, dtype, with_bias):
    rng = np.random.default_rng(9)
    norm = shape[axis % len(shape):]
    x, scale = rnd(rng, shape, dtype, 2.0, 3.0), rnd(rng, norm, dtype)
    bias = rnd(rng, norm, dtype) if with_bias else None
    y, mean, inv = layer_norm_oracle(x, scale, bias, axis, f32(1e-3))
    inputs = {"X": x, "Scale": scale}
    if with_bias:
        inputs["B"] = bias
    rtol, atol = TOL[dtype]
    # Mean and InvStdDev have the stash type (float32 by default), whatever X's type.
    check_op("LayerNormalization", inputs, ["Y", "Mean", "InvStdDev"], attrs={"axis": axis, "epsilon": 1e-3},
             rtol=rtol, atol=atol,
             expected={"Y": y.astype(dtype), "Mean": mean.astype(np.float32), "InvStdDev": inv.astype(np.float32)})
    if dtype == np.float32:
        check_op("LayerNormalization", inputs, ["Y"], attrs={"axis": axis, "epsilon": 1e-3}, rtol=rtol, atol=atol)


def test_layernorm_broadcast_scale():
    # Scale of lower rank than the normalized shape broadcasts (the BERT form is a [hidden] vector).
    rng = np.random.default_rng(10)
    x, scale, bias = rnd(rng, (2, 5, 8), np.float32), rnd(rng, (8,), np.float32), rnd(rng, (1, 8), np.float32)
    y, _, _ = layer_norm_oracle(x, scale, bias, 1, 1e-5)
    check_op("LayerNormalization", {"X": x, "Scale": scale, "B": bias}, ["Y"], attrs={"axis": 1},
             expected={"Y": y.astype(np.float32)})


def test_layernorm_bad_scale():
    rng = np.random.default_rng(11)
    x, scale = rnd(rng, (2, 5, 8), np.float32), rnd(rng, (5,), np.float32)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        check_op("LayerNormalization", {"X": x, "Scale": scale}, ["Y"], expected={"Y": x})


@pytest.mark.parametrize("shape,axis", [((3, 4), -1), ((2, 3, 5), 1), ((2, 3, 4, 5), 0), ((2, 3, 4, 5), -2)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_rmsnorm(shape, axis, dtype):
    rng = np.random.default_rng(12)
    x, scale = rnd(rng, shape, dtype, 2.0, 1.0), rnd(rng, shape[axis % len(shape):], dtype)
    rtol, atol = TOL[dtype]
    expected = None
    if dtype == np.float16:
        expected = {"Y": layer_norm_oracle(x, scale, None, axis, 1e-4, rms=True)[0].astype(dtype)}
    check_op("RMSNormalization", {"X": x, "scale": scale}, ["Y"], attrs={"axis": axis, "epsilon": 1e-4}, opset=23,
             rtol=rtol, atol=atol, expected=expected)


# --- LpNormalization, MeanVarianceNormalization, LRN --------------------------------------------

@pytest.mark.parametrize("shape,axis", [((3, 4), -1), ((3, 4), 0), ((2, 3, 5), 1), ((5,), 0)])
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("dtype", FLOATS)
def test_lpnorm(shape, axis, p, dtype):
    rng = np.random.default_rng(13)
    x = rnd(rng, shape, dtype)
    x64 = x.astype(np.float64)
    want = x64 / (np.abs(x64) ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
    rtol, atol = TOL[dtype]
    check_op("LpNormalization", {"X": x}, ["Y"], attrs={"axis": axis, "p": p}, rtol=rtol, atol=atol,
             expected={"Y": want.astype(dtype)})


@pytest.mark.parametrize("shape,axes", [((2, 3, 4, 5), None), ((2, 3, 4, 5), [1]), ((3, 4, 5), [0, -1]),
                                        ((2, 3, 4, 5), [1, 2, 3])])
@pytest.mark.parametrize("dtype", FLOATS)
def test_mvn(shape, axes, dtype):
    # onnx.reference runs the float32-only function body, so the oracle is local for the other types.
    rng = np.random.default_rng(14)
    x = rnd(rng, shape, dtype, 2.0, 1.0)
    attrs = {} if axes is None else {"axes": axes}
    rtol, atol = TOL[dtype]
    if dtype == np.float32:
        check_op("MeanVarianceNormalization", {"X": x}, ["Y"], attrs=attrs, rtol=rtol, atol=atol)
    red = tuple(a % x.ndim for a in (axes or [0, 2, 3]))
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=red, keepdims=True)
    want = (x64 - mean) / (np.sqrt(((x64 - mean) ** 2).mean(axis=red, keepdims=True)) + 1e-9)
    check_op("MeanVarianceNormalization", {"X": x}, ["Y"], attrs=attrs, rtol=rtol, atol=atol,
             expected={"Y": want.astype(dtype)})


def lrn_oracle(x, size, alpha, beta, bias):
    x64 = x.astype(np.float64)
    c = x.shape[1]
    sq = np.zeros_like(x64)
    lo_off, hi_off = (size - 1) // 2, size - 1 - (size - 1) // 2
    for ch in range(c):
        sq[:, ch] = (x64[:, max(0, ch - lo_off):min(c, ch + hi_off + 1)] ** 2).sum(axis=1)
    return (x64 / (bias + alpha / size * sq) ** beta).astype(x.dtype)


@pytest.mark.parametrize("shape", [(2, 5, 3, 3), (1, 7, 4, 2), (2, 3, 5)])
@pytest.mark.parametrize("size", [1, 2, 3, 5])
@pytest.mark.parametrize("dtype", FLOATS)
def test_lrn(shape, size, dtype):
    # onnx.reference's LRN loops its channel window over the batch dim, so the oracle is local.
    rng = np.random.default_rng(15)
    x = rnd(rng, shape, dtype, 2.0)
    attrs = {"size": size, "alpha": 0.01, "beta": 0.75, "bias": 1.5}
    rtol, atol = TOL[dtype]
    check_op("LRN", {"X": x}, ["Y"], attrs=attrs, rtol=rtol, atol=atol,
             expected={"Y": lrn_oracle(x, size, f32(0.01), 0.75, 1.5)})


# --- Dropout ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4), (2, 0, 3), ()])
def test_dropout_inference(dtype, shape):
    rng = np.random.default_rng(16)
    x = rnd(rng, shape, dtype)
    check_op("Dropout", {"X": x, "ratio": np.array(0.3, np.float32)}, ["Y", "mask"])
    check_op("Dropout", {"X": x}, ["Y"])


@pytest.mark.parametrize("opset", [7, 10])
def test_dropout_old_opsets(opset):
    x = rnd(np.random.default_rng(17), (3, 5), np.float32)
    mask = np.ones(x.shape, dtype=np.float32 if opset < 10 else bool)
    check_op("Dropout", {"X": x}, ["Y", "mask"], attrs={"ratio": 0.4}, opset=opset, expected={"Y": x, "mask": mask})


@pytest.mark.parametrize("ratio", [0.0, 0.25, 0.75])
def test_dropout_training_seeded(ratio):
    # With a seed, the kept set is numpy's RandomState(seed) draws, as onnx.reference makes them.
    rng = np.random.default_rng(18)
    x = rnd(rng, (4, 5, 6), np.float32)
    check_op("Dropout", {"X": x, "ratio": np.array(ratio, np.float32), "training_mode": np.array(True)},
             ["Y", "mask"], attrs={"seed": 7})


def test_dropout_training_unseeded():
    # No seed: check the invariants rather than exact values.
    from op_harness import make_model, run_ingot
    import pathlib
    import tempfile
    x = rnd(np.random.default_rng(19), (200, 50), np.float32)
    inputs = {"X": x, "ratio": np.array(0.5, np.float32), "training_mode": np.array(True)}
    model = make_model("Dropout", inputs, ["Y", "mask"])
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, inputs, pathlib.Path(d))
    y, mask = got["Y"], got["mask"]
    assert mask.dtype == bool and 0.45 < mask.mean() < 0.55
    np.testing.assert_allclose(y[mask], x[mask] * 2, rtol=1e-6)
    assert np.all(y[~mask] == 0)
