"""MatMul, Gemm and MatMulInteger against onnx.reference."""
import numpy as np
import pytest

from op_harness import check_op

TOL = {np.float32: (1e-5, 1e-5), np.float64: (1e-12, 1e-12), np.float16: (1e-2, 1e-2)}

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((7,), (7,)),  # 1-D . 1-D -> scalar
    ((7,), (2, 7, 3)),  # 1-D promoted on the left, batch from B
    ((2, 3, 5), (5,)),  # 1-D promoted on the right
    ((2, 1, 3, 4), (5, 4, 2)),  # batch broadcasting
    ((1, 4), (3, 4, 6)),
    ((0, 4), (4, 3)),  # empty M
    ((3, 0), (0, 2)),  # empty K: all zeros
    ((2, 3, 1), (1, 5)),
    ((1, 1), (1, 1)),
]


def rand(rng, shape, dtype):
    if np.issubdtype(dtype, np.integer):
        lo = 0 if np.issubdtype(dtype, np.unsignedinteger) else -20
        return rng.integers(lo, 20, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint32, np.uint64])
def test_matmul(shapes, dtype):
    rng = np.random.default_rng(1)
    a, b = rand(rng, shapes[0], dtype), rand(rng, shapes[1], dtype)
    rtol, atol = TOL.get(dtype, (0, 0))
    check_op("MatMul", {"A": a, "B": b}, ["Y"], rtol=rtol, atol=atol)


def test_matmul_large_k():
    # Long sums: the float32 result must still match a float64 oracle to float32 accuracy.
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((5, 1000)).astype(np.float32), rng.standard_normal((1000, 3)).astype(np.float32)
    want = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    check_op("MatMul", {"A": a, "B": b}, ["Y"], rtol=1e-4, atol=1e-4, expected={"Y": want})


def test_matmul_bad_inner_dim():
    rng = np.random.default_rng(3)
    with pytest.raises(RuntimeError, match="inner dimensions"):
        check_op("MatMul", {"A": rand(rng, (2, 3), np.float32), "B": rand(rng, (4, 2), np.float32)}, ["Y"],
                 expected={"Y": np.zeros((2, 2), np.float32)})


GEMM_CASES = [
    # (M, K, N, transA, transB, C shape or None, alpha, beta)
    (3, 4, 5, 0, 0, None, 1.0, 1.0),
    (3, 4, 5, 1, 0, (3, 5), 0.5, 2.0),
    (3, 4, 5, 0, 1, (5,), 1.0, 1.0),
    (3, 4, 5, 1, 1, (1, 5), 1.5, -0.5),
    (3, 4, 5, 0, 0, (3, 1), 1.0, 0.25),
    (3, 4, 5, 0, 0, (), 1.0, 3.0),
    (1, 7, 1, 0, 1, (1,), 2.0, 1.0),
    (0, 4, 5, 0, 0, (5,), 1.0, 1.0),
    (2, 0, 3, 0, 0, (2, 3), 1.0, 1.0),
]


@pytest.mark.parametrize("case", GEMM_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_gemm(case, dtype):
    M, K, N, ta, tb, cshape, alpha, beta = case
    rng = np.random.default_rng(4)
    a = rand(rng, (K, M) if ta else (M, K), dtype)
    b = rand(rng, (N, K) if tb else (K, N), dtype)
    inputs = {"A": a, "B": b}
    if cshape is not None:
        inputs["C"] = rand(rng, cshape, dtype)
    rtol, atol = TOL[dtype]
    check_op("Gemm", inputs, ["Y"], attrs={"transA": ta, "transB": tb, "alpha": alpha, "beta": beta}, rtol=rtol,
             atol=atol)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32])
def test_gemm_integer(dtype):
    rng = np.random.default_rng(5)
    a, b, c = rand(rng, (3, 4), dtype), rand(rng, (5, 4), dtype), rand(rng, (5,), dtype)
    check_op("Gemm", {"A": a, "B": b, "C": c}, ["Y"], attrs={"transB": 1})


def test_gemm_initializer_weights():
    # The classifier-layer form: weights and bias are initializers, B transposed.
    rng = np.random.default_rng(6)
    x = rand(rng, (2, 16), np.float32)
    w, bias = rand(rng, (10, 16), np.float32), rand(rng, (10,), np.float32)
    check_op("Gemm", {"X": x, "W": w, "Bias": bias}, ["Y"], attrs={"transB": 1}, initializers={"W": w, "Bias": bias})


@pytest.mark.parametrize("opset,broadcast,cshape", [(6, 1, (5,)), (6, 0, (3, 5)), (7, None, (1,))])
def test_gemm_old_opsets(opset, broadcast, cshape):
    rng = np.random.default_rng(7)
    a, b, c = rand(rng, (3, 4), np.float32), rand(rng, (4, 5), np.float32), rand(rng, cshape, np.float32)
    attrs = {"alpha": 0.5, "beta": 2.0}
    if broadcast is not None:
        attrs["broadcast"] = broadcast
    want = (0.5 * (a @ b) + 2.0 * c).astype(np.float32)
    check_op("Gemm", {"A": a, "B": b, "C": c}, ["Y"], attrs=attrs, opset=opset, expected={"Y": want})


def test_gemm_bad_c_shape():
    rng = np.random.default_rng(8)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        check_op("Gemm", {"A": rand(rng, (3, 4), np.float32), "B": rand(rng, (4, 5), np.float32),
                          "C": rand(rng, (2, 5), np.float32)}, ["Y"], expected={"Y": np.zeros((3, 5), np.float32)})


@pytest.mark.parametrize("ta,tb", [(np.uint8, np.uint8), (np.int8, np.int8), (np.uint8, np.int8), (np.int8, np.uint8)])
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((4,), (4, 3))])
@pytest.mark.parametrize("zp", ["none", "scalar", "vector"])
def test_matmul_integer(ta, tb, shapes, zp):
    rng = np.random.default_rng(9)
    info_a, info_b = np.iinfo(ta), np.iinfo(tb)
    a = rng.integers(info_a.min, info_a.max, size=shapes[0], endpoint=True).astype(ta)
    b = rng.integers(info_b.min, info_b.max, size=shapes[1], endpoint=True).astype(tb)
    inputs = {"A": a, "B": b}
    M = shapes[0][-2] if len(shapes[0]) > 1 else 1
    N = shapes[1][-1]
    if zp != "none":
        inputs["a_zero_point"] = rng.integers(info_a.min, info_a.max, size=() if zp == "scalar" else (M,)).astype(ta)
        inputs["b_zero_point"] = rng.integers(info_b.min, info_b.max, size=() if zp == "scalar" else (N,)).astype(tb)
    za = inputs.get("a_zero_point", np.array(0)).astype(np.int64)
    zb = inputs.get("b_zero_point", np.array(0)).astype(np.int64)
    a64 = a.astype(np.int64) - (za[:, None] if za.ndim == 1 and a.ndim > 1 else za)
    want = np.matmul(a64, b.astype(np.int64) - zb).astype(np.int32)
    check_op("MatMulInteger", inputs, ["Y"], expected={"Y": want})
