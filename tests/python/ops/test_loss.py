"""NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss against onnx.reference: reductions, ignore_index
(inside and outside [0, C), negative), class weights, N-D inputs, int32/int64 targets, the optional
log_prob output, and bad targets."""
import numpy as np
import pytest

from op_harness import check_op

SHAPES = [(3, 5), (2, 4, 3), (2, 3, 4, 5), (1, 3, 2, 1, 3, 2), (5, 1)]
TOL = {np.float32: (1e-5, 1e-6), np.float64: (1e-12, 1e-14), np.float16: (2e-3, 2e-3)}


def make_inputs(rng, shape, dtype, tdtype, weighted, ignore_index):
    x = rng.standard_normal(shape).astype(dtype)
    c = shape[1]
    target = rng.integers(0, c, size=(shape[0],) + shape[2:]).astype(tdtype)
    if ignore_index is not None and target.size > 1:
        # Ignore a few positions (the value need not be a valid class).
        flat = target.reshape(-1)
        flat[:: max(2, flat.size // 3)] = ignore_index
    inputs = {"x": x, "target": target}
    if weighted:
        inputs["weight"] = (rng.random(c) + 0.5).astype(dtype)
    return inputs


@pytest.mark.parametrize("op", ["NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [None, 0, -3, 7])
def test_loss_f32(op, shape, reduction, weighted, ignore_index):
    rng = np.random.default_rng(hash((op, shape, reduction, weighted, ignore_index)) % 2**32)
    inputs = make_inputs(rng, shape, np.float32, np.int64, weighted, ignore_index)
    attrs = {"reduction": reduction}
    if ignore_index is not None:
        attrs["ignore_index"] = ignore_index
    check_op(op, inputs, ["loss"], attrs=attrs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"])
@pytest.mark.parametrize("dtype", [np.float64, np.float16])
@pytest.mark.parametrize("tdtype", [np.int32, np.int64])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_loss_dtypes(op, dtype, tdtype, reduction):
    rng = np.random.default_rng(3)
    inputs = make_inputs(rng, (4, 6, 3), dtype, tdtype, True, 1)
    rtol, atol = TOL[dtype]
    check_op(op, inputs, ["loss"], attrs={"reduction": reduction, "ignore_index": 1}, rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_sce_log_prob(shape, reduction):
    rng = np.random.default_rng(4)
    inputs = make_inputs(rng, shape, np.float32, np.int64, True, -1)
    check_op("SoftmaxCrossEntropyLoss", inputs, ["loss", "log_prob"],
             attrs={"reduction": reduction, "ignore_index": -1})


def test_sce_large_scores():
    # The log-softmax subtracts the max, so large scores stay finite; onnx.reference takes log(softmax) and
    # overflows to inf here, so the expectation is a float64 log-sum-exp.
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((3, 4)) * 500).astype(np.float32)
    target = np.array([0, 3, 2], dtype=np.int64)
    x64 = x.astype(np.float64)
    m = x64.max(axis=1, keepdims=True)
    logp = x64 - m - np.log(np.exp(x64 - m).sum(axis=1, keepdims=True))
    loss = -logp[np.arange(3), target].mean()
    got = check_op("SoftmaxCrossEntropyLoss", {"x": x, "target": target}, ["loss", "log_prob"], rtol=1e-5, atol=1e-4,
                   expected={"loss": np.float32(loss), "log_prob": logp.astype(np.float32)})
    assert np.isfinite(got["loss"]).all()


def test_empty_batch_none():
    x = np.zeros((0, 3, 2), dtype=np.float32)
    target = np.zeros((0, 2), dtype=np.int64)
    check_op("NegativeLogLikelihoodLoss", {"x": x, "target": target}, ["loss"], attrs={"reduction": "none"},
             expected={"loss": np.zeros((0, 2), dtype=np.float32)})


@pytest.mark.parametrize("op", ["NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"])
def test_target_out_of_range(op):
    x = np.random.default_rng(6).standard_normal((2, 3)).astype(np.float32)
    target = np.array([1, 3], dtype=np.int64)
    with pytest.raises(RuntimeError, match="target value 3 at index 1 is outside"):
        check_op(op, {"x": x, "target": target}, ["loss"], expected={"loss": np.float32(0)})


def test_target_shape_mismatch():
    x = np.random.default_rng(7).standard_normal((2, 3, 4)).astype(np.float32)
    target = np.zeros((2, 3), dtype=np.int64)
    with pytest.raises(RuntimeError, match="target shape"):
        check_op("NegativeLogLikelihoodLoss", {"x": x, "target": target}, ["loss"], expected={"loss": np.float32(0)})


def test_bad_reduction():
    x = np.random.default_rng(8).standard_normal((2, 3)).astype(np.float32)
    target = np.array([0, 2], dtype=np.int64)
    with pytest.raises(RuntimeError, match="reduction must be"):
        check_op("NegativeLogLikelihoodLoss", {"x": x, "target": target}, ["loss"], attrs={"reduction": "avg"},
                 expected={"loss": np.float32(0)})
