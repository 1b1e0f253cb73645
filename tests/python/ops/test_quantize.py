"""QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul, QLinearConv against
onnx.reference. 4-bit results come back from ingot as one int8 / uint8 per element; float8 ones
are checked through a Quantize -> Dequantize model (.npy has no float8)."""
import pathlib
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from op_harness import check_op, make_model, run_ingot

QTYPES = {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8, np.uint16: TensorProto.UINT16,
          np.int16: TensorProto.INT16}


def reference(model, feeds):
    return ReferenceEvaluator(model).run(None, feeds)


def scale_for(rng, shape, dtype=np.float32):
    return (rng.random(shape) * 0.2 + 0.02).astype(dtype)


@pytest.mark.parametrize("qtype", [np.uint8, np.int8, np.uint16, np.int16])
@pytest.mark.parametrize("xtype", [np.float32, np.float16])
@pytest.mark.parametrize("shape", [(2, 3, 4), (7,), (0, 3), ()])
def test_quantize_per_tensor(qtype, xtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 30).astype(xtype)
    info = np.iinfo(qtype)
    zp = np.array(rng.integers(info.min // 2, info.max // 2 + 1), dtype=qtype)
    check_op("QuantizeLinear", {"x": x, "y_scale": np.array(0.37, xtype), "y_zero_point": zp}, ["y"])


def test_quantize_rounding_and_saturation():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1e6, -1e6, 300, -300, 127.5, -128.5], np.float32)
    for qtype in (np.uint8, np.int8):
        zp = np.array(3, qtype)
        check_op("QuantizeLinear", {"x": x, "y_scale": np.array(1.0, np.float32), "y_zero_point": zp}, ["y"])


@pytest.mark.parametrize("axis", [0, 1, -1, -3])
def test_quantize_per_axis(axis):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((3, 4, 5)) * 10).astype(np.float32)
    n = x.shape[axis]
    zp = rng.integers(-20, 20, n).astype(np.int8)
    check_op("QuantizeLinear", {"x": x, "y_scale": scale_for(rng, n), "y_zero_point": zp}, ["y"],
             attrs={"axis": axis})


@pytest.mark.parametrize("block,axis", [(2, 1), (3, 1), (4, -1), (5, 0)])
def test_quantize_blocked(block, axis):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((5, 6, 7)) * 10).astype(np.float32)
    sshape = list(x.shape)
    sshape[axis] = -(-x.shape[axis] // block)
    zp = rng.integers(0, 30, sshape).astype(np.uint8)
    check_op("QuantizeLinear", {"x": x, "y_scale": scale_for(rng, sshape), "y_zero_point": zp}, ["y"],
             attrs={"axis": axis, "block_size": block})


def test_quantize_default_uint8_and_output_dtype():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((4, 5)) * 20).astype(np.float32)
    check_op("QuantizeLinear", {"x": x, "y_scale": np.array(0.5, np.float32)}, ["y"])
    check_op("QuantizeLinear", {"x": x, "y_scale": np.array(0.5, np.float32)}, ["y"],
             attrs={"output_dtype": TensorProto.INT16})


def test_quantize_int32_input_old_opset():
    rng = np.random.default_rng(4)
    x = rng.integers(-1000, 1000, (3, 4)).astype(np.int32)
    check_op("QuantizeLinear", {"x": x, "y_scale": np.array(7.0, np.float32), "y_zero_point": np.array(10, np.uint8)},
             ["y"], opset=13)


@pytest.mark.parametrize("qt,lo,hi", [(TensorProto.INT4, -8, 7), (TensorProto.UINT4, 0, 15)])
def test_quantize_4bit(qt, lo, hi):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((4, 6)) * 5).astype(np.float32)
    zp = helper.make_tensor("zp", qt, [1], [1])
    node = helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"])
    graph = helper.make_graph([node], "q4", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info("y", qt, None)],
                              [numpy_helper.from_array(np.array([0.6], np.float32), "s"), zp])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    want = np.clip(np.rint(x / np.float32(0.6)) + 1, lo, hi)
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, {"x": x}, pathlib.Path(d))["y"]
    np.testing.assert_array_equal(got.astype(np.int32), want.astype(np.int32))
    np.testing.assert_array_equal(np.asarray(reference(model, {"x": x})[0]).astype(np.int32), want.astype(np.int32))


def qdq_model(qt, saturate, opset=21):
    q = helper.make_node("QuantizeLinear", ["x", "s"], ["q"], saturate=saturate, output_dtype=qt)
    dq = helper.make_node("DequantizeLinear", ["q", "s"], ["y"])
    graph = helper.make_graph([q, dq], "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, None),
                                               helper.make_tensor_value_info("s", TensorProto.FLOAT, [])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    return model


@pytest.mark.parametrize("qt", [TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E4M3FNUZ, TensorProto.FLOAT8E5M2,
                                TensorProto.FLOAT8E5M2FNUZ, TensorProto.FLOAT4E2M1])
@pytest.mark.parametrize("saturate", [0, 1])
def test_quantize_float8_roundtrip(qt, saturate):
    if qt == TensorProto.FLOAT4E2M1 and not saturate:
        pytest.skip("float4 always saturates")
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.standard_normal(50) * 40, [1e6, -1e6, 0.0, 1e-9]]).astype(np.float32)
    s = np.array(0.25, np.float32)
    model = qdq_model(qt, saturate, opset=23 if qt == TensorProto.FLOAT4E2M1 else 21)
    want = reference(model, {"x": x, "s": s})[0]
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, {"x": x, "s": s}, pathlib.Path(d))["y"]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("qtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32])
@pytest.mark.parametrize("stype", [np.float32, np.float16])
def test_dequantize_per_tensor(qtype, stype):
    rng = np.random.default_rng(7)
    info = np.iinfo(qtype)
    lo, hi = max(info.min, -30000), min(info.max, 30000)
    x = rng.integers(lo, hi, (3, 5), endpoint=True).astype(qtype)
    ins = {"x": x, "x_scale": np.array(0.031, stype)}
    if qtype != np.int32:
        ins["x_zero_point"] = np.array(rng.integers(lo // 2, hi // 2), qtype)
    check_op("DequantizeLinear", ins, ["y"], rtol=1e-3 if stype == np.float16 else 1e-6)


@pytest.mark.parametrize("axis", [0, -1, 2])
def test_dequantize_per_axis(axis):
    rng = np.random.default_rng(8)
    x = rng.integers(-128, 128, (2, 3, 4)).astype(np.int8)
    n = x.shape[axis]
    check_op("DequantizeLinear", {"x": x, "x_scale": scale_for(rng, n),
                                  "x_zero_point": rng.integers(-5, 5, n).astype(np.int8)}, ["y"],
             attrs={"axis": axis})


@pytest.mark.parametrize("block,axis", [(2, 0), (3, 1), (4, -1)])
def test_dequantize_blocked(block, axis):
    rng = np.random.default_rng(9)
    x = rng.integers(0, 256, (5, 7, 6)).astype(np.uint8)
    sshape = list(x.shape)
    sshape[axis] = -(-x.shape[axis] // block)
    check_op("DequantizeLinear", {"x": x, "x_scale": scale_for(rng, sshape),
                                  "x_zero_point": rng.integers(100, 150, sshape).astype(np.uint8)}, ["y"],
             attrs={"axis": axis, "block_size": block})


def test_dequantize_output_dtype():
    rng = np.random.default_rng(10)
    x = rng.integers(-128, 128, (4, 4)).astype(np.int8)
    # onnx.reference registers no DequantizeLinear-23, which brought output_dtype.
    want = (x.astype(np.float32) * np.float32(0.1)).astype(np.float16)
    check_op("DequantizeLinear", {"x": x, "x_scale": np.array(0.1, np.float32)}, ["y"],
             attrs={"output_dtype": TensorProto.FLOAT16}, opset=23, expected={"y": want}, rtol=1e-3)


def test_quantize_bad_scale_shape():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    with pytest.raises(RuntimeError, match="scale"):
        check_op("QuantizeLinear", {"x": x, "y_scale": scale_for(rng, 5)}, ["y"], attrs={"axis": 1},
                 expected={"y": np.zeros(1)})


def test_dequantize_bad_block_shape():
    rng = np.random.default_rng(12)
    x = rng.integers(0, 255, (4, 6)).astype(np.uint8)
    with pytest.raises(RuntimeError, match="block"):
        check_op("DequantizeLinear", {"x": x, "x_scale": scale_for(rng, (4, 2))}, ["y"],
                 attrs={"axis": 1, "block_size": 2}, expected={"y": np.zeros(1)})


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 5), (1,), (0, 4)])
def test_dynamic_quantize(shape):
    rng = np.random.default_rng(13)
    if shape == (0, 4):
        pytest.skip("the reference cannot take the range of an empty tensor")
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    check_op("DynamicQuantizeLinear", {"x": x}, ["y", "y_scale", "y_zero_point"])
    check_op("DynamicQuantizeLinear", {"x": np.abs(x)}, ["y", "y_scale", "y_zero_point"])
    check_op("DynamicQuantizeLinear", {"x": -np.abs(x)}, ["y", "y_scale", "y_zero_point"])


def qlinear_matmul_expected(a, sa, za, b, sb, zb, sy, zy):
    acc = (a.astype(np.int32) - za.astype(np.int32)) @ (b.astype(np.int32) - zb.astype(np.int32))
    v = np.rint(acc * (sa * sb / sy).astype(np.float64) + zy.astype(np.float64))
    info = np.iinfo(zy.dtype)
    return np.clip(v, info.min, info.max).astype(zy.dtype)


@pytest.mark.parametrize("atype,btype,ytype", [(np.uint8, np.uint8, np.uint8), (np.int8, np.int8, np.int8),
                                               (np.uint8, np.int8, np.uint8), (np.int8, np.uint8, np.int8)])
@pytest.mark.parametrize("shapes", [((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((2, 1, 3, 5), (3, 5, 2)), ((5,), (5, 3)),
                                    ((3, 5), (5,))])
def test_qlinear_matmul(atype, btype, ytype, shapes):
    rng = np.random.default_rng(14)
    ia, ib = np.iinfo(atype), np.iinfo(btype)
    a = rng.integers(ia.min, ia.max, shapes[0], endpoint=True).astype(atype)
    b = rng.integers(ib.min, ib.max, shapes[1], endpoint=True).astype(btype)
    sa, sb, sy = np.array(0.02, np.float32), np.array(0.015, np.float32), np.array(0.3, np.float32)
    za, zb = np.array(ia.min // 2 + 60, atype), np.array(ib.max // 2 - 10, btype)
    zy = np.array(np.iinfo(ytype).min + 100, ytype)
    want = qlinear_matmul_expected(a, sa, za, b, sb, zb, sy, zy)
    check_op("QLinearMatMul", {"a": a, "a_scale": sa, "a_zero_point": za, "b": b, "b_scale": sb, "b_zero_point": zb,
                               "y_scale": sy, "y_zero_point": zy}, ["y"], expected={"y": want})


def test_qlinear_matmul_against_reference_per_column():
    rng = np.random.default_rng(15)
    a = rng.integers(0, 256, (4, 6)).astype(np.uint8)
    b = rng.integers(-128, 128, (6, 3)).astype(np.int8)
    ins = {"a": a, "a_scale": np.array(0.01, np.float32), "a_zero_point": np.array(128, np.uint8), "b": b,
           "b_scale": np.array([0.01, 0.02, 0.005], np.float32), "b_zero_point": np.array([0, 1, -1], np.int8),
           "y_scale": np.array(2.0, np.float32), "y_zero_point": np.array(128, np.uint8)}
    check_op("QLinearMatMul", ins, ["y"])


def test_qlinear_matmul_float16_scales():
    rng = np.random.default_rng(16)
    a = rng.integers(0, 256, (3, 8)).astype(np.uint8)
    b = rng.integers(0, 256, (8, 5)).astype(np.uint8)
    ins = {"a": a, "a_scale": np.array(0.0123, np.float16), "a_zero_point": np.array(113, np.uint8), "b": b,
           "b_scale": np.array(0.0071, np.float16), "b_zero_point": np.array(130, np.uint8),
           "y_scale": np.array(0.2, np.float16), "y_zero_point": np.array(120, np.uint8)}
    check_op("QLinearMatMul", ins, ["y"])


@pytest.mark.parametrize("xtype", [np.uint8, np.int8])
@pytest.mark.parametrize("attrs", [{}, {"pads": [1, 1, 1, 1]}, {"strides": [2, 1], "dilations": [1, 2]},
                                   {"group": 2}, {"auto_pad": "SAME_UPPER"}])
@pytest.mark.parametrize("per_channel", [False, True])
def test_qlinear_conv(xtype, attrs, per_channel):
    rng = np.random.default_rng(17)
    ix = np.iinfo(xtype)
    C, M = 4, 6
    x = rng.integers(ix.min, ix.max, (2, C, 7, 6), endpoint=True).astype(xtype)
    g = attrs.get("group", 1)
    w = rng.integers(-128, 128, (M, C // g, 3, 3)).astype(np.int8)
    ws = scale_for(rng, M) if per_channel else np.array(0.05, np.float32)
    ins = {"x": x, "x_scale": np.array(0.02, np.float32), "x_zero_point": np.array(ix.min // 2 + 70, xtype),
           "w": w, "w_scale": ws, "w_zero_point": np.array(0, np.int8),
           "y_scale": np.array(2.5, np.float32), "y_zero_point": np.array(ix.min // 2 + 60, xtype),
           "B": rng.integers(-500, 500, M).astype(np.int32)}
    check_op("QLinearConv", ins, ["y"], attrs=attrs)
