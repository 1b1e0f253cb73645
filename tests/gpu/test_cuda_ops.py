"""Every CUDA tactic against the CPU reference (INGOT_TACTICS=reference) on random data, several shapes each.

Runs the `ingot` command (INGOT_CLI, else build/bin/ingot) on one-op (or one-fused-layer) ONNX models, in FP32
(TF32 in convolutions and products, as cuDNN's and cuBLASLt's default math) and FP16. Skips, saying so, where
there is no CUDA GPU or this ingot has no CUDA backend.
"""
import os
import pathlib
import subprocess
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = os.environ.get("INGOT_CLI", str(ROOT / "build" / "bin" / "ingot"))


def _probe():
    with tempfile.TemporaryDirectory() as d:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
        m = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17)])
        onnx.save(m, f"{d}/m.onnx")
        r = subprocess.run([CLI, "run", f"{d}/m.onnx", "--device", "cuda", "--output-dir", d],
                           capture_output=True, text=True)
        return r.returncode, r.stderr


def _why_not():
    if not os.path.exists(CLI):
        return f"no ingot command at {CLI}"
    rc, err = _probe()
    return f"no CUDA GPU or no CUDA backend: {err.strip()}" if rc != 0 else None


# Each test is collected and then skipped, rather than the module: pytest exits 5 ("no tests collected")
# when a whole module is skipped, and the test script would take that for a failure.
_WHY_NOT = _why_not()
pytestmark = pytest.mark.skipif(_WHY_NOT is not None, reason=_WHY_NOT or "")


def vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def run_case(tmp_path, nodes, inputs, out_shapes, inits=(), opset=17, fp16=False, rng=None, gpu_env=None):
    """Builds the model, runs it on the GPU (with `gpu_env` added to the environment) and on the CPU reference,
    returns (gpu, ref) outputs."""
    rng = rng or np.random.default_rng(0)
    graph = helper.make_graph(nodes, "g", [vi(n, s) for n, s in inputs], [vi(n, s) for n, s in out_shapes],
                              initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    args = []
    for n, s in inputs:
        a = rng.uniform(-1, 1, size=s).astype(np.float32)
        np.save(tmp_path / f"{n}.npy", a)
        args += ["--input", f"{n}={tmp_path / (n + '.npy')}"]
    outs = {}
    for tag, extra, env in (("gpu", ["--device", "cuda"] + (["--fp16"] if fp16 else []), gpu_env or {}),
                            ("ref", [], {"INGOT_TACTICS": "reference"})):
        d = tmp_path / tag
        d.mkdir()
        r = subprocess.run([CLI, "run", str(path), "--output-dir", str(d)] + args + extra, capture_output=True,
                           text=True, env={**os.environ, **env})
        assert r.returncode == 0, r.stderr
        outs[tag] = {n: np.load(d / f"{n}.npy") for n, _ in out_shapes}
    return outs["gpu"], outs["ref"]


def check(gpu, ref, tol):
    for name in ref:
        g, r = gpu[name].astype(np.float64), ref[name].astype(np.float64)
        assert g.shape == r.shape, name
        assert np.isfinite(g).all(), name
        err = np.linalg.norm(g - r) / max(np.linalg.norm(r), 1e-30)
        assert err < tol, f"{name}: relative error {err:.3g} >= {tol}"


# Relative L2 error bounds per precision (METHOD.md): float32 arithmetic, TF32 products, FP16 storage.
F32, TF32, F16 = 1e-5, 2e-3, 5e-3


def tol_for(fp16, product):
    return F16 if fp16 else (TF32 if product else F32)


PRECISIONS = [False, True]


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("x,w,attrs", [
    ((1, 3, 17, 19), (8, 3, 3, 3), dict(pads=[1, 1, 1, 1])),
    ((2, 16, 14, 14), (16, 1, 3, 3), dict(pads=[1, 1, 1, 1], strides=[2, 2], group=16)),
    ((2, 8, 9, 9), (12, 8, 1, 1), {}),
    ((1, 4, 23, 23), (6, 4, 5, 5), dict(pads=[2, 2, 2, 2], dilations=[2, 2])),
])
@pytest.mark.parametrize("relu", [True, False])
def test_conv_bias_residual(tmp_path, fp16, x, w, attrs, relu):
    rng = np.random.default_rng(1)
    oc = w[0]
    wt = rng.uniform(-0.5, 0.5, size=w).astype(np.float32)
    bt = rng.uniform(-0.5, 0.5, size=(oc,)).astype(np.float32)
    conv = helper.make_node("Conv", ["x", "w", "b"], ["c"], **attrs)
    # Output shape from the reference convolution's rule.
    pads = attrs.get("pads", [0, 0, 0, 0]); s = attrs.get("strides", [1, 1]); d = attrs.get("dilations", [1, 1])
    oh = (x[2] + pads[0] + pads[2] - d[0] * (w[2] - 1) - 1) // s[0] + 1
    ow = (x[3] + pads[1] + pads[3] - d[1] * (w[3] - 1) - 1) // s[1] + 1
    y = (x[0], oc, oh, ow)
    nodes = [conv, helper.make_node("Add", ["c", "z"], ["y" if not relu else "a"])]
    if relu:
        nodes.append(helper.make_node("Relu", ["a"], ["y"]))
    g, r = run_case(tmp_path, nodes, [("x", x), ("z", y)], [("y", y)], [init("w", wt), init("b", bt)], fp16=fp16,
                    rng=rng)
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("batch,size", [(1, 16), (3, 19)])
def test_conv_net_channels_last(tmp_path, fp16, batch, size):
    """A small residual convolutional network whose inner tensors the engine keeps NHWC (the input too)."""
    rng = np.random.default_rng(9)
    u = lambda *s: rng.uniform(-0.5, 0.5, s).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c2", "p1"], ["a2"]),
             helper.make_node("Relu", ["a2"], ["r2"]),
             helper.make_node("Conv", ["r2", "w3"], ["c3"], pads=[1, 1, 1, 1], strides=[2, 2], group=8),
             helper.make_node("Clip", ["c3", "lo", "hi"], ["k3"]),
             helper.make_node("Conv", ["k3", "w4", "b4"], ["c4"]),
             helper.make_node("Sigmoid", ["c4"], ["s4"]),
             helper.make_node("Mul", ["c4", "s4"], ["m4"]),
             helper.make_node("AveragePool", ["m4"], ["p4"], kernel_shape=[2, 2], strides=[1, 1]),
             helper.make_node("GlobalAveragePool", ["p4"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], transB=1)]
    inits = [init("w1", u(8, 3, 3, 3)), init("b1", u(8)), init("w2", u(8, 8, 3, 3)), init("b2", u(8)),
             init("w3", u(8, 1, 3, 3)), init("lo", np.float32(0)), init("hi", np.float32(0.3)),
             init("w4", u(16, 8, 1, 1)), init("b4", u(16)), init("wf", u(10, 16)), init("bf", u(10))]
    g, r = run_case(tmp_path, nodes, [("x", (batch, 3, size, size))], [("y", (batch, 10))], inits, fp16=fp16,
                    rng=rng)
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("kernel", ["ingot", "ingot4"])
@pytest.mark.parametrize("x,k,stride,act", [((2, 32, 15, 15), 3, 1, "Clip"), ((1, 32, 16, 16), 3, 2, "Relu"),
                                            ((3, 16, 9, 11), 5, 2, ""), ((2, 6, 8, 8), 3, 1, "Clip"),
                                            ((1, 24, 7, 7), 7, 1, "Relu")])
def test_depthwise_channels_last(tmp_path, fp16, kernel, x, k, stride, act):
    """ingot's channels-last depthwise kernel (1 or 4 output pixels a thread), channels-last and untimed
    (INGOT_CUDA_NHWC=1): bias, residual and activation fused; 16-byte vectors where the channels allow (32, 16,
    24) and one channel per thread where they do not (6)."""
    rng = np.random.default_rng(5)
    c, pad = x[1], k // 2
    oh, ow = (x[2] + 2 * pad - k) // stride + 1, (x[3] + 2 * pad - k) // stride + 1
    y = (x[0], c, oh, ow)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[pad] * 4, strides=[stride] * 2, group=c),
             helper.make_node("Add", ["c", "z"], ["a" if act else "y"])]
    inits = [init("w", rng.uniform(-0.5, 0.5, (c, 1, k, k)).astype(np.float32)),
             init("b", rng.uniform(-0.5, 0.5, (c,)).astype(np.float32))]
    if act == "Clip":
        nodes.append(helper.make_node("Clip", ["a", "lo", "hi"], ["y"]))
        inits += [init("lo", np.float32(0)), init("hi", np.float32(0.6))]
    elif act:
        nodes.append(helper.make_node(act, ["a"], ["y"]))
    g, r = run_case(tmp_path, nodes, [("x", x), ("z", y)], [("y", y)], inits, fp16=fp16, rng=rng,
                    gpu_env={"INGOT_CUDA_NHWC": "1", "INGOT_CUDA_CONV": kernel})
    check(g, r, tol_for(fp16, False))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("c,pool", [(64, "MaxPool"), (40, "AveragePool"), (6, "MaxPool")])
def test_pool_channels_last(tmp_path, fp16, c, pool):
    """Channels-last pooling (16-byte vectors where the channels allow) and global average pooling over the
    channels-last layout (one thread per image and channel for 32 channels and more)."""
    rng = np.random.default_rng(6)
    x = (2, 3, 13, 13)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node(pool, ["c"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["p"], ["g"]),
             helper.make_node("Flatten", ["g"], ["y"])]
    g, r = run_case(tmp_path, nodes, [("x", x)], [("y", (2, c))],
                    [init("w", rng.uniform(-0.5, 0.5, (c, 3, 1, 1)).astype(np.float32))], fp16=fp16, rng=rng,
                    gpu_env={"INGOT_CUDA_NHWC": "1"})
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("x,group", [((1, 8, 10, 10), 1), ((3, 5, 7, 9), 1), ((2, 32, 12, 12), 32)])
def test_conv_clip(tmp_path, fp16, x, group):
    rng = np.random.default_rng(2)
    oc = 7 if group == 1 else x[1]
    wt = rng.uniform(-1, 1, size=(oc, x[1] // group, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], group=group),
             helper.make_node("Clip", ["c", "lo", "hi"], ["y"])]
    y = (x[0], oc, x[2], x[3])
    g, r = run_case(tmp_path, nodes, [("x", x)], [("y", y)],
                    [init("w", wt), init("lo", np.float32(0)), init("hi", np.float32(0.5))], fp16=fp16, rng=rng)
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("a,k,n,act", [((2, 5, 7), 7, 9, "Relu"), ((33, 64), 64, 48, ""), ((3, 17, 40), 40, 72, "Gelu")])
def test_matmul_bias_activation(tmp_path, fp16, a, k, n, act):
    rng = np.random.default_rng(3)
    nodes = [helper.make_node("MatMul", ["a", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y0" if act else "y"])]
    if act:
        nodes.append(helper.make_node(act, ["y0"], ["y"]))
    y = a[:-1] + (n,)
    g, r = run_case(tmp_path, nodes, [("a", a)], [("y", y)],
                    [init("w", rng.uniform(-1, 1, (k, n)).astype(np.float32)),
                     init("b", rng.uniform(-1, 1, (n,)).astype(np.float32))], opset=20, fp16=fp16, rng=rng)
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("a,b", [((3, 4, 5), (3, 5, 6)), ((2, 2, 9, 16), (2, 2, 16, 3))])
def test_batched_matmul(tmp_path, fp16, a, b):
    y = a[:-1] + (b[-1],)
    g, r = run_case(tmp_path, [helper.make_node("MatMul", ["a", "b"], ["y"])], [("a", a), ("b", b)], [("y", y)],
                    fp16=fp16)
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("m,k,n,trans_b", [(4, 6, 5, 1), (1, 32, 10, 0)])
def test_gemm(tmp_path, fp16, m, k, n, trans_b):
    rng = np.random.default_rng(4)
    w = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["a", "w", "c"], ["y"], transB=trans_b, alpha=0.5)]
    g, r = run_case(tmp_path, nodes, [("a", (m, k))], [("y", (m, n))],
                    [init("w", w), init("c", rng.uniform(-1, 1, (n,)).astype(np.float32))], fp16=fp16, rng=rng)
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("b,h,s,d", [(2, 3, 10, 8), (1, 4, 197, 64), (3, 1, 33, 16)])
def test_attention(tmp_path, fp16, b, h, s, d):
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["q", "kt"], ["qk"]),
             helper.make_node("Mul", ["qk", "scale"], ["sc"]),
             helper.make_node("Softmax", ["sc"], ["p"], axis=-1),
             helper.make_node("MatMul", ["p", "v"], ["y"])]
    shp = (b, h, s, d)
    g, r = run_case(tmp_path, nodes, [("q", shp), ("k", shp), ("v", shp)], [("y", shp)],
                    [init("scale", np.float32(d ** -0.5))], fp16=fp16)
    check(g, r, tol_for(fp16, True))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("b,h,sq,sk,d", [(2, 3, 10, 12, 8), (1, 4, 197, 197, 64)])
def test_attention_masked(tmp_path, fp16, b, h, sq, sk, d):
    # An additive mask per batch: the cuBLASLt path adds it to the scores (the flash kernel takes no mask).
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
             helper.make_node("MatMul", ["q", "kt"], ["qk"]),
             helper.make_node("Mul", ["qk", "scale"], ["sc"]),
             helper.make_node("Add", ["sc", "mask"], ["sm"]),
             helper.make_node("Softmax", ["sm"], ["p"], axis=-1),
             helper.make_node("MatMul", ["p", "v"], ["y"])]
    g, r = run_case(tmp_path, nodes, [("q", (b, h, sq, d)), ("k", (b, h, sk, d)), ("v", (b, h, sk, d)),
                                      ("mask", (b, 1, 1, sk))], [("y", (b, h, sq, d))],
                    [init("scale", np.float32(d ** -0.5))], fp16=fp16)
    check(g, r, tol_for(fp16, True))


def attention_layers(tmp_path, model, fp16):
    """The (op, tactic, fused-from kinds) of the layers of `model` built for the GPU, and its layer ops."""
    import json

    engine = tmp_path / "m.ingot"
    r = subprocess.run([CLI, "build", str(model), "-o", str(engine), "--device", "cuda"] + (["--fp16"] if fp16 else []),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([CLI, "inspect", str(engine), "--json", "-"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    layers = json.loads(r.stdout)["layers"]
    return [l for l in layers if l["op"] == "ingot.Attention"], [l["op"] for l in layers]


@pytest.fixture(autouse=True)
def flash_for_every_attention(monkeypatch):
    """The builder times the flash kernel against the cuBLASLt path and keeps the faster; these tests give the
    flash kernel every attention it runs, so that both are tested where expected_attention_tactic says."""
    monkeypatch.setenv("INGOT_CUDA_FLASH", "1")


def expected_attention_tactic(fp16, d):
    return "cuda.ingot.flash_attention.f16" if fp16 and d % 8 == 0 and d <= 128 else "cuda.ingot.attention"


def mha_torch2(b, s, e, h, rng):
    """nn.MultiheadAttention(batch_first=True) as torch 2.x exports it (opset 17, dynamo=False; the same graph as
    tests/python/test_fusion.py's mha_torch2): x (B, S, E) -> y (B, S, E). Returns (nodes, initializers)."""
    hd = e // h
    w = lambda *shape: (rng.uniform(-1, 1, size=shape) / np.sqrt(shape[0])).astype(np.float32)
    i64 = lambda *v: np.array(v, np.int64)
    inits = [init("w_in", w(e, 3 * e)), init("b_in", w(3 * e)), init("w_out", w(e, e)), init("b_out", w(e)),
             init("c", np.float32(hd ** -0.25)), init("s_3e", i64(s, b, 3, e)), init("ax0", i64(0)),
             init("ax_2", i64(-2)), init("s1", i64(s, b * h, hd)), init("s2", i64(b, h, s, hd)),
             init("s_o", i64(s * b, e)), init("s_sbe", i64(s, b, e))]
    n = helper.make_node
    nodes = [n("Transpose", ["x"], ["xt"], perm=[1, 0, 2]), n("MatMul", ["xt", "w_in"], ["pm"]),
             n("Add", ["pm", "b_in"], ["p"]), n("Reshape", ["p", "s_3e"], ["p4"]), n("Unsqueeze", ["p4", "ax0"], ["p5"]),
             n("Transpose", ["p5"], ["p5t"], perm=[3, 1, 2, 0, 4]), n("Squeeze", ["p5t", "ax_2"], ["qkv"])]
    for i, name in enumerate("qkv"):
        inits.append(init("i" + name, np.array(i, np.int64)))
        nodes += [n("Gather", ["qkv", "i" + name], [name + "0"], axis=0), n("Reshape", [name + "0", "s1"], [name + "1"]),
                  n("Transpose", [name + "1"], [name + "2"], perm=[1, 0, 2]), n("Reshape", [name + "2", "s2"], [name + "3"])]
    nodes += [n("Mul", ["q3", "c"], ["qs"]), n("Transpose", ["k3"], ["kt"], perm=[0, 1, 3, 2]), n("Mul", ["kt", "c"], ["ks"]),
              n("MatMul", ["qs", "ks"], ["sc"]), n("Softmax", ["sc"], ["pr"], axis=-1), n("MatMul", ["pr", "v3"], ["o"]),
              n("Transpose", ["o"], ["ot"], perm=[2, 0, 1, 3]), n("Reshape", ["ot", "s_o"], ["o2"]),
              n("Gemm", ["o2", "w_out", "b_out"], ["o3"]), n("Reshape", ["o3", "s_sbe"], ["o4"]),
              n("Transpose", ["o4"], ["y"], perm=[1, 0, 2])]
    return nodes, inits


@pytest.mark.parametrize("fp16", PRECISIONS)
# Head dims 8, 16, 64 (ViT-B), 96, 8 with 70 keys (two key tiles); 12 and 160: the flash kernel refuses them
# (not a multiple of 8, past 128) and the cuBLASLt path gathers and scatters around its products.
@pytest.mark.parametrize("b,s,e,h", [(2, 5, 16, 2), (3, 17, 64, 4), (2, 197, 768, 12), (1, 33, 96, 1), (2, 70, 40, 5),
                                     (2, 9, 36, 3), (1, 10, 320, 2)])
def test_attention_views_torch2_mha(tmp_path, fp16, b, s, e, h):
    rng = np.random.default_rng(2)
    nodes, inits = mha_torch2(b, s, e, h, rng)
    g, r = run_case(tmp_path, nodes, [("x", (b, s, e))], [("y", (b, s, e))], inits, fp16=fp16, rng=rng)
    check(g, r, tol_for(fp16, True))
    att, ops = attention_layers(tmp_path, tmp_path / "m.onnx", fp16)
    # The head split / merge, the scales and the Transposes around the projections are all gone.
    assert ops == ["ingot.FusedMatMul", "ingot.Attention", "Gemm", "Reshape"], ops
    assert att[0]["tactic"] == expected_attention_tactic(fp16, e // h)


@pytest.mark.parametrize("fp16", PRECISIONS)
# (2, 200, 257, 256, 2): head dim 128, a last query block of 8 rows, a last key tile of 1 key.
@pytest.mark.parametrize("b,sq,sk,e,h,mask", [(2, 7, 13, 32, 4, False), (3, 64, 65, 128, 2, False),
                                              (1, 130, 3, 48, 3, False), (2, 200, 257, 256, 2, False),
                                              (2, 7, 13, 32, 4, True)])
def test_attention_views_cross(tmp_path, fp16, b, sq, sk, e, h, mask):
    # BERT-style head split of a query tensor and of a packed key / value tensor with another length:
    # Reshape + Transpose, Reshape + Gather + Transpose, the head merge after. With a mask: the cuBLASLt path
    # with views (gathered operands, scattered output) in FP16 too.
    hd = e // h
    i64 = lambda *v: np.array(v, np.int64)
    n = helper.make_node
    inits = [init("s_q", i64(b, sq, h, hd)), init("s_kv", i64(b, sk, 2, h, hd)), init("i0", i64(0).reshape(())),
             init("i1", i64(1).reshape(())), init("scale", np.float32(hd ** -0.5)), init("s_y", i64(b, sq, e))]
    nodes = [n("Reshape", ["q", "s_q"], ["q4"]), n("Transpose", ["q4"], ["qh"], perm=[0, 2, 1, 3]),
             n("Reshape", ["kv", "s_kv"], ["kv5"]),
             n("Gather", ["kv5", "i0"], ["k4"], axis=2), n("Transpose", ["k4"], ["kh"], perm=[0, 2, 1, 3]),
             n("Gather", ["kv5", "i1"], ["v4"], axis=2), n("Transpose", ["v4"], ["vh"], perm=[0, 2, 1, 3]),
             n("Transpose", ["kh"], ["kt"], perm=[0, 1, 3, 2]), n("MatMul", ["qh", "kt"], ["sc"]),
             n("Div", ["sc", "scale"], ["ss0"]), n("Add", ["ss0", "mask"], ["ss"]) if mask else n("Identity", ["ss0"], ["ss"]),
             n("Softmax", ["ss"], ["p"], axis=-1), n("MatMul", ["p", "vh"], ["o"]),
             n("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]), n("Reshape", ["ot", "s_y"], ["y"])]
    inputs = [("q", (b, sq, e)), ("kv", (b, sk, 2 * e))] + ([("mask", (b, 1, 1, sk))] if mask else [])
    g, r = run_case(tmp_path, nodes, inputs, [("y", (b, sq, e))], inits, fp16=fp16)
    check(g, r, tol_for(fp16, True))
    att, ops = attention_layers(tmp_path, tmp_path / "m.onnx", fp16)
    assert ops == ["ingot.Attention"], ops
    assert att[0]["tactic"] == ("cuda.ingot.attention" if mask else expected_attention_tactic(fp16, hd))


VIT_TINY = ROOT / "tests" / "models" / "data" / "vit_tiny_torch211.onnx"


@pytest.mark.parametrize("fp16", PRECISIONS)
def test_vit_tiny_torch211(tmp_path, fp16):
    # torch 2.11's ViT (tests/models/data/README.md): both attention blocks as one Attention layer each.
    x = np.random.default_rng(3).standard_normal((1, 3, 32, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    outs = {}
    for tag, extra, env in (("gpu", ["--device", "cuda"] + (["--fp16"] if fp16 else []), {}),
                            ("ref", [], {"INGOT_TACTICS": "reference"})):
        r = subprocess.run([CLI, "run", str(VIT_TINY), "--input", f"input={tmp_path / 'x.npy'}", "--output-dir",
                            str(tmp_path / tag)] + extra, capture_output=True, text=True, env={**os.environ, **env})
        assert r.returncode == 0, r.stderr
        outs[tag] = {"output": np.load(tmp_path / tag / "output.npy")}
    assert np.abs(outs["ref"]["output"]).max() > 1e-3
    check(outs["gpu"], outs["ref"], tol_for(fp16, True))
    att, ops = attention_layers(tmp_path, VIT_TINY, fp16)
    assert len(att) == 2 and "Gather" not in ops[:-2] and "Mul" not in ops, ops
    assert all(a["tactic"] == expected_attention_tactic(fp16, 16) for a in att), att


@pytest.mark.parametrize("fp16", PRECISIONS)
# FP16 rows of 8 n halves up to 2048 take the warp-per-row kernel (n words per row over 32 lanes: 4, 96, 125,
# 97 with a partial last block of rows); 20 and 2056 the block-per-row one.
@pytest.mark.parametrize("x", [(2, 7, 32), (4, 768), (1, 3, 5, 1000), (5, 3, 776), (3, 20), (3, 2056)])
def test_layer_norm(tmp_path, fp16, x):
    rng = np.random.default_rng(5)
    r_ = x[-1]
    nodes = [helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"], axis=-1, epsilon=1e-5)]
    g, r = run_case(tmp_path, nodes, [("x", x)], [("y", x)],
                    [init("s", rng.uniform(0.5, 1.5, (r_,)).astype(np.float32)),
                     init("b", rng.uniform(-1, 1, (r_,)).astype(np.float32))], fp16=fp16, rng=rng)
    check(g, r, tol_for(fp16, False))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("x,axis", [((3, 5, 33), -1), ((2, 4, 3), 1), ((2, 1100), 1)])
def test_softmax(tmp_path, fp16, x, axis):
    g, r = run_case(tmp_path, [helper.make_node("Softmax", ["x"], ["y"], axis=axis)], [("x", x)], [("y", x)],
                    fp16=fp16)
    check(g, r, tol_for(fp16, False))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("op,x,attrs,y", [
    ("MaxPool", (2, 4, 11, 13), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), (2, 4, 6, 7)),
    ("AveragePool", (1, 3, 8, 10), dict(kernel_shape=[2, 2], strides=[2, 2]), (1, 3, 4, 5)),
    ("AveragePool", (2, 2, 7, 7), dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1), (2, 2, 7, 7)),
    ("GlobalAveragePool", (2, 5, 7, 7), {}, (2, 5, 1, 1)),
    ("GlobalMaxPool", (3, 2, 4, 9), {}, (3, 2, 1, 1)),
])
def test_pool(tmp_path, fp16, op, x, attrs, y):
    g, r = run_case(tmp_path, [helper.make_node(op, ["x"], ["y"], **attrs)], [("x", x)], [("y", y)], fp16=fp16)
    check(g, r, tol_for(fp16, False))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("op,x,axes,y", [("ReduceMean", (2, 3, 40), [-1], (2, 3, 1)),
                                         ("ReduceSum", (4, 6, 5), [1], (4, 1, 5)),
                                         ("ReduceMax", (3, 8, 2, 2), [2, 3], (3, 8, 1, 1))])
def test_reduce(tmp_path, fp16, op, x, axes, y):
    g, r = run_case(tmp_path, [helper.make_node(op, ["x", "axes"], ["y"])], [("x", x)], [("y", y)],
                    [init("axes", np.array(axes, np.int64))], opset=18, fp16=fp16)
    check(g, r, tol_for(fp16, False))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("op,a,b", [("Add", (2, 3, 4), (4,)), ("Mul", (2, 1, 4), (3, 1)), ("Sub", (5,), (2, 5)),
                                    ("Div", (3, 7), (3, 7))])
def test_binary(tmp_path, fp16, op, a, b):
    y = np.broadcast_shapes(a, b)
    rng = np.random.default_rng(6)
    nodes = [helper.make_node(op, ["a", "c"], ["y"])]
    # The second operand is a constant offset away from zero, so Div stays well conditioned.
    cval = (rng.uniform(0.5, 1.5, b) * rng.choice([-1, 1], b)).astype(np.float32)
    g, r = run_case(tmp_path, nodes, [("a", a)], [("y", y)], [init("c", cval)], fp16=fp16, rng=rng)
    check(g, r, tol_for(fp16, False))


@pytest.mark.parametrize("fp16", PRECISIONS)
@pytest.mark.parametrize("op,attrs", [("Relu", {}), ("Sigmoid", {}), ("Tanh", {}), ("Gelu", {}),
                                      ("LeakyRelu", dict(alpha=0.1)), ("HardSwish", {}), ("Exp", {}), ("Neg", {})])
def test_unary(tmp_path, fp16, op, attrs):
    for x in [(7,), (3, 65, 9)]:
        sub = tmp_path / f"r{len(x)}"
        sub.mkdir()
        g, r = run_case(sub, [helper.make_node(op, ["x"], ["y"], **attrs)], [("x", x)], [("y", x)], opset=20,
                        fp16=fp16)
        check(g, r, tol_for(fp16, False))


@pytest.mark.parametrize("fp16", PRECISIONS)
def test_data_movement(tmp_path, fp16):
    """Transpose, Slice with steps, Concat, Split, Gather and Reshape in one model."""
    rng = np.random.default_rng(7)
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1, 3]),             # 2,5,3,6
             helper.make_node("Slice", ["t", "st", "en", "ax", "sp"], ["s"]),            # 2,5,3,3
             helper.make_node("Concat", ["s", "s"], ["c"], axis=3),                      # 2,5,3,6
             helper.make_node("Split", ["c", "parts"], ["p0", "p1"], axis=1),            # 2,2,3,6 / 2,3,3,6
             helper.make_node("Gather", ["p1", "idx"], ["g"], axis=2),                   # 2,3,2,6
             helper.make_node("Reshape", ["g", "shape"], ["y1"]),                        # 6,12
             helper.make_node("Relu", ["p0"], ["y0"])]
    inits = [init("st", np.array([5, 0], np.int64)), init("en", np.array([-100, 3], np.int64)),
             init("ax", np.array([3, 2], np.int64)), init("sp", np.array([-2, 1], np.int64)),
             init("parts", np.array([2, 3], np.int64)), init("idx", np.array([2, -3], np.int64)),
             init("shape", np.array([6, 12], np.int64))]
    g, r = run_case(tmp_path, nodes, [("x", (2, 3, 5, 6))], [("y0", (2, 2, 3, 6)), ("y1", (6, 12))], inits,
                    opset=18, fp16=fp16, rng=rng)
    check(g, r, tol_for(fp16, False))


def test_engine_file_round_trip_and_errors(tmp_path):
    """An FP16 engine saved and loaded runs like the in-memory build; dynamic shapes are refused clearly."""
    rng = np.random.default_rng(8)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])
    m = helper.make_model(helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y],
                                            [init("w", rng.uniform(-1, 1, (4, 3)).astype(np.float32))]),
                          opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, tmp_path / "m.onnx")
    r = subprocess.run([CLI, "build", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "m.ingot"), "--device", "cuda"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "static shapes" in r.stderr, r.stderr
    r = subprocess.run([CLI, "build", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "m.ingot"), "--device", "cuda",
                        "--fp16", "--shapes", "x:5x4"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([CLI, "inspect", str(tmp_path / "m.ingot")], capture_output=True, text=True)
    assert "cuda.cublaslt.matmul" in r.stdout and "platform: cuda; " in r.stdout, r.stdout
    xv = rng.uniform(-1, 1, (5, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", xv)
    r = subprocess.run([CLI, "run", str(tmp_path / "m.ingot"), "--input", f"x={tmp_path / 'x.npy'}", "--output-dir",
                        str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = np.load(tmp_path / "y.npy")
    want = xv @ numpy_helper.to_array(m.graph.initializer[0])
    assert np.linalg.norm(got - want) / np.linalg.norm(want) < F16
