"""Softmax, LogSoftmax and Hardmax in both the opset < 13 (flatten to 2-D) and the opset >= 13 (one
axis) semantics. onnx.reference implements only the latter, so opset < 13 cases are checked against the
numpy oracle below, which also serves where onnx.reference loses precision (log of an underflowed
softmax)."""
import numpy as np
import pytest

from op_harness import check_op


def oracle(op, x, axis, opset):
    """Expected output in float64, cast back to x's dtype."""
    shape, x64 = x.shape, x.astype(np.float64)
    if axis < 0:
        axis += x.ndim
    if opset < 13:
        x64 = x64.reshape(int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
        axis = 1
    if x64.size == 0:
        return x.copy()
    if op == "Hardmax":
        y = np.zeros_like(x64)
        np.put_along_axis(y, np.expand_dims(np.argmax(x64, axis=axis), axis), 1, axis=axis)
    else:
        d = x64 - x64.max(axis=axis, keepdims=True)
        lse = np.log(np.exp(d).sum(axis=axis, keepdims=True))
        y = d - lse if op == "LogSoftmax" else np.exp(d - lse)
    return y.reshape(shape).astype(x.dtype)


def check(op, x, axis, opset, rtol=1e-5, atol=1e-6):
    attrs = {} if axis is None else {"axis": axis}
    expected = None
    if opset < 13 or op == "LogSoftmax":
        default = 1 if opset < 13 else -1
        expected = {"Y": oracle(op, x, default if axis is None else axis, opset)}
    check_op(op, {"X": x}, ["Y"], attrs=attrs, opset=opset, rtol=rtol, atol=atol, expected=expected)

TOL = {np.float32: (1e-5, 1e-6), np.float64: (1e-12, 1e-14), np.float16: (5e-3, 5e-3)}
SHAPES_AXES = [((5,), 0), ((3, 7), -1), ((3, 7), 0), ((2, 3, 4), 1), ((2, 3, 4), -3), ((2, 3, 4, 5), 2),
               ((2, 0, 3), 2), ((1, 1), 1)]


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("opset", [11, 13])
def test_softmax(op, shape, axis, dtype, opset):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    rtol, atol = TOL[dtype]
    check(op, x, axis, opset, rtol, atol)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("opset", [11, 13])
def test_default_axis(op, opset):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    check(op, x, None, opset)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_large_values(op):
    # Subtracting the max keeps exp from overflowing.
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]], dtype=np.float32)
    x += np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    check(op, x, 1, 13)


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("opset", [11, 13])
def test_hardmax(shape, axis, dtype, opset):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    check("Hardmax", x, axis, opset)


def test_hardmax_ties_pick_first():
    x = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0]], dtype=np.float32)
    check_op("Hardmax", {"X": x}, ["Y"], attrs={"axis": 1})


def test_bad_axis():
    x = np.random.default_rng(4).standard_normal((2, 3)).astype(np.float32)
    with pytest.raises(RuntimeError, match="axis 2 is out of range"):
        check_op("Softmax", {"X": x}, ["Y"], attrs={"axis": 2}, expected={"Y": x})
