"""Layer fusion (`ingot simplify --fuse`): each pattern is fused into the expected layer, the pattern's ops
are gone, and `ingot run` gives the same outputs on the fused model as on the original (random data,
fixed seeds). Negative cases check that nothing is fused where it would be wrong."""
import collections
import math
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from op_harness import INGOT

EXACT = dict(rtol=1e-5, atol=1e-5)
# `ingot run` on an ONNX file builds it with the fusion passes: the original runs without them, so that the
# comparison is between the unfused graph and the fused one.
FUSION_PASSES = ["fold_qdq", "fuse_conv_batchnorm", "fuse_gelu", "fuse_hardswish", "fuse_layer_norm", "fuse_attention",
                 "fold_attention_views", "fuse_epilogue", "fuse_horizontal", "fuse_epilogue_after_views"]
CLOSE = dict(rtol=1e-4, atol=1e-4)


class Model:
    """A graph under construction: inputs with random data, constants, nodes."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inputs, self.inits, self.feeds, self.outputs = [], [], [], {}, []

    def input(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        self.feeds[name] = self.rng.standard_normal(shape).astype(np.float32)
        return name

    def const(self, name, value):
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def rand(self, name, shape, scale=0.5, offset=0.0):
        return self.const(name, (self.rng.standard_normal(shape) * scale + offset).astype(np.float32))

    def scalar(self, name, v):
        return self.const(name, np.array(v, np.float32))

    def node(self, op, ins, out=None, name=None, **attrs):
        out = out or (name or op.lower()) + "_out"
        self.nodes.append(helper.make_node(op, ins, [out], name=name or op.lower(), **attrs))
        return out

    def output(self, name):
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))

    def bn(self, x, c, name="bn"):
        return self.node("BatchNormalization", [x, self.rand(name + "_s", [c], 0.3, 1.0), self.rand(name + "_b", [c]),
                                                self.rand(name + "_m", [c]),
                                                self.const(name + "_v", self.rng.uniform(0.5, 2.0, c).astype(np.float32))],
                         name=name, epsilon=1e-3)

    def save(self, path, opset=17):
        g = helper.make_graph(self.nodes, "g", self.inputs, self.outputs, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        onnx.save(m, path)
        return path


def fuse(model, tmp_path, opset=17, tol=EXACT):
    """Fuses `model`, compares `ingot run` on both files; returns the fused ONNX and its op counts."""
    src = model.save(tmp_path / "in.onnx", opset)
    dst = tmp_path / "out.onnx"
    proc = subprocess.run([INGOT, "simplify", "--fuse", str(src), str(dst)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    fused = onnx.load(dst)
    args = []
    for name, arr in model.feeds.items():
        np.save(tmp_path / (name + ".npy"), arr)
        args += ["--input", "%s=%s" % (name, tmp_path / (name + ".npy"))]
    outs = {}
    for tag, path in (("ref", src), ("fused", dst)):
        unfused = ["--disable-pass", *FUSION_PASSES] if tag == "ref" else []
        proc = subprocess.run([INGOT, "run", str(path), *args, *unfused, "--output-dir", str(tmp_path / tag)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        outs[tag] = {o.name: np.load(tmp_path / tag / (o.name + ".npy")) for o in model.outputs}
    for name, ref in outs["ref"].items():
        assert np.abs(ref).max() > 1e-3, "%s is all (near) zero: the comparison would prove nothing" % name
        np.testing.assert_allclose(outs["fused"][name], ref, **tol, err_msg=name)
    ops = collections.Counter((n.domain + "." if n.domain else "") + n.op_type for n in fused.graph.node)
    return fused, ops


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def only(fused, op):
    found = [n for n in fused.graph.node if (n.domain + "." if n.domain else "") + n.op_type == op]
    assert len(found) == 1, [n.op_type for n in fused.graph.node]
    return found[0], attrs(found[0])


def fused_from(a):
    return [s.decode() for s in a["fused_from"]]


# ----------------------------------------------------------------------------------------------
# Conv / BatchNorm / bias / residual / activation


def test_conv_bn_relu(tmp_path):
    m = Model()
    y = m.node("Conv", [m.input("x", [1, 3, 9, 9]), m.rand("w", [4, 3, 3, 3]), m.rand("b", [4])], name="conv",
               pads=[1, 1, 1, 1])
    m.output(m.node("Relu", [m.bn(y, 4)], "y", name="relu"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.FusedConv": 1}
    _, a = only(fused, "ingot.FusedConv")
    assert a["activation"] == b"Relu"
    assert fused_from(a) == ["Conv:conv", "BatchNormalization:bn", "Relu:relu"]
    assert a["pads"] == [1, 1, 1, 1]


def test_conv_bn_residual_relu(tmp_path):
    """resnet's block end: Conv -> BN -> Add(shortcut) -> Relu is one layer with a residual input."""
    m = Model(1)
    x = m.input("x", [1, 4, 6, 6])
    y = m.node("Conv", [x, m.rand("w", [4, 4, 3, 3])], name="conv", pads=[1, 1, 1, 1])
    s = m.node("Add", [m.bn(y, 4), x], name="add")
    m.output(m.node("Relu", [s], "y", name="relu"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.FusedConv": 1}
    n, a = only(fused, "ingot.FusedConv")
    assert len(n.input) == 4 and n.input[3] == "x"
    assert fused_from(a) == ["Conv:conv", "BatchNormalization:bn", "Add:add", "Relu:relu"]


def gelu_erf(m, x, order="pytorch"):
    """0.5 * x * (1 + erf(x / sqrt2)) in the orders exporters write."""
    if order == "mul_rsqrt2":
        e = m.node("Erf", [m.node("Mul", [m.scalar("r2", 1 / math.sqrt(2)), x], name="div")], name="erf")
    else:
        e = m.node("Erf", [m.node("Div", [x, m.scalar("s2", math.sqrt(2))], name="div")], name="erf")
    u = m.node("Add", [e, m.scalar("one", 1.0)], name="add1")
    half = m.scalar("half", 0.5)
    if order in ("pytorch", "mul_rsqrt2"):  # (x * u) * 0.5
        return m.node("Mul", [m.node("Mul", [x, u], name="mulx"), half], name="mulh")
    if order == "half_first":  # (x * 0.5) * u
        return m.node("Mul", [m.node("Mul", [half, x], name="mulh"), u], name="mulx")
    return m.node("Mul", [x, m.node("Mul", [u, half], name="mulh")], name="mulx")  # x * (u * 0.5)


def gelu_tanh(m, x, cube="pow"):
    if cube == "pow":
        c = m.node("Pow", [x, m.scalar("three", 3.0)], name="pow")
    else:
        c = m.node("Mul", [x, m.node("Mul", [x, x], name="sq")], name="cube")
    inner = m.node("Add", [x, m.node("Mul", [m.scalar("k", 0.044715), c], name="mulk")], name="addx")
    t = m.node("Tanh", [m.node("Mul", [inner, m.scalar("c", math.sqrt(2 / math.pi))], name="mulc")], name="tanh")
    u = m.node("Add", [m.scalar("one", 1.0), t], name="add1")
    return m.node("Mul", [m.node("Mul", [x, m.scalar("half", 0.5)], name="mulh"), u], name="mulx")


def hardswish(m, x, form):
    if form == "hardsigmoid":
        return m.node("Mul", [x, m.node("HardSigmoid", [x], name="hs", alpha=1 / 6, beta=0.5)], name="mul")
    c = m.node("Clip", [m.node("Add", [x, m.scalar("three", 3.0)], name="add3"), m.scalar("lo", 0.0),
                        m.scalar("hi", 6.0)], name="clip")
    six = m.scalar("six", 6.0)
    sixth = m.scalar("sixth", 1 / 6)
    if form == "add_clip_div_mul":  # PyTorch
        return m.node("Mul", [x, m.node("Div", [c, six], name="div")], name="mul")
    if form == "add_clip_mul_div":  # Paddle
        return m.node("Div", [m.node("Mul", [x, c], name="mul"), six], name="div")
    return m.node("Mul", [m.node("Mul", [c, x], name="mul"), sixth], name="div")  # Mul by 1/6


# activation builder -> (expected activation attribute, alpha, beta)
ACTIVATIONS = {
    "Relu": (lambda m, y: m.node("Relu", [y]), "Relu", None),
    "LeakyRelu": (lambda m, y: m.node("LeakyRelu", [y], alpha=0.2), "LeakyRelu", (0.2, None)),
    "Relu6": (lambda m, y: m.node("Clip", [y, m.scalar("lo", 0.0), m.scalar("hi", 6.0)]), "Clip", (0.0, 6.0)),
    "ClipMinOnly": (lambda m, y: m.node("Clip", [y, m.scalar("lo", -0.5)]), "Clip", (-0.5, None)),
    "Sigmoid": (lambda m, y: m.node("Sigmoid", [y]), "Sigmoid", None),
    "Tanh": (lambda m, y: m.node("Tanh", [y]), "Tanh", None),
    "HardSigmoid": (lambda m, y: m.node("HardSigmoid", [y], alpha=0.3, beta=0.4), "HardSigmoid", (0.3, 0.4)),
    "HardSwish": (lambda m, y: m.node("HardSwish", [y]), "HardSwish", None),
    "HardSwishClipForm": (lambda m, y: hardswish(m, y, "add_clip_div_mul"), "HardSwish", None),
    "HardSwishPaddle": (lambda m, y: hardswish(m, y, "add_clip_mul_div"), "HardSwish", None),
    "HardSwishHardSigmoid": (lambda m, y: hardswish(m, y, "hardsigmoid"), "HardSwish", None),
    "Silu": (lambda m, y: m.node("Mul", [y, m.node("Sigmoid", [y])]), "Silu", None),
    "GeluErf": (lambda m, y: gelu_erf(m, y), "Gelu", None),
    "GeluTanh": (lambda m, y: gelu_tanh(m, y), "GeluTanh", None),
}


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_conv_bias_activation(tmp_path, act):
    build, name, params = ACTIVATIONS[act]
    m = Model(2)
    y = m.node("Conv", [m.input("x", [2, 3, 7, 7]), m.rand("w", [5, 3, 3, 3])], name="conv", strides=[2, 2])
    y = m.node("Add", [y, m.rand("bias", [1, 5, 1, 1])], name="bias")  # a bias the exporter left as an Add
    m.output(m.node("Identity", [build(m, y)], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE if "Gelu" in act or "Swish" in act else EXACT)
    assert ops == {"ingot.FusedConv": 1}, ops
    n, a = only(fused, "ingot.FusedConv")
    assert a["activation"].decode() == name and len(n.input) == 3
    if params:
        assert a["activation_alpha"] == pytest.approx(params[0], rel=1e-6)
        if params[1] is not None:
            assert a["activation_beta"] == pytest.approx(params[1], rel=1e-6)


def test_conv_transpose_bn(tmp_path):
    m = Model(3)
    y = m.node("ConvTranspose", [m.input("x", [1, 4, 5, 5]), m.rand("w", [4, 3, 3, 3]), m.rand("b", [6])],
               name="deconv", group=2, strides=[2, 2])
    m.output(m.node("Identity", [m.bn(y, 6)], "y"))
    _, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ConvTranspose": 1}


def test_depthwise_conv_bn_relu6(tmp_path):
    m = Model(4)
    y = m.node("Conv", [m.input("x", [1, 6, 8, 8]), m.rand("w", [6, 1, 3, 3])], name="dw", group=6, pads=[1, 1, 1, 1])
    m.output(m.node("Clip", [m.bn(y, 6), m.scalar("lo", 0.0), m.scalar("hi", 6.0)], "y", name="relu6"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.FusedConv": 1}
    assert only(fused, "ingot.FusedConv")[1]["group"] == 6


# ----------------------------------------------------------------------------------------------
# MatMul / Gemm


def test_gemm_trans_alpha_beta_relu(tmp_path):
    m = Model(5)
    y = m.node("Gemm", [m.input("x", [3, 8]), m.rand("w", [6, 8]), m.rand("c", [6])], name="gemm", transB=1,
               alpha=0.5, beta=2.0)
    m.output(m.node("Relu", [y], "y", name="relu"))
    fused, ops = fuse(m, tmp_path)
    assert ops == {"ingot.FusedMatMul": 1}
    _, a = only(fused, "ingot.FusedMatMul")
    assert fused_from(a) == ["Gemm:gemm", "Relu:relu"]


def test_matmul_bias_residual_gelu(tmp_path):
    """A transformer FFN tail: MatMul + bias (Add with the bias first, as PyTorch writes it) + residual."""
    m = Model(6)
    x = m.input("x", [2, 5, 8])
    y = m.node("MatMul", [x, m.rand("w", [8, 8])], name="mm")
    y = m.node("Add", [m.rand("bias", [8]), y], name="bias")
    y = m.node("Add", [y, m.input("z", [2, 5, 8])], name="residual")
    m.output(m.node("Identity", [gelu_erf(m, y)], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.FusedMatMul": 1}
    n, a = only(fused, "ingot.FusedMatMul")
    assert a["activation"] == b"Gelu" and list(n.input)[3] == "z"
    assert fused_from(a)[:3] == ["MatMul:mm", "Add:bias", "Add:residual"]


@pytest.mark.parametrize("shape,fused_in", [([2, 3, 8], True), ([6, 2, 4], False)])
def test_residual_behind_a_reshape(tmp_path, shape, fused_in):
    """An out-projection's rows regrouped by a Reshape that keeps the last axis ((B * S, E) -> (B, S, E)), then the
    residual Add: the Add joins the layer (Z reshaped to its rows) and the Reshape moves after it. A Reshape that
    splits the last axis is not a regrouping of rows: its Add stays."""
    m = Model(7)
    y = m.node("Gemm", [m.input("x", [6, 8]), m.rand("w", [8, 8]), m.rand("c", [8])], name="proj", transB=1)
    y = m.node("Reshape", [y, m.const("shape", np.array(shape, np.int64))], name="regroup")
    m.output(m.node("Add", [y, m.input("z", shape)], "y", name="residual"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    if fused_in:
        assert ops == {"ingot.FusedMatMul": 1, "Reshape": 2}, ops
        n, a = only(fused, "ingot.FusedMatMul")
        assert len(n.input) == 4 and fused_from(a) == ["Gemm:proj", "Add:residual"], (list(n.input), a)
        (out,) = [r for r in fused.graph.node if r.op_type == "Reshape" and r.output[0] == "y"]
        assert out.input[0] == n.output[0]
    else:
        assert ops == {"Gemm": 1, "Reshape": 1, "Add": 1}, ops


def test_matmul_bn(tmp_path):
    m = Model(7)
    y = m.node("MatMul", [m.input("x", [4, 8]), m.rand("w", [8, 6])], name="mm")
    m.output(m.node("Identity", [m.bn(y, 6)], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.FusedMatMul": 1}
    assert fused_from(only(fused, "ingot.FusedMatMul")[1]) == ["MatMul:mm", "BatchNormalization:bn"]


# ----------------------------------------------------------------------------------------------
# Standalone GELU / HardSwish chains become one ONNX op


@pytest.mark.parametrize("order", ["pytorch", "mul_rsqrt2", "half_first", "half_last"])
def test_standalone_gelu_erf(tmp_path, order):
    m = Model(8)
    m.output(m.node("Identity", [gelu_erf(m, m.input("x", [3, 17]), order)], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"Gelu": 1}, ops
    assert only(fused, "Gelu")[1]["approximate"] == b"none"


@pytest.mark.parametrize("cube", ["pow", "mul"])
def test_standalone_gelu_tanh(tmp_path, cube):
    m = Model(9)
    m.output(m.node("Identity", [gelu_tanh(m, m.input("x", [3, 17]), cube)], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"Gelu": 1}, ops
    assert only(fused, "Gelu")[1]["approximate"] == b"tanh"


@pytest.mark.parametrize("form", ["add_clip_div_mul", "add_clip_mul_div", "mul_sixth", "hardsigmoid"])
def test_standalone_hardswish(tmp_path, form):
    m = Model(10)
    x = m.input("x", [4, 9])
    m.feeds["x"] *= 4  # reach both clip bounds
    m.output(m.node("Identity", [hardswish(m, x, form)], "y"))
    _, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"HardSwish": 1}, ops


# ----------------------------------------------------------------------------------------------
# LayerNorm


def layer_norm(m, x, axes=(-1,), square="pow", affine=True, hidden=16):
    mean = m.node("ReduceMean", [x, m.const("axes", np.array(axes, np.int64))], name="mean")
    d = m.node("Sub", [x, mean], name="sub")
    sq = m.node("Pow", [d, m.scalar("two", 2.0)], name="pow") if square == "pow" else m.node("Mul", [d, d], name="sq")
    var = m.node("ReduceMean", [sq, "axes"], name="var")
    s = m.node("Sqrt", [m.node("Add", [var, m.scalar("eps", 1e-5)], name="addeps")], name="sqrt")
    y = m.node("Div", [d, s], name="div")
    if affine:
        y = m.node("Mul", [y, m.rand("gamma", [hidden], 0.3, 1.0)], name="gamma_mul")
        y = m.node("Add", [y, m.rand("beta", [1, 1, hidden])], name="beta_add")
    return y


@pytest.mark.parametrize("square,affine", [("pow", True), ("mul", True), ("pow", False)])
def test_layer_norm(tmp_path, square, affine):
    m = Model(11)
    m.output(m.node("Identity", [layer_norm(m, m.input("x", [2, 5, 16]), square=square, affine=affine)], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"LayerNormalization": 1}, ops
    n, a = only(fused, "LayerNormalization")
    assert a["axis"] == -1 and a["epsilon"] == pytest.approx(1e-5)
    assert len(n.input) == (3 if affine else 2)


def test_layer_norm_over_another_axis_is_not_fused(tmp_path):
    m = Model(12)
    m.output(m.node("Identity", [layer_norm(m, m.input("x", [2, 16, 16]), axes=(1,), affine=False)], "y"))
    _, ops = fuse(m, tmp_path)
    assert "LayerNormalization" not in ops and ops["ReduceMean"] == 2


# ----------------------------------------------------------------------------------------------
# Attention


def attention(m, rank=4, k_form="transpose", scale_op="Div", mask=True):
    lead = [2, 3] if rank == 4 else [3]
    q = m.input("q", lead + [5, 8])
    if k_form == "transpose":
        kt = m.node("Transpose", [m.input("k", lead + [6, 8])], name="kt", perm=list(range(rank - 2)) + [rank - 1, rank - 2])
    else:
        kt = m.input("kt", lead + [8, 6])
    s = m.node("MatMul", [q, kt], name="qk")
    if scale_op == "Div":
        s = m.node("Div", [s, m.scalar("sqrt_d", math.sqrt(8))], name="scale")
    elif scale_op == "Mul":
        s = m.node("Mul", [m.scalar("rsqrt_d", 1 / math.sqrt(8)), s], name="scale")
    if mask:
        mk = m.input("mask", [2, 1, 1, 6] if rank == 4 else [1, 6])
        m.feeds["mask"] = np.where(m.rng.random(m.feeds["mask"].shape) < 0.3, -10000.0, 0.0).astype(np.float32)
        s = m.node("Add", [s, mk], name="mask_add")
    p = m.node("Softmax", [s], name="softmax", axis=-1)
    return m.node("MatMul", [p, m.input("v", lead + [6, 7])], name="pv")


@pytest.mark.parametrize("rank,k_form,scale_op,mask", [
    (4, "transpose", "Div", True),
    (4, "given", "Mul", True),
    (3, "transpose", "Mul", False),
    (3, "given", None, True),
])
def test_attention(tmp_path, rank, k_form, scale_op, mask):
    m = Model(13)
    m.output(m.node("Identity", [attention(m, rank, k_form, scale_op, mask)], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.Attention": 1}, ops
    n, a = only(fused, "ingot.Attention")
    assert a["k_transposed"] == (0 if k_form == "transpose" else 1)
    assert a["scale"] == pytest.approx(1 / math.sqrt(8) if scale_op else 1.0, rel=1e-6)
    assert len(n.input) == (4 if mask else 3)
    assert fused_from(a)[-2:] == ["Softmax:softmax", "MatMul:pv"]


@pytest.mark.parametrize("k_scale_op", ["Mul", "Div"])
def test_attention_scales_on_q_and_k(tmp_path, k_scale_op):
    # torch's nn.MultiheadAttention (torch 2.x export): Mul(q, sqrt(c)) and Mul(Transpose(k), sqrt(c)).
    m = Model(16)
    q = m.node("Mul", [m.input("q", [2, 3, 5, 8]), m.scalar("cq", 0.7)], name="q_scale")
    kt = m.node("Transpose", [m.input("k", [2, 3, 6, 8])], name="kt", perm=[0, 1, 3, 2])
    kt = m.node(k_scale_op, [kt, m.scalar("ck", 1.6)], name="k_scale")
    s = m.node("Div", [m.node("MatMul", [q, kt], name="qk"), m.scalar("sqrt_d", 2.0)], name="scale")
    p = m.node("Softmax", [s], name="softmax", axis=-1)
    m.output(m.node("MatMul", [p, m.input("v", [2, 3, 6, 7])], "y", name="pv"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.Attention": 1}, ops
    n, a = only(fused, "ingot.Attention")
    assert a["k_transposed"] == 0
    ck = 1.6 if k_scale_op == "Mul" else 1 / 1.6
    assert a["scale"] == pytest.approx(0.7 * ck / 2.0, rel=1e-6)
    assert list(n.input) == ["q", "k", "v"]


def test_attention_scale_read_elsewhere_stays(tmp_path):
    m = Model(17)
    q = m.node("Mul", [m.input("q", [2, 5, 8]), m.scalar("cq", 0.5)], name="q_scale")
    p = m.node("Softmax", [m.node("MatMul", [q, m.input("kt", [2, 8, 6])], name="qk")], name="softmax", axis=-1)
    m.output(m.node("MatMul", [p, m.input("v", [2, 6, 7])], "y", name="pv"))
    m.output(q)
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.Attention": 1, "Mul": 1}, ops
    n, a = only(fused, "ingot.Attention")
    assert a["scale"] == pytest.approx(1.0) and n.input[0] == q


def mha_torch2(m, B=2, S=5, E=16, H=2):
    """nn.MultiheadAttention(batch_first=True) as torch 2.x's exporter writes it (opset 17, dynamo=False):
    packed QKV projection, Reshape / Unsqueeze / Transpose / Squeeze, Gather q / k / v, head split, scales on
    q and k^T, head merge, out projection. Returns (output, P: the packed projection (S, B, 3E))."""
    hd = E // H
    c = m.scalar("sqrt_c", math.sqrt(1 / math.sqrt(hd)))
    x = m.node("Transpose", [m.input("x", [B, S, E])], name="in_t", perm=[1, 0, 2])
    p = m.node("Add", [m.node("MatMul", [x, m.rand("w_in", [E, 3 * E])], name="in_proj"), m.rand("b_in", [3 * E])],
               name="in_bias")
    t = m.node("Reshape", [p, m.const("s_3e", np.array([S, B, 3, E], np.int64))], name="r_3e")
    t = m.node("Unsqueeze", [t, m.const("ax0", np.array([0], np.int64))], name="unsq")
    t = m.node("Transpose", [t], name="t_qkv", perm=[3, 1, 2, 0, 4])
    t = m.node("Squeeze", [t, m.const("ax_2", np.array([-2], np.int64))], name="sq")
    heads = []
    for i, name in enumerate("qkv"):
        h = m.node("Gather", [t, m.const("i" + name, np.array(i, np.int64))], name="g" + name, axis=0)
        h = m.node("Reshape", [h, m.const("s1" + name, np.array([S, B * H, hd], np.int64))], name="r1" + name)
        h = m.node("Transpose", [h], name="t" + name, perm=[1, 0, 2])
        heads.append(m.node("Reshape", [h, m.const("s2" + name, np.array([B, H, S, hd], np.int64))], name="r2" + name))
    q, k, v = heads
    q = m.node("Mul", [q, c], name="q_scale")
    k = m.node("Mul", [m.node("Transpose", [k], name="kt", perm=[0, 1, 3, 2]), c], name="k_scale")
    a = m.node("Softmax", [m.node("MatMul", [q, k], name="qk")], name="softmax", axis=-1)
    o = m.node("Transpose", [m.node("MatMul", [a, v], name="pv")], name="t_out", perm=[2, 0, 1, 3])
    o = m.node("Reshape", [o, m.const("s_o", np.array([S * B, E], np.int64))], name="r_out")
    o = m.node("Gemm", [o, m.rand("w_out", [E, E]), m.rand("b_out", [E])], name="out_proj", transB=1)
    o = m.node("Reshape", [o, m.const("s_sbe", np.array([S, B, E], np.int64))], name="r_sbe")
    return m.node("Transpose", [o], name="out_t", perm=[1, 0, 2]), p


def test_attention_views_fold_torch2_mha(tmp_path):
    B, S, E, H = 2, 5, 16, 2
    m = Model(18)
    y, p = mha_torch2(m, B, S, E, H)
    m.output(m.node("Identity", [y], "y"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    # The in-projection reads x (B, S, E) as it is; the out-projection's rows come in (B, S) order, so one
    # Reshape to (B, S, E) replaces its Reshape + Transpose.
    assert ops == {"ingot.FusedMatMul": 1, "ingot.Attention": 1, "Gemm": 1, "Reshape": 1}, ops
    n, a = only(fused, "ingot.Attention")
    assert list(n.input) == [p, p, p] and a["k_transposed"] == 0
    assert a["scale"] == pytest.approx(1 / math.sqrt(E // H), rel=1e-6)
    # P is now (B, S, 3E): q / k / v element (b, h, s, d) at P[b, s, i * E + h * hd + d].
    hd = E // H
    for i, name in enumerate(["q_view", "k_view", "v_view"]):
        assert a[name] == [B, H, S, hd, i * E, S * 3 * E, hd, 3 * E], name
    # The output (S * B, E), its rows in (b, s) order: element (b, h, s, d) at ((b * S + s) * E + h * hd + d).
    assert a["y_view"] == [B, H, S, hd, 0, S * E, hd, E] and a["y_shape"] == [S * B, E]
    assert [s.split(":")[1] for s in fused_from(a)] == [
        "in_t", "r_3e", "unsq", "t_qkv", "sq", "gq", "r1q", "tq", "r2q", "gk", "r1k", "tk", "r2k", "gv", "r1v", "tv",
        "r2v", "kt", "k_scale", "q_scale", "qk", "softmax", "pv", "t_out", "r_out"]
    r, ra = only(fused, "Reshape")
    assert [s.split(":")[1] for s in fused_from(ra)] == ["r_sbe", "out_t"] and r.output[0] == "y"


def test_attention_views_keep_the_input_transpose_of_a_projection_read_elsewhere(tmp_path):
    # The packed projection is also a graph output: its layout stays, so its input Transpose stays.
    B, S, E, H = 2, 3, 8, 2
    fused, ops = fuse_mha_read_elsewhere(tmp_path, 24, "in_bias_out", B, S, E, H)
    assert ops == {"Transpose": 1, "ingot.FusedMatMul": 1, "ingot.Attention": 1, "Gemm": 1, "Reshape": 1}, ops
    n, a = only(fused, "ingot.Attention")
    assert list(n.input) == ["in_bias_out"] * 3 and a["q_view"] == [B, H, S, E // H, 0, 3 * E, E // H, B * 3 * E]


def fuse_mha_read_elsewhere(tmp_path, seed, extra_output, B, S, E, H):
    """The torch 2.x attention block fused, with one of its intermediate values also a graph output."""
    m = Model(seed)
    y, _ = mha_torch2(m, B, S, E, H)
    m.output(m.node("Identity", [y], "y"))
    m.output(extra_output)
    return fuse(m, tmp_path, tol=CLOSE)


def test_attention_views_stop_at_a_shared_value(tmp_path):
    # The (3, S, B, E) stack is also a graph output: the Gathers fold, the nodes before them stay (the
    # in-projection's input Transpose too; the one after the out-projection goes).
    B, S, E, H = 2, 3, 8, 2
    fused, ops = fuse_mha_read_elsewhere(tmp_path, 19, "sq_out", B, S, E, H)
    assert "Gather" not in ops and ops["Squeeze"] == 1 and ops["Transpose"] == 2, ops
    n, a = only(fused, "ingot.Attention")
    assert list(n.input) == ["sq_out"] * 3
    assert [a[v][4] for v in ("q_view", "k_view", "v_view")] == [0, S * B * E, 2 * S * B * E]


def test_attention_views_one_operand_read_elsewhere(tmp_path):
    # k (B, H, S, hd) has a second reader: K stays as it is, so its Gather stays, so the shared Squeeze
    # stays: Q and V fold only up to their Gathers.
    B, S, E, H = 2, 4, 8, 2
    fused, ops = fuse_mha_read_elsewhere(tmp_path, 20, "r2k_out", B, S, E, H)
    assert ops["Gather"] == 1 and ops["Squeeze"] == 1, ops
    n, a = only(fused, "ingot.Attention")
    assert list(n.input) == ["sq_out", "r2k_out", "sq_out"]
    assert "k_view" not in a and a["q_view"][4] == 0 and a["v_view"][4] == 2 * S * B * E


def test_attention_views_reshape_needing_a_copy_stays(tmp_path):
    # (B, S, H * hd) -> (B, S, H, hd) -> Transpose -> (B * H, S, hd): merging B and H of the transposed
    # tensor is no strided view; only the last Reshape folds (over the Transpose's contiguous output).
    B, S, H, hd = 2, 3, 2, 4
    m = Model(21)
    def heads(name, s):
        x = m.node("Reshape", [m.input(name, [B, s, H * hd]), m.const("s4" + name, np.array([B, s, H, hd], np.int64))],
                   name="r4" + name)
        x = m.node("Transpose", [x], name="t" + name, perm=[0, 2, 1, 3])
        return m.node("Reshape", [x, m.const("s3" + name, np.array([B * H, s, hd], np.int64))], name="r3" + name)
    q, k, v = heads("q", S), heads("k", 5), heads("v", 5)
    kt = m.node("Transpose", [k], name="kt", perm=[0, 2, 1])
    p = m.node("Softmax", [m.node("MatMul", [q, kt], name="qk")], name="softmax", axis=-1)
    m.output(m.node("MatMul", [p, v], "y", name="pv"))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"Reshape": 3, "Transpose": 3, "ingot.Attention": 1}, ops
    n, a = only(fused, "ingot.Attention")
    assert list(n.input) == ["tq_out", "tk_out", "tv_out"]
    assert a["q_view"] == [B * H, S, hd, 0, S * hd, hd] and a["k_view"] == [B * H, 5, hd, 0, 5 * hd, hd]
    assert "y_view" not in a


def bert_attention(m, B, S, E, H, k_given=False):
    """BERT-style self-attention (tests/models/export_models.py's): separate Q, K, V projections, heads split
    by Reshape + Transpose, K^T as Transpose [0, 2, 3, 1] (or a graph input when k_given), an additive mask,
    the heads merged by Transpose + Reshape."""
    hd = E // H
    x = m.input("x", [B, S, E])
    heads = {}
    for name in "qkv":
        if name == "k" and k_given:
            heads[name] = m.input("kt_in", [B, H, hd, S])
            continue
        p = m.node("Add", [m.node("MatMul", [x, m.rand("w" + name, [E, E], 0.3)], name=name), m.rand("b" + name, [E])],
                   name=name + "_bias")
        p = m.node("Reshape", [p, m.const("s" + name, np.array([B, S, H, hd], np.int64))], name="r" + name)
        heads[name] = m.node("Transpose", [p], name="t" + name, perm=[0, 2, 3, 1] if name == "k" else [0, 2, 1, 3])
    s = m.node("Div", [m.node("MatMul", [heads["q"], heads["k"]], name="qk"), m.scalar("sqrt_d", math.sqrt(hd))],
               name="scale")
    mk = m.input("mask", [B, 1, 1, S])
    m.feeds["mask"] = np.where(m.rng.random(m.feeds["mask"].shape) < 0.3, -10000.0, 0.0).astype(np.float32)
    p = m.node("Softmax", [m.node("Add", [s, mk], name="mask_add")], name="softmax", axis=-1)
    o = m.node("Transpose", [m.node("MatMul", [p, heads["v"]], name="pv")], name="t_out", perm=[0, 2, 1, 3])
    return m.node("Reshape", [o, m.const("s_out", np.array([B, S, E], np.int64))], "y", name="r_out")


def test_attention_views_through_qkv_split_and_k_transposed(tmp_path):
    # After fuse_horizontal merges the projections into one plus a Split, Q, K (given as K^T) and V are read
    # in place from the merged projection's (B, S, 3E) output.
    B, S, E, H = 2, 6, 16, 4
    hd = E // H
    m = Model(22)
    m.output(bert_attention(m, B, S, E, H))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops == {"ingot.FusedMatMul": 1, "ingot.Attention": 1}, ops
    n, a = only(fused, "ingot.Attention")
    mm, _ = only(fused, "ingot.FusedMatMul")
    assert list(n.input) == [mm.output[0]] * 3 + ["mask"] and a["k_transposed"] == 0
    for i, name in enumerate(["q_view", "k_view", "v_view"]):
        assert a[name] == [B, H, S, hd, i * E, S * 3 * E, hd, 3 * E], name
    assert a["y_view"] == [B, H, S, hd, 0, S * E, hd, E] and a["y_shape"] == [B, S, E]


def test_attention_views_need_a_view_of_k_given_transposed(tmp_path):
    # K^T is a graph input: no view of K with D at stride 1 reads it, so the layer keeps every operand.
    m = Model(23)
    m.output(bert_attention(m, 2, 5, 8, 2, k_given=True))
    fused, ops = fuse(m, tmp_path, tol=CLOSE)
    assert ops["Transpose"] == 3 and ops["Reshape"] == 3, ops
    n, a = only(fused, "ingot.Attention")
    assert a["k_transposed"] == 1 and not {"q_view", "k_view", "v_view", "y_view"} & set(a), sorted(a)
    assert n.input[1] == "kt_in"


def test_softmax_over_another_axis_is_not_attention(tmp_path):
    m = Model(14)
    q, kt, v = m.input("q", [2, 5, 8]), m.input("kt", [2, 8, 5]), m.input("v", [2, 5, 7])
    p = m.node("Softmax", [m.node("MatMul", [q, kt], name="qk")], name="softmax", axis=1)
    m.output(m.node("MatMul", [p, v], "y", name="pv"))
    _, ops = fuse(m, tmp_path)
    assert "ingot.Attention" not in ops and ops["Softmax"] == 1


# ----------------------------------------------------------------------------------------------
# Horizontal merging


def test_qkv_projections_merge(tmp_path):
    m = Model(15)
    x = m.input("x", [2, 5, 16])
    for name in "qkv":
        y = m.node("MatMul", [x, m.rand("w" + name, [16, 8 if name != "v" else 12])], name=name)
        m.output(m.node("Add", [y, m.rand("b" + name, [8 if name != "v" else 12])], name, name=name + "_bias"))
    fused, ops = fuse(m, tmp_path)
    assert ops == {"ingot.FusedMatMul": 1, "Split": 1}, ops
    n, a = only(fused, "ingot.FusedMatMul")
    assert fused_from(a) == ["MatMul:q", "Add:q_bias", "MatMul:k", "Add:k_bias", "MatMul:v", "Add:v_bias"]
    w = {i.name: numpy_helper.to_array(i) for i in fused.graph.initializer}[n.input[1]]
    assert w.shape == (16, 28)


def test_sibling_1x1_convs_merge(tmp_path):
    m = Model(16)
    x = m.input("x", [1, 8, 5, 5])
    for i, c in enumerate([4, 6]):
        y = m.node("Conv", [x, m.rand("w%d" % i, [c, 8, 1, 1]), m.rand("b%d" % i, [c])], name="conv%d" % i)
        m.output(m.node("Relu", [y], "y%d" % i, name="relu%d" % i))
    fused, ops = fuse(m, tmp_path)
    assert ops == {"ingot.FusedConv": 1, "Split": 1}, ops
    assert only(fused, "ingot.FusedConv")[1]["activation"] == b"Relu"


def test_siblings_with_different_epilogues_stay_apart(tmp_path):
    m = Model(17)
    x = m.input("x", [1, 8, 5, 5])
    m.output(m.node("Relu", [m.node("Conv", [x, m.rand("w0", [4, 8, 1, 1])], name="c0")], "y0"))
    m.output(m.node("Sigmoid", [m.node("Conv", [x, m.rand("w1", [4, 8, 1, 1])], name="c1")], "y1"))
    m.output(m.node("Relu", [m.node("Conv", [x, m.rand("w2", [4, 8, 3, 3])], name="c2", pads=[1, 1, 1, 1])], "y2"))
    _, ops = fuse(m, tmp_path)
    assert ops == {"ingot.FusedConv": 3}, ops


# ----------------------------------------------------------------------------------------------
# Where fusion must not happen


def test_conv_output_read_twice_is_not_fused(tmp_path):
    m = Model(18)
    y = m.node("Conv", [m.input("x", [1, 3, 6, 6]), m.rand("w", [4, 3, 3, 3])], name="conv")
    m.output(m.node("Relu", [y], "a", name="relu"))
    m.output(m.node("Sigmoid", [y], "b", name="sig"))
    _, ops = fuse(m, tmp_path)
    assert ops == {"Conv": 1, "Relu": 1, "Sigmoid": 1}, ops


def test_conv_output_that_is_a_graph_output_keeps_its_bn(tmp_path):
    m = Model(19)
    y = m.node("Conv", [m.input("x", [1, 3, 6, 6]), m.rand("w", [4, 3, 3, 3])], "conv_y", name="conv")
    m.output("conv_y")
    m.output(m.node("Identity", [m.bn(y, 4)], "y"))
    _, ops = fuse(m, tmp_path)
    assert ops["BatchNormalization"] == 1 and ops["Conv"] == 1


def test_gelu_with_erf_read_elsewhere_is_not_fused(tmp_path):
    m = Model(20)
    x = m.input("x", [3, 8])
    m.output(m.node("Identity", [gelu_erf(m, x)], "y"))
    m.output(m.node("Identity", ["erf_out"], "e", name="peek"))
    _, ops = fuse(m, tmp_path)
    assert "Gelu" not in ops and ops["Erf"] == 1


def test_broadcast_add_is_not_a_residual(tmp_path):
    """Z must have the output's shape: a [1, C, 1, 1] input broadcasts, so the Add stays."""
    m = Model(21)
    y = m.node("Conv", [m.input("x", [1, 3, 6, 6]), m.rand("w", [4, 3, 3, 3])], name="conv")
    m.output(m.node("Add", [y, m.input("z", [1, 4, 1, 1])], "y", name="add"))
    _, ops = fuse(m, tmp_path)
    assert ops == {"Conv": 1, "Add": 1}, ops


def test_nonconstant_weight_matmul_is_not_fused(tmp_path):
    m = Model(22)
    y = m.node("MatMul", [m.input("a", [3, 4]), m.input("b", [4, 5])], name="mm")
    m.output(m.node("Relu", [y], "y"))
    _, ops = fuse(m, tmp_path)
    assert ops == {"MatMul": 1, "Relu": 1}, ops


def test_fused_model_output_name_survives(tmp_path):
    """The pattern's last value is a graph output: the fused layer writes it under the same name."""
    m = Model(23)
    y = m.node("Conv", [m.input("x", [1, 3, 6, 6]), m.rand("w", [4, 3, 3, 3])], name="conv")
    m.output(m.node("Relu", [y], "final", name="relu"))
    fused, _ = fuse(m, tmp_path)
    assert [o.name for o in fused.graph.output] == ["final"]
    assert list(only(fused, "ingot.FusedConv")[0].output) == ["final"]


def test_disable_fusion_pass(tmp_path):
    m = Model(24)
    y = m.node("Conv", [m.input("x", [1, 3, 6, 6]), m.rand("w", [4, 3, 3, 3])], name="conv")
    m.output(m.node("Relu", [y], "y", name="relu"))
    src = m.save(tmp_path / "in.onnx")
    proc = subprocess.run([INGOT, "simplify", "--fuse", str(src), str(tmp_path / "o.onnx"), "--disable-pass",
                           "fuse_epilogue"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert sorted(n.op_type for n in onnx.load(tmp_path / "o.onnx").graph.node) == ["Conv", "Relu"]
    proc = subprocess.run([INGOT, "simplify", "--fuse", str(src), str(tmp_path / "p.onnx"), "--disable-pass",
                           "fuse_nothing"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "fuse_nothing" in proc.stderr
    assert not (tmp_path / "p.onnx").exists()
