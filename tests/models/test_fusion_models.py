"""Layer fusion on real exports: after `ingot simplify --fuse`, the patterns of each model are fused
(resnet50: every Conv with its BatchNorm, ReLU and residual Add; mobilenet_v2: no Clip left;
efficientnet_b0: SiLU fused; the BERT-style encoder: LayerNorm, GELU, attention, QKV) and `ingot run`
on the fused model agrees with onnxruntime on the original within 1e-4 relative.

Models are exported once per session (torchvision 0.14 / torch 1.13, random init with a fixed seed,
eval mode, batch 1) into a pytest tmp dir, as tests/models/test_models.py does. The CNNs are exported
with TrainingMode.PRESERVE (still eval mode): TrainingMode.EVAL makes torch fold BatchNorm into the
convs itself, which would leave ingot's folding nothing to do.
"""
import collections
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import export_models  # noqa: E402

INGOT = str(HERE.parents[1] / "build" / "bin" / "ingot")
RTOL = 1e-4


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("fusion_models")
    cache = {}

    def get(name, opset):
        if (name, opset) in cache:
            return cache[(name, opset)]
        if name == "bert_tiny":
            path = Path(export_models.export_model(name, str(root / ("opset%d" % opset)), opset))
        else:
            import torch

            model, inputs, input_names, output_names, dyn = export_models.build_model(name)
            path = root / ("%s_opset%d.onnx" % (name, opset))
            # PRESERVE keeps the eval-mode model as it is: EVAL would make torch fold BN into the convs.
            torch.onnx.export(model, inputs, str(path), opset_version=opset, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                              input_names=input_names, output_names=output_names, dynamic_axes=dyn)
        cache[(name, opset)] = path
        return path

    return get


def feeds_for(name):
    rng = np.random.default_rng(0)
    if name == "bert_tiny":
        seq = export_models.BERT_TINY["seq"]
        mask = np.ones((1, seq), np.int64)
        mask[:, -3:] = 0
        return {"input_ids": rng.integers(0, export_models.BERT_TINY["vocab"], (1, seq)).astype(np.int64),
                "attention_mask": mask}
    return {"input": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}


def ops_of(model):
    return collections.Counter((n.domain + "." if n.domain else "") + n.op_type for n in model.graph.node)


def fuse_and_compare(src, name, tmp_path):
    """Fuses `src` at batch 1, checks `ingot run` on it against onnxruntime on `src`; returns the fused model."""
    import onnxruntime as ort

    feeds = feeds_for(name)
    dst = tmp_path / "fused.onnx"
    shapes = []
    for k, v in feeds.items():
        shapes += ["--input-shape", "%s:%s" % (k, "x".join(map(str, v.shape)))]
    proc = subprocess.run([INGOT, "simplify", "--fuse", str(src), str(dst), *shapes], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    print("%s: %s" % (name, proc.stdout.splitlines()[0]))  # "nodes: before -> after"
    sess = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    expected = sess.run(None, feeds)
    args = []
    for k, v in feeds.items():
        np.save(tmp_path / (k + ".npy"), v)
        args += ["--input", "%s=%s" % (k, tmp_path / (k + ".npy"))]
    proc = subprocess.run([INGOT, "run", str(dst), *args, "--output-dir", str(tmp_path / "out")], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for meta, exp in zip(sess.get_outputs(), expected):
        got = np.load(tmp_path / "out" / (meta.name + ".npy"))
        assert got.shape == exp.shape
        err = float(np.max(np.abs(got.astype(np.float64) - exp)) / max(np.max(np.abs(exp)), 1e-6))
        assert err <= RTOL, "%s: relative error %.3e > %.0e" % (meta.name, err, RTOL)
    return onnx.load(dst)


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def fused_from_of(node):
    return [a for a in node.attribute if a.name == "fused_from"][0].strings


def fused_layers(model, op):
    return [attrs(n) | {"inputs": list(n.input)} for n in model.graph.node if n.domain == "ingot" and n.op_type == op]


def test_resnet50(exported, tmp_path):
    src = exported("resnet50", 17)
    before = ops_of(onnx.load(src))
    n_conv = before["Conv"]
    assert before["BatchNormalization"] == n_conv  # BN is still there to fold
    fused = fuse_and_compare(src, "resnet50", tmp_path)
    ops = ops_of(fused)
    for op in ("BatchNormalization", "Relu", "Add", "Conv"):
        assert op not in ops, ops
    convs = fused_layers(fused, "FusedConv")
    assert len(convs) == n_conv == 53
    for c in convs:
        kinds = [s.decode().split(":")[0] for s in c["fused_from"]]
        assert kinds[:2] == ["Conv", "BatchNormalization"], kinds
    # Each of the 16 bottlenecks ends in Conv + BN + residual Add + ReLU.
    residual = [c for c in convs if len(c["inputs"]) == 4]
    assert len(residual) == 16
    for c in residual:
        assert [s.decode().split(":")[0] for s in c["fused_from"]] == ["Conv", "BatchNormalization", "Add", "Relu"]


def test_mobilenet_v2(exported, tmp_path):
    src = exported("mobilenet_v2", 17)
    fused = fuse_and_compare(src, "mobilenet_v2", tmp_path)
    ops = ops_of(fused)
    for op in ("Clip", "BatchNormalization", "Conv", "Add"):
        assert op not in ops, ops
    acts = collections.Counter(c["activation"] for c in fused_layers(fused, "FusedConv"))
    assert acts[b"Clip"] == 35, acts  # every ReLU6


def test_efficientnet_b0(exported, tmp_path):
    src = exported("efficientnet_b0", 17)
    before = ops_of(onnx.load(src))
    fused = fuse_and_compare(src, "efficientnet_b0", tmp_path)
    ops = ops_of(fused)
    for op in ("Sigmoid", "BatchNormalization", "Conv"):
        assert op not in ops, ops
    acts = collections.Counter(c["activation"] for c in fused_layers(fused, "FusedConv"))
    # SiLU after every conv but the projections and the squeeze-excitation gates (which are Sigmoid).
    assert acts[b"Silu"] > 0 and acts[b"Sigmoid"] == 16, acts
    # What stays: the squeeze-excitation scaling Mul of each of the 16 blocks.
    assert ops["Mul"] == 16 and before["Mul"] > ops["Mul"]


@pytest.mark.parametrize("opset", [13, 17])
def test_bert_tiny(exported, tmp_path, opset):
    src = exported("bert_tiny", opset)
    fused = fuse_and_compare(src, "bert_tiny", tmp_path)
    ops = ops_of(fused)
    layers = export_models.BERT_TINY["layers"]
    # opset 13 exports LayerNorm decomposed, opset 17 as LayerNormalization: one op either way.
    assert ops["LayerNormalization"] == 1 + 2 * layers, ops
    for op in ("ReduceMean", "Erf", "Softmax", "Sqrt", "Pow", "Gelu"):
        assert op not in ops, ops
    assert ops["ingot.Attention"] == layers
    dense = fused_layers(fused, "FusedMatMul")
    # Per layer: the merged QKV projection, the output projection (+ residual), FFN up (+ GELU), down (+ residual).
    assert len(dense) == 4 * layers, ops
    assert sum(d["activation"] == b"Gelu" for d in dense) == layers
    assert sum(len(d["inputs"]) == 4 for d in dense) == 2 * layers
    qkv = [d for d in dense if len(d["fused_from"]) == 6]
    assert len(qkv) == layers
    assert "MatMul" not in ops, ops
    # Each Attention reads Q, K and V in place from the merged projection's output (fold_attention_views:
    # the Split, the head split Reshape / Transpose and the head merge after it are gone).
    for op in ("Split", "Transpose", "Reshape"):
        assert op not in ops, ops
    outputs = {o for n in fused.graph.node if n.op_type == "FusedMatMul" and len(fused_from_of(n)) == 6 for o in n.output}
    for a in fused_layers(fused, "Attention"):
        assert len(set(a["inputs"][:3])) == 1 and a["inputs"][0] in outputs, a["inputs"]
        assert a["k_transposed"] == 0 and {"q_view", "k_view", "v_view", "y_view"} <= set(a), sorted(a)


VIT_TINY = HERE / "data" / "vit_tiny_torch211.onnx"


@pytest.mark.parametrize("threads", [1, 2])
def test_vit_tiny_torch211(tmp_path, threads):
    """torch 2.11's nn.MultiheadAttention (tests/models/data/README.md): `ingot build` leaves each attention
    block as the packed QKV projection, one Attention layer reading it through views and writing the
    out projection's input, and the out projection with the residual Add; no Transpose, Gather or Mul in between (nor the
    Transposes before the in-projection and after the out-projection), none of the scale's Mul anywhere;
    outputs agree with onnxruntime."""
    import onnxruntime as ort

    engine = tmp_path / "vit.ingot"
    proc = subprocess.run([INGOT, "build", str(VIT_TINY), "-o", str(engine), "--threads", str(threads)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([INGOT, "inspect", str(engine), "--json", "-"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    layers = json.loads(proc.stdout)["layers"]
    ops = collections.Counter(l["op"] for l in layers)
    assert ops["ingot.Attention"] == 2 and "Mul" not in ops and ops["Gather"] == 1, ops  # the class token's Gather
    assert ops["Transpose"] == 1, ops  # the patch embedding's; none left around the attention blocks
    for i in range(2):
        block = "/encoder/layers/encoder_layer_%d/self_attention/" % i
        names = [l["name"] for l in layers]
        qkv = names.index(block + "MatMul")
        out_proj = names.index(block + "Gemm")
        inside = [l["op"] for l in layers[qkv:out_proj + 1]]
        # The out projection takes the residual Add (its Z the block's input, regrouped by a Reshape view).
        assert inside == ["ingot.FusedMatMul", "ingot.Attention", "Reshape", "ingot.FusedMatMul"], inside
        assert [f.split(":")[0] for f in layers[out_proj]["fused"]] == ["Gemm", "Add"], layers[out_proj]["fused"]
        assert len(layers[out_proj]["inputs"]) == 4, layers[out_proj]["inputs"]
        att = layers[qkv + 1]
        packed = layers[qkv]["outputs"][0]
        assert att["inputs"] == [packed] * 3, att["inputs"]
        assert att["outputs"][0].split(":")[0] == layers[out_proj]["inputs"][0].split(":")[0]
        kinds = collections.Counter(f.split(":")[0] for f in att["fused"])
        # The head split / merge, the scales, and the in-projection's input Transpose (the projection reads its
        # input as it is, the views its output through the permutation).
        assert kinds["Gather"] == 3 and kinds["Mul"] == 2 and kinds["Transpose"] == 7, kinds
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = subprocess.run([INGOT, "run", str(engine), "--input", "input=%s" % (tmp_path / "x.npy"), "--threads",
                           str(threads), "--output-dir", str(tmp_path / "out")], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    want = ort.InferenceSession(str(VIT_TINY), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    got = np.load(tmp_path / "out" / "output.npy")
    assert got.shape == want.shape == (1, 10)
    assert np.abs(want).max() > 1e-3
    err = float(np.max(np.abs(got.astype(np.float64) - want)) / np.max(np.abs(want)))
    assert err <= RTOL, "relative error %.3e > %.0e" % (err, RTOL)
