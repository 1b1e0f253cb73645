"""Cast and CastLike against onnx.reference (numbers, bool, bfloat16, float8, 4-bit, strings)."""
import pathlib
import tempfile
import zlib

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from op_harness import check_op, run_ingot

NUMERIC = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
           np.uint64, np.bool_]
TP = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE, np.float16: TensorProto.FLOAT16,
      np.int8: TensorProto.INT8, np.int16: TensorProto.INT16, np.int32: TensorProto.INT32, np.int64: TensorProto.INT64,
      np.uint8: TensorProto.UINT8, np.uint16: TensorProto.UINT16, np.uint32: TensorProto.UINT32,
      np.uint64: TensorProto.UINT64, np.bool_: TensorProto.BOOL}


def is_float(t):
    return np.issubdtype(t, np.floating)


def source_values(src, dst, shape, rng):
    """Random values of type src whose cast to dst ONNX defines (floats to integers only in range)."""
    if src is np.bool_:
        return rng.random(shape) > 0.5
    if is_float(src):
        if dst is np.bool_:
            x = rng.standard_normal(shape)
            x.reshape(-1)[: x.size // 3] = 0.0  # zeros (and -0.0 below) must give False
            x.reshape(-1)[x.size // 3: x.size // 2] = -0.0
            return x.astype(src)
        if is_float(dst):
            return (rng.standard_normal(shape) * 100).astype(src)
        info = np.iinfo(dst)
        lo, hi = max(float(info.min), -60000.0), min(float(info.max), 60000.0)  # float16 reaches 65504
        return rng.uniform(lo, hi, size=shape).astype(src)
    info = np.iinfo(src)
    # Integers wrap into narrower integers (defined by ONNX), so the full source range is fair game,
    # except into float16 where large values overflow (defined, but numpy warns).
    lo, hi = info.min, info.max
    if dst is np.float16:
        lo, hi = max(lo, -60000), min(hi, 60000)
    return rng.integers(lo, hi, size=shape, endpoint=True, dtype=src)


@pytest.mark.parametrize("src", NUMERIC, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("dst", NUMERIC, ids=lambda t: np.dtype(t).name)
def test_cast_numeric(src, dst):
    rng = np.random.default_rng(zlib.crc32(f"{src}{dst}".encode()))
    for shape in [(3, 7), (0, 2), ()]:
        x = source_values(src, dst, shape, rng)
        check_op("Cast", {"X": x}, ["Y"], attrs={"to": TP[dst]}, rtol=0, atol=0)


@pytest.mark.parametrize("src", NUMERIC, ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("dst", [np.float32, np.int64, np.float16, np.uint8, np.bool_], ids=lambda t: np.dtype(t).name)
def test_cast_like(src, dst):
    rng = np.random.default_rng(zlib.crc32(f"like{src}{dst}".encode()))
    x = source_values(src, dst, (4, 5), rng)
    like = np.zeros((1,), dtype=dst)
    check_op("CastLike", {"X": x, "like": like}, ["Y"], rtol=0, atol=0)


def test_float_to_int_truncates_toward_zero():
    x = np.array([-2.9, -2.5, -0.5, 0.5, 1.5, 2.5, 2.9], dtype=np.float32)
    check_op("Cast", {"X": x}, ["Y"], attrs={"to": TensorProto.INT32},
             expected={"Y": np.array([-2, -2, 0, 0, 1, 2, 2], dtype=np.int32)})


def test_int_wraps_into_narrower_int():
    x = np.array([200, -129, 256, 32767, -1], dtype=np.int16)
    check_op("Cast", {"X": x}, ["Y"], attrs={"to": TensorProto.INT8},
             expected={"Y": np.array([-56, 127, 0, -1, -1], dtype=np.int8)})


def test_float_special_values():
    x = np.array([np.nan, np.inf, -np.inf, -0.0, 65520.0, 1e-8, 3e38], dtype=np.float32)
    with np.errstate(over="ignore"):
        for to in [TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BOOL]:
            check_op("Cast", {"X": x}, ["Y"], attrs={"to": to}, rtol=0, atol=0)


def test_float16_rounding_is_to_nearest_even():
    # Halfway between float16 neighbours: 1 + 2^-11 rounds down to 1, 1 + 3 * 2^-11 up to 1 + 2^-9.
    x = np.array([1 + 2**-11, 1 + 3 * 2**-11, 2048 + 1, 2048 + 3, -(1 + 2**-11)], dtype=np.float32)
    check_op("Cast", {"X": x}, ["Y"], attrs={"to": TensorProto.FLOAT16}, rtol=0, atol=0)


def test_old_opset():
    x = (np.random.default_rng(1).standard_normal((3, 4)) * 50).astype(np.float32)
    check_op("Cast", {"X": x}, ["Y"], attrs={"to": TensorProto.INT32}, opset=6)
    check_op("Cast", {"X": x}, ["Y"], attrs={"to": TensorProto.FLOAT16}, opset=9)


def test_opset1_string_target():
    x = np.array([1.5, -2.25, 7.0], dtype=np.float32)
    check_op("Cast", {"X": x}, ["Y"], attrs={"to": "DOUBLE"}, opset=1, expected={"Y": x.astype(np.float64)})


def run_graph(nodes, inputs, outputs, initializers=(), opset=21):
    """A model of several nodes run by ingot; returns (ingot outputs, onnx.reference outputs)."""
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for n, v in inputs.items()],
        [helper.make_tensor_value_info(o, t, None) for o, t in outputs],
        [numpy_helper.from_array(v, n) for n, v in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, inputs, pathlib.Path(d))
    ref = dict(zip([o for o, _ in outputs], ReferenceEvaluator(model).run(None, inputs)))
    return got, ref


FLOAT8 = [TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E4M3FNUZ, TensorProto.FLOAT8E5M2, TensorProto.FLOAT8E5M2FNUZ]


@pytest.mark.parametrize("fmt", FLOAT8, ids=lambda f: TensorProto.DataType.Name(f))
@pytest.mark.parametrize("saturate", [1, 0])
@pytest.mark.parametrize("src", [np.float32, np.float16])
def test_float8_round_trip(fmt, saturate, src):
    """float -> float8 -> float: rounding to nearest even, saturation, NaN and infinities per ONNX's table."""
    rng = np.random.default_rng(zlib.crc32(f"{fmt}{saturate}{src}".encode()))
    x = np.concatenate([rng.standard_normal(40) * 30, rng.standard_normal(10) * 0.01, rng.standard_normal(10) * 3e4,
                        [0.0, -0.0, np.nan, np.inf, -np.inf, 448, 464, 480, 240, 57344, 61440, 1e6, -1e6, 2**-9,
                         2**-10, 3 * 2**-11, 2**-17]])
    with np.errstate(over="ignore"):
        x = x.astype(src)
    nodes = [helper.make_node("Cast", ["X"], ["F8"], to=fmt, saturate=saturate),
             helper.make_node("Cast", ["F8"], ["Y"], to=TP[src])]
    got, ref = run_graph(nodes, {"X": x}, [("Y", TP[src])], opset=21)
    np.testing.assert_array_equal(got["Y"], ref["Y"])


@pytest.mark.parametrize("fmt", FLOAT8, ids=lambda f: TensorProto.DataType.Name(f))
def test_float8_decode_all_codes(fmt):
    """Every one of the 256 codes decodes as the reference decodes it (float8 input as an initializer)."""
    np_type = helper.tensor_dtype_to_np_dtype(fmt)
    codes = np.arange(256, dtype=np.uint8).view(np_type)
    nodes = [helper.make_node("Cast", ["X"], ["Y"], to=TensorProto.FLOAT)]
    got, ref = run_graph(nodes, {}, [("Y", TensorProto.FLOAT)], initializers=[("X", codes)], opset=21)
    np.testing.assert_array_equal(got["Y"], ref["Y"])


@pytest.mark.parametrize("fmt", [TensorProto.INT4, TensorProto.UINT4, TensorProto.FLOAT4E2M1],
                         ids=lambda f: TensorProto.DataType.Name(f))
@pytest.mark.parametrize("src", [np.float32, np.float16, np.int32])
def test_4bit_round_trip(fmt, src):
    rng = np.random.default_rng(zlib.crc32(f"{fmt}{src}".encode()))
    x = rng.uniform(-20, 20, size=(5, 9))
    if fmt == TensorProto.FLOAT4E2M1:
        x.reshape(-1)[:8] = [0.25, 0.75, 2.5, 5.0, 7.0, -0.1, 1e-9, -3.5]
    x = x.astype(src)
    nodes = [helper.make_node("Cast", ["X"], ["Q"], to=fmt), helper.make_node("Cast", ["Q"], ["Y"], to=TP[src])]
    got, ref = run_graph(nodes, {"X": x}, [("Y", TP[src])], opset=21)
    np.testing.assert_array_equal(got["Y"], ref["Y"])


@pytest.mark.parametrize("src", [np.float32, np.float64, np.int64, np.uint8])
def test_bfloat16(src):
    """Cast into bfloat16 (round to nearest even) and back."""
    rng = np.random.default_rng(zlib.crc32(f"bf16{src}".encode()))
    x = (rng.standard_normal((6, 7)) * 300).astype(src) if is_float(src) else \
        rng.integers(0, 255, size=(6, 7)).astype(src)
    nodes = [helper.make_node("Cast", ["X"], ["B"], to=TensorProto.BFLOAT16),
             helper.make_node("Cast", ["B"], ["Y"], to=TP[src])]
    got, ref = run_graph(nodes, {"X": x}, [("Y", TP[src])], opset=21)
    np.testing.assert_array_equal(got["Y"], ref["Y"])
    want_bits = x.astype(np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)
    np.testing.assert_array_equal(got["Y"].astype(np.float32), want_bits)


# ---- strings ----

def run_cast_string(x, to, opset=21):
    node = helper.make_node("Cast", ["X"], ["Y"], to=to)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(
        "X", TensorProto.STRING if x.dtype.kind in "UO" else helper.np_dtype_to_tensor_dtype(x.dtype), x.shape)],
        [helper.make_tensor_value_info("Y", to, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    with tempfile.TemporaryDirectory() as d:
        return run_ingot(model, {"X": x}, pathlib.Path(d))["Y"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_to_string_reads_back_exactly(dtype):
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(20) * 10.0 ** rng.integers(-8, 20, size=20), [0.0, 1.0, -0.0, 0.1, 1e-4,
                                                                                        1e16, 123456789.0]])
    x = x.astype(dtype)
    got = run_cast_string(x, TensorProto.STRING)
    assert got.shape == x.shape
    np.testing.assert_array_equal(np.array([dtype(s) for s in got.reshape(-1)]), x)
    # numpy's repr format: positional in [1e-4, 1e16), else scientific.
    assert [str(s) for s in got[-7:]] == [str(v) for v in x[-7:]]


def test_special_floats_to_string():
    x = np.array([np.nan, np.inf, -np.inf, 2.5], dtype=np.float32)
    assert [str(s) for s in run_cast_string(x, TensorProto.STRING)] == ["NaN", "INF", "-INF", "2.5"]


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint64])
def test_int_to_string(dtype):
    info = np.iinfo(dtype)
    x = np.array([info.min, info.max, 0, 7], dtype=dtype)
    assert [str(s) for s in run_cast_string(x, TensorProto.STRING)] == [str(v) for v in x]


def test_string_to_float():
    s = np.array(["3.14", "-1000", "1e-5", "1E8", " 2.5 ", "INF", "+INF", "-inf", "NaN", "inf", "+7"], dtype=np.str_)
    got = run_cast_string(s, TensorProto.FLOAT)
    want = np.array([3.14, -1000, 1e-5, 1e8, 2.5, np.inf, np.inf, -np.inf, np.nan, np.inf, 7], dtype=np.float32)
    np.testing.assert_array_equal(got, want)
    got16 = run_cast_string(s, TensorProto.FLOAT16)
    np.testing.assert_array_equal(got16, want.astype(np.float16))


def test_string_to_int_and_bool():
    s = np.array(["9223372036854775807", "-42", "100.5", "0", "1e3"], dtype=np.str_)
    np.testing.assert_array_equal(run_cast_string(s, TensorProto.INT64),
                                  np.array([9223372036854775807, -42, 100, 0, 1000], dtype=np.int64))
    b = np.array(["1", "0", "true", "False", "2.5"], dtype=np.str_)
    np.testing.assert_array_equal(run_cast_string(b, TensorProto.BOOL), np.array([1, 0, 1, 0, 1], dtype=bool))


def test_string_round_trip_through_int():
    x = np.random.default_rng(3).integers(-10**12, 10**12, size=(4, 5), dtype=np.int64)
    s = run_cast_string(x, TensorProto.STRING)
    np.testing.assert_array_equal(run_cast_string(s, TensorProto.INT64), x)


def test_unparsable_string_is_an_error():
    with pytest.raises(RuntimeError, match="cannot cast string \"hello\" to float32"):
        run_cast_string(np.array(["1", "hello"], dtype=np.str_), TensorProto.FLOAT)


def test_bad_target_type():
    x = np.ones(3, dtype=np.float32)
    with pytest.raises(RuntimeError, match="cannot cast to complex64"):
        check_op("Cast", {"X": x}, ["Y"], attrs={"to": TensorProto.COMPLEX64}, expected={"Y": x})
