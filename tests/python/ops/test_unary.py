"""Elementwise math ops (Abs ... Erf, IsNaN, IsInf, Not, BitwiseNot, Identity) against onnx.reference."""
import math
import pathlib
import tempfile
import zlib

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from op_harness import check_op, run_ingot

SHAPES = [(2, 3), (3, 1, 5), (0, 4), (), (17,)]
FLOATS = [np.float32, np.float64, np.float16]
SIGNED = [np.int8, np.int16, np.int32, np.int64]
UNSIGNED = [np.uint8, np.uint16, np.uint32, np.uint64]
TOL = {np.float32: (1e-5, 1e-6), np.float64: (1e-12, 1e-13), np.float16: (1e-3, 1e-3)}


def domain_input(op, shape, rng):
    """Random values inside the op's domain (away from poles and range edges)."""
    x = rng.standard_normal(shape)
    if op in ("Log", "Sqrt"):
        return np.abs(x) * 3 + 0.05
    if op in ("Asin", "Acos", "Atanh"):
        return np.tanh(x) * 0.95
    if op == "Acosh":
        return np.abs(x) * 3 + 1.01
    if op == "Reciprocal":
        return np.where(np.abs(x) < 0.1, 0.5, x) * 2
    if op == "Round":
        # Halves test the tie rule (to even): 0.5, 1.5, 2.5 ...
        return np.round(x * 8) / 2
    if op in ("Floor", "Ceil", "Abs", "Neg", "Sign"):
        return x * 5
    return x * 2


FLOAT_OPS = ["Abs", "Neg", "Sign", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan",
             "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf"]


@pytest.mark.parametrize("op", FLOAT_OPS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_float_math(op, shape, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{op}{shape}".encode()))
    x = domain_input(op, shape, rng).astype(dtype)
    rtol, atol = TOL[dtype]
    expected = None
    if op == "Erf" and dtype == np.float64:
        # onnx.reference's Erf rounds through float32; compare double with math.erf itself.
        expected = {"Y": np.vectorize(math.erf, otypes=[np.float64])(x).reshape(x.shape)}
    check_op(op, {"X": x}, ["Y"], rtol=rtol, atol=atol, expected=expected)


@pytest.mark.parametrize("op,dtype", [(op, t) for op in ["Abs", "Neg", "Sign"] for t in SIGNED + UNSIGNED
                                      if not (op == "Neg" and t in UNSIGNED)])  # Neg has no unsigned types
def test_integer_math(op, dtype):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype)
    x = rng.integers(max(info.min, -1000), min(info.max, 1000), size=(4, 7), endpoint=True).astype(dtype)
    x.flat[0] = 0
    check_op(op, {"X": x}, ["Y"])


def test_integer_abs_neg_wrap_on_most_negative():
    x = np.array([np.iinfo(np.int8).min, -1, 0, 5], dtype=np.int8)
    check_op("Abs", {"X": x}, ["Y"], expected={"Y": np.array([-128, 1, 0, 5], dtype=np.int8)})
    check_op("Neg", {"X": x}, ["Y"], expected={"Y": np.array([-128, 1, 0, -5], dtype=np.int8)})


def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 2.5, -2.5, 0.5], dtype=np.float32)
    for op in ["Abs", "Neg", "Sign", "Floor", "Ceil", "Round", "Exp", "Erf", "Sqrt", "Log"]:
        with np.errstate(all="ignore"):
            check_op(op, {"X": x}, ["Y"])


@pytest.mark.parametrize("op", ["Abs", "Exp", "Floor", "Neg", "Reciprocal", "Sqrt"])
def test_old_opset(op):
    x = domain_input(op, (3, 4), np.random.default_rng(2)).astype(np.float32)
    check_op(op, {"X": x}, ["Y"], opset=6)


def with_specials(shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0], dtype=dtype)
    flat[: min(flat.size, 4)] = specials[: min(flat.size, 4)]
    rng.shuffle(flat)
    return flat.reshape(shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_isnan(shape, dtype):
    check_op("IsNaN", {"X": with_specials(shape, dtype, np.random.default_rng(3))}, ["Y"])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("neg,pos", [(1, 1), (0, 1), (1, 0), (0, 0)])
def test_isinf(dtype, neg, pos):
    x = with_specials((3, 5), dtype, np.random.default_rng(4))
    check_op("IsInf", {"X": x}, ["Y"], attrs={"detect_negative": neg, "detect_positive": pos})


@pytest.mark.parametrize("fmt", [TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E5M2, TensorProto.FLOAT8E4M3FNUZ,
                                 TensorProto.FLOAT8E5M2FNUZ])
def test_isnan_isinf_float8(fmt):
    # float8 values reach ingot as an initializer (npy has no float8); expected from the decoded values.
    np_type = helper.tensor_dtype_to_np_dtype(fmt)
    vals = np.array([1.0, -2.0, np.nan, 0.5, 3.0, -np.inf, np.inf], dtype=np.float32)
    x8 = vals.astype(np_type)  # non-saturating: inf stays inf where the format has one, else NaN
    decoded = x8.astype(np.float32)
    for op, want in [("IsNaN", np.isnan(decoded)), ("IsInf", np.isinf(decoded))]:
        node = helper.make_node(op, ["X"], ["Y"])
        graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("Y", TensorProto.BOOL, None)],
                                  [numpy_helper.from_array(x8, "X")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
        model.ir_version = 10
        with tempfile.TemporaryDirectory() as d:
            got = run_ingot(model, {}, pathlib.Path(d))["Y"]
        np.testing.assert_array_equal(got, want, err_msg=f"{op} on {np_type}")


@pytest.mark.parametrize("shape", SHAPES)
def test_not(shape):
    x = np.random.default_rng(5).random(shape) > 0.5
    check_op("Not", {"X": x}, ["Y"])


@pytest.mark.parametrize("dtype", SIGNED + UNSIGNED)
def test_bitwise_not(dtype):
    info = np.iinfo(dtype)
    x = np.random.default_rng(6).integers(info.min, info.max, size=(3, 4, 5), endpoint=True, dtype=dtype)
    check_op("BitwiseNot", {"X": x}, ["Y"])


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.uint8, np.bool_, np.str_])
@pytest.mark.parametrize("shape", [(2, 3), (0,), ()])
def test_identity(dtype, shape):
    rng = np.random.default_rng(7)
    if dtype is np.str_:
        x = np.array([f"s{v}" for v in rng.integers(0, 1000, size=int(np.prod(shape)))], dtype=np.str_)
        x = x.reshape(shape)
        node = helper.make_node("Identity", ["X"], ["Y"])
        graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.STRING, shape)],
                                  [helper.make_tensor_value_info("Y", TensorProto.STRING, None)])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
        model.ir_version = 10
        with tempfile.TemporaryDirectory() as d:
            got = run_ingot(model, {"X": x}, pathlib.Path(d))["Y"]
        assert got.shape == x.shape
        assert [str(s) for s in got.reshape(-1)] == [str(s) for s in x.reshape(-1)]
        return
    x = (rng.standard_normal(shape) * 10).astype(dtype)
    check_op("Identity", {"X": x}, ["Y"])


@pytest.mark.parametrize("op", ["Sqrt", "Exp", "Erf", "Round", "Sin", "Abs", "Neg", "Sign"])
def test_bfloat16(op):
    """bfloat16 computes in float and rounds once: within one bf16 ulp of the float32 result."""
    x32 = domain_input(op, (5, 6), np.random.default_rng(8)).astype(np.float32)
    xb = x32.astype(ml_dtypes.bfloat16)
    node = helper.make_node(op, ["X"], ["Y"])
    graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("Y", TensorProto.BFLOAT16, None)],
                              [numpy_helper.from_array(xb, "X")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, {}, pathlib.Path(d))["Y"]  # ingot writes bfloat16 as float32 .npy
    fn = {"Sqrt": np.sqrt, "Exp": np.exp, "Round": np.round, "Sin": np.sin, "Abs": np.abs, "Neg": np.negative,
          "Sign": np.sign}.get(op)
    xf = xb.astype(np.float32)
    if op == "Erf":
        want = np.vectorize(math.erf)(xf.astype(np.float64))
    else:
        want = fn(xf)
    want = want.astype(np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)
    np.testing.assert_array_equal(got.astype(np.float32), want)


def test_rejects_wrong_type():
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    with pytest.raises(RuntimeError, match="unsupported input type int32"):
        check_op("Exp", {"X": x}, ["Y"], expected={"Y": x})
    with pytest.raises(RuntimeError, match="unsupported input type uint8"):
        check_op("Neg", {"X": x.astype(np.uint8)}, ["Y"], expected={"Y": x})
