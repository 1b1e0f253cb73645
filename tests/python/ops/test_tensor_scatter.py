"""TensorScatter (opset 24) against onnx.reference: linear and circular modes, axes, with and without
write_indices, several dtypes; and write indices that overflow the cache in linear mode."""
import numpy as np
import pytest

from op_harness import check_op

CASES = [  # cache shape, update length, axis
    ((2, 5, 3), 2, -2), ((2, 5, 3), 5, 1), ((3, 2, 6, 4), 3, -2), ((2, 3, 4, 5), 2, 2), ((1, 2, 3, 7), 3, -1),
    ((2, 4, 3), 0, 1)]


@pytest.mark.parametrize("shape,seq,axis", CASES)
@pytest.mark.parametrize("mode", ["linear", "circular"])
@pytest.mark.parametrize("with_indices", [False, True])
def test_tensor_scatter(shape, seq, axis, mode, with_indices):
    rng = np.random.default_rng(len(shape) * 7 + seq)
    past = rng.standard_normal(shape).astype(np.float32)
    ushape = list(shape)
    ushape[axis] = seq
    update = rng.standard_normal(ushape).astype(np.float32)
    inputs = {"past": past, "update": update}
    if with_indices:
        max_seq = shape[axis]
        hi = max_seq - seq + 1 if mode == "linear" else 2 * max_seq
        inputs["write_indices"] = rng.integers(0, hi, size=shape[0]).astype(np.int64)
    check_op("TensorScatter", inputs, ["present"], attrs={"mode": mode, "axis": axis}, opset=24)


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.int64, np.bool_, np.float64])
def test_tensor_scatter_dtypes(dtype):
    rng = np.random.default_rng(3)
    past = (rng.standard_normal((2, 6, 3)) * 5).astype(dtype)
    update = (rng.standard_normal((2, 2, 3)) * 5).astype(dtype)
    idx = np.array([1, 4], dtype=np.int64)
    check_op("TensorScatter", {"past": past, "update": update, "write_indices": idx}, ["present"], opset=24)


def test_linear_overflow():
    past = np.random.default_rng(4).standard_normal((2, 4, 3)).astype(np.float32)
    update = np.ones((2, 2, 3), dtype=np.float32)
    idx = np.array([0, 3], dtype=np.int64)
    with pytest.raises(RuntimeError, match="write index 3 of batch 1"):
        check_op("TensorScatter", {"past": past, "update": update, "write_indices": idx}, ["present"], opset=24,
                 expected={"present": past})


def test_update_too_long():
    past = np.random.default_rng(5).standard_normal((2, 2, 3)).astype(np.float32)
    update = np.ones((2, 3, 3), dtype=np.float32)
    with pytest.raises(RuntimeError, match="does not fit"):
        check_op("TensorScatter", {"past": past, "update": update}, ["present"], opset=24, expected={"present": past})
