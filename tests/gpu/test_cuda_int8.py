"""INT8 engines on the GPU (`ingot build --device cuda --int8 --calib DIR`) against the CPU reference in FP32.

A small residual network of the shapes cuDNN's int8 convolutions take (channels multiples of 4): its convolutions
run as cuda.cudnn.conv.int8, the tensors between them stay int8 (as X, as the residual Z, and behind a SiLU,
whose 1/scale cannot fold into the convolution), and the output stays within int8's error of FP32. Skips, saying
so, where there is no CUDA GPU (test_cuda_ops decides).
"""
import json
import os
import subprocess

import numpy as np
import pytest
from onnx import helper

from test_cuda_ops import CLI, init, pytestmark, vi  # noqa: F401 (pytestmark: the same skip)

import onnx


def residual_net(path, batch, size, rng):
    u = lambda *s, a=0.3: rng.uniform(-a, a, s).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c2", "r1"], ["a2"]),
             helper.make_node("Relu", ["a2"], ["r2"]),
             helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="conv3"),
             helper.make_node("Clip", ["c3", "lo", "hi"], ["r3"]),
             helper.make_node("Conv", ["r3", "w4", "b4"], ["c4"], name="conv4", pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("Sigmoid", ["c4"], ["s4"]),
             helper.make_node("Mul", ["c4", "s4"], ["m4"]),
             helper.make_node("Conv", ["m4", "w5"], ["c5"], name="conv5"),
             helper.make_node("GlobalAveragePool", ["c5"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1)]
    inits = [init("w1", u(32, 16, 3, 3)), init("b1", u(32)), init("w2", u(32, 32, 3, 3, a=0.1)), init("b2", u(32)),
             init("w3", u(32, 32, 1, 1)), init("b3", u(32)), init("lo", np.float32(0)), init("hi", np.float32(6)),
             init("w4", u(48, 32, 3, 3, a=0.1)), init("b4", u(48)), init("w5", u(64, 48, 1, 1)),
             init("wf", u(10, 64)), init("bf", u(10))]
    graph = helper.make_graph(nodes, "g", [vi("x", (batch, 16, size, size))], [vi("y", (batch, 10))],
                              initializer=inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def cli(*args, env=None):
    r = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, r.stderr
    return r.stdout


def build_int8(tmp_path, model, shape, rng):
    """The INT8 engine of `model` calibrated on 4 random batches, and its layers from `ingot inspect`."""
    calib = tmp_path / "calib"
    calib.mkdir()
    for i in range(4):
        np.save(calib / f"b{i}.npy", rng.standard_normal(shape).astype(np.float32))
    engine = tmp_path / "m.ingot"
    cli("build", model, "-o", engine, "--device", "cuda", "--int8", "--calib", calib)
    return engine, json.loads(cli("inspect", engine, "--json", "-"))["layers"]


def int8_error(tmp_path, model, engine, shape, rng):
    """The relative L2 error of the engine's output y against the CPU reference's in FP32."""
    np.save(tmp_path / "x.npy", rng.standard_normal(shape).astype(np.float32))
    (tmp_path / "gpu").mkdir()
    (tmp_path / "ref").mkdir()
    cli("run", engine, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "gpu")
    cli("run", model, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "ref",
        env={"INGOT_TACTICS": "reference"})
    got = np.load(tmp_path / "gpu" / "y.npy").astype(np.float64)
    ref = np.load(tmp_path / "ref" / "y.npy").astype(np.float64)
    assert np.isfinite(got).all()
    return np.linalg.norm(got - ref) / np.linalg.norm(ref)


@pytest.mark.parametrize("batch,size", [(2, 20), (5, 13)])
def test_int8_residual_net(tmp_path, batch, size):
    rng = np.random.default_rng(3)
    model = tmp_path / "m.onnx"
    residual_net(model, batch, size, rng)
    engine, layers = build_int8(tmp_path, model, (batch, 16, size, size), rng)
    convs = {l["name"]: l for l in layers if l["op"] in ("Conv", "ingot.FusedConv")}
    assert len(convs) == 5, sorted(convs)
    for name, l in convs.items():
        assert l["tactic"] == "cuda.cudnn.conv.int8" and l["precision"] == "int8", (name, l)
    # Every tensor between two of them stays int8: conv1's output (conv2's X and residual), conv2's, conv3's
    # (behind ReLU6) and conv4's (behind SiLU); conv1 reads the engine's input, conv5 writes for the pooling.
    kept = {t.split(":")[0] for l in convs.values() for t in l["outputs"] if ": int8[" in t}
    assert len(kept) == 4, [l["outputs"] for l in convs.values()]
    assert not any(": int8[" in t for t in convs["conv5"]["outputs"])

    err = int8_error(tmp_path, model, engine, (batch, 16, size, size), rng)
    # Five int8 convolutions in a row: a few percent (per-tensor activations, per-channel weights).
    assert err < 0.05, f"relative error {err:.3g}"


@pytest.mark.parametrize("batch,size,c,k", [(2, 32, 4, 16), (3, 29, 4, 12), (2, 32, 3, 16), (1, 27, 3, 12)])
def test_int8_max_pool_between_convolutions(tmp_path, batch, size, c, k):
    """resnet's stem: a 7x7 convolution into a max pooling, read by two int8 convolutions, one of them adding
    the other's output. With 4 input channels the stem is int8 and the pooling stays int8 on both sides (the
    max commutes with the quantization); with 3 the stem runs in FP16 and the pooling quantizes its output.
    k = 12 stem channels takes the pooling kernels' one-channel-a-thread paths."""
    rng = np.random.default_rng(6)
    u = lambda *s, a=0.3: rng.uniform(-a, a, s).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="stem", pads=[3, 3, 3, 3], strides=[2, 2]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p"], name="pool", kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["p", "w2", "b2"], ["c2"], name="down"),
             helper.make_node("Conv", ["p", "w3", "b3"], ["c3"], name="conv3", pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c3", "c2"], ["a"]),
             helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["y"])]
    inits = [init("w1", u(k, c, 7, 7, a=0.2)), init("b1", u(k)), init("w2", u(32, k, 1, 1)), init("b2", u(32)),
             init("w3", u(32, k, 3, 3, a=0.1)), init("b3", u(32))]
    graph = helper.make_graph(nodes, "g", [vi("x", (batch, c, size, size))], [vi("y", (batch, 32))],
                              initializer=inits)
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    engine, layers = build_int8(tmp_path, model, (batch, c, size, size), rng)
    by_name = {l["name"]: l for l in layers}
    assert (by_name["stem"]["tactic"] == "cuda.cudnn.conv.int8") == (c == 4), by_name["stem"]
    pool = by_name["pool"]
    assert (": int8[" in pool["inputs"][0]) == (c == 4) and ": int8[" in pool["outputs"][0], pool
    assert sum(l["tactic"] == "cuda.cudnn.conv.int8" for l in layers) == (3 if c == 4 else 2), layers
    err = int8_error(tmp_path, model, engine, (batch, c, size, size), rng)
    assert err < 0.05, f"relative error {err:.3g}"


def test_int8_falls_back_where_cudnn_has_no_int8(tmp_path):
    """A convolution of 3 input channels (not a multiple of 4) runs in fp16 and says why."""
    rng = np.random.default_rng(4)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["c"], ["g"]),
             helper.make_node("Flatten", ["g"], ["y"])]
    graph = helper.make_graph(nodes, "g", [vi("x", (1, 3, 8, 8))], [vi("y", (1, 8))],
                              initializer=[init("w", rng.uniform(-1, 1, (8, 3, 3, 3)).astype(np.float32))])
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    calib = tmp_path / "calib"
    calib.mkdir()
    np.save(calib / "b0.npy", rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    engine = tmp_path / "m.ingot"
    cli("build", model, "-o", engine, "--device", "cuda", "--int8", "--calib", calib)
    (layer,) = [l for l in json.loads(cli("inspect", engine, "--json", "-"))["layers"] if l["name"] == "conv"]
    assert layer["precision"] == "fp16"
    assert "channels not a multiple of 4" in layer["precision_note"], layer
