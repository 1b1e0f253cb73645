#!/usr/bin/env python3
"""Export test models to ONNX with torch.onnx.export.

Usage:
    python tests/models/export_models.py --out DIR [--opset 13|17] [names...]

With no names, every model in MODELS is exported (slow on small machines: the
big torchvision models take minutes each). All weights are random (fixed seed,
``weights=None``); nothing is downloaded. Everything runs on the CPU.

Each model is written to ``DIR/<name>.onnx`` with batch size 1 and a dynamic
batch axis (bert_tiny also has a dynamic sequence axis).

Notes (torch 1.13 / torchvision 0.14):
  * googlenet and inception_v3 are built with ``aux_logits=False`` and
    ``init_weights=True`` (the defaults for ``weights=None`` would warn / add
    auxiliary heads that only exist in training mode).
  * BatchNorm running statistics are calibrated on one fixed random batch
    (otherwise BN is the identity and e.g. mobilenet_v2's logits are ~1e-9);
    all-zero weight matrices (vit_b_16's head) are re-randomised.
  * The export does not run under torch.no_grad(): that would make
    nn.MultiheadAttention (vit_b_16) take its unexportable fast path.
"""

import argparse
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 0
DEFAULT_OPSET = 17

# name -> (constructor kwargs, input spatial size)
TORCHVISION_MODELS = {
    "resnet18": ({}, 224),
    "resnet50": ({}, 224),
    "mobilenet_v2": ({}, 224),
    "mobilenet_v3_small": ({}, 224),
    "efficientnet_b0": ({}, 224),
    "squeezenet1_0": ({}, 224),
    "shufflenet_v2_x1_0": ({}, 224),
    "densenet121": ({}, 224),
    "googlenet": ({"aux_logits": False, "init_weights": True}, 224),
    "regnet_y_400mf": ({}, 224),
    "convnext_tiny": ({}, 224),
    "vit_b_16": ({}, 224),
    "inception_v3": ({"aux_logits": False, "init_weights": True}, 299),
}

BERT_TINY = dict(vocab=1000, hidden=64, heads=4, ffn=128, layers=2, max_pos=64, seq=16)

MODELS = list(TORCHVISION_MODELS) + ["bert_tiny"]


# --------------------------------------------------------------------------
# bert_tiny: a small BERT-style encoder in plain torch
# --------------------------------------------------------------------------
class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        assert hidden % heads == 0
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def split_heads(self, x):
        # [b, s, h] -> [b, heads, s, head_dim]
        b, s = x.size(0), x.size(1)
        x = x.view(b, s, self.heads, self.head_dim)
        return x.transpose(1, 2)

    def forward(self, x, additive_mask):
        b, s = x.size(0), x.size(1)
        q = self.split_heads(self.query(x))
        k = self.split_heads(self.key(x))
        v = self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + additive_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v)  # [b, heads, s, head_dim]
        ctx = ctx.transpose(1, 2).contiguous().view(b, s, self.heads * self.head_dim)
        return self.out(ctx)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, ffn):
        super().__init__()
        self.attn = SelfAttention(hidden, heads)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.fc1 = nn.Linear(hidden, ffn)
        self.fc2 = nn.Linear(ffn, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, additive_mask):
        x = self.ln1(x + self.attn(x, additive_mask))
        h = self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU
        return self.ln2(x + h)


class BertTiny(nn.Module):
    def __init__(self, vocab=1000, hidden=64, heads=4, ffn=128, layers=2, max_pos=64, **_):
        super().__init__()
        self.tok = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(max_pos, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList([EncoderLayer(hidden, heads, ffn) for _ in range(layers)])
        # Non-trivial LayerNorm affine parameters (the defaults 1/0 would not
        # catch a runtime that ignores scale/bias).
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.LayerNorm):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.size(1)
        pos_ids = torch.arange(seq, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(pos_ids)
        x = self.ln(x)
        # [b, s] int64 -> [b, 1, 1, s] float additive mask
        ext = attention_mask.unsqueeze(1).unsqueeze(2).to(x.dtype)
        additive = (1.0 - ext) * -10000.0
        for layer in self.layers:
            x = layer(x, additive)
        return x


# --------------------------------------------------------------------------
# export helpers
# --------------------------------------------------------------------------
def reinit_zero_weights(model, std=0.02):
    """Re-randomise weight matrices that were initialised to all zeros.

    vit_b_16 zero-initialises its classifier head, which makes every output
    exactly 0 and a comparison test meaningless.
    """
    g = torch.Generator().manual_seed(SEED + 2)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.dim() >= 2 and not p.any():
                p.copy_(torch.randn(p.shape, generator=g) * std)


def calibrate_batchnorm(model, size, batch=4):
    """Give BatchNorm layers realistic running statistics.

    Freshly initialised torchvision models have running_mean=0/running_var=1,
    so in eval mode BN is the identity and activations decay through deep
    nets (mobilenet_v2's logits come out around 1e-9). One forward pass with
    cumulative-average BN on a fixed random batch fixes that, deterministically.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average
        m.train()
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        model(torch.randn(batch, 3, size, size, generator=g))
    model.eval()


def build_model(name):
    """Return (model, example_inputs tuple, input_names, output_names, dynamic_axes)."""
    torch.manual_seed(SEED)
    if name == "bert_tiny":
        cfg = BERT_TINY
        model = BertTiny(**cfg)
        g = torch.Generator().manual_seed(SEED)
        ids = torch.randint(0, cfg["vocab"], (1, cfg["seq"]), dtype=torch.long, generator=g)
        mask = torch.ones(1, cfg["seq"], dtype=torch.long)
        mask[:, -3:] = 0
        inputs = (ids, mask)
        input_names = ["input_ids", "attention_mask"]
        output_names = ["last_hidden_state"]
        dyn = {
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 1: "seq"},
            "last_hidden_state": {0: "batch", 1: "seq"},
        }
    elif name in TORCHVISION_MODELS:
        import torchvision.models as tvm

        kwargs, size = TORCHVISION_MODELS[name]
        model = getattr(tvm, name)(weights=None, **kwargs)
        reinit_zero_weights(model)
        calibrate_batchnorm(model, size)
        g = torch.Generator().manual_seed(SEED)
        inputs = (torch.randn(1, 3, size, size, generator=g),)
        input_names = ["input"]
        output_names = ["output"]
        dyn = {"input": {0: "batch"}, "output": {0: "batch"}}
    else:
        raise KeyError("unknown model %r (known: %s)" % (name, ", ".join(MODELS)))
    model.eval()
    return model, inputs, input_names, output_names, dyn


def input_shape(name):
    """Default (batch 1) input shapes of a model, as {input name: shape}."""
    if name == "bert_tiny":
        s = BERT_TINY["seq"]
        return {"input_ids": (1, s), "attention_mask": (1, s)}
    size = TORCHVISION_MODELS[name][1]
    return {"input": (1, 3, size, size)}


def export_model(name, out_dir, opset=DEFAULT_OPSET, verbose=False):
    """Export model `name` to out_dir/<name>.onnx; return the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name + ".onnx")
    model, inputs, input_names, output_names, dyn = build_model(name)
    # Not under torch.no_grad(): in eval mode with grad disabled,
    # nn.MultiheadAttention (vit_b_16) takes its "fast path"
    # (aten::_native_multi_head_attention), which torch 1.13 cannot export.
    torch.onnx.export(
        model,
        inputs,
        path,
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=dyn,
        verbose=verbose,
    )
    return path


def op_types(path):
    """Sorted list of op types used in the model (including subgraphs)."""
    import onnx

    m = onnx.load(path)
    ops = set()

    def walk(g):
        for n in g.node:
            ops.add(n.op_type if n.domain in ("", "ai.onnx") else n.domain + "." + n.op_type)
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                elif a.type == onnx.AttributeProto.GRAPHS:
                    for sg in a.graphs:
                        walk(sg)

    walk(m.graph)
    return sorted(ops)


def check_model(name, path):
    """onnx.checker + onnxruntime run, compared with torch. Returns max rel error."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(onnx.load(path))
    model, inputs, input_names, output_names, _ = build_model(name)
    with torch.no_grad():
        ref = model(*inputs).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {n: t.numpy() for n, t in zip(input_names, inputs)}
    got = sess.run(None, feeds)[0]
    assert got.shape == ref.shape, (got.shape, ref.shape)
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-6))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, choices=[13, 17])
    p.add_argument("--check", action="store_true",
                   help="also run onnx.checker and compare onnxruntime with torch")
    p.add_argument("--ops", action="store_true", help="print the sorted op types of each model")
    p.add_argument("--keep-going", action="store_true", help="continue after a failed export")
    p.add_argument("names", nargs="*", help="models to export (default: all): " + ", ".join(MODELS))
    args = p.parse_args(argv)

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    names = args.names or MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        p.error("unknown model(s): %s (known: %s)" % (", ".join(unknown), ", ".join(MODELS)))

    failed = []
    for name in names:
        t0 = time.time()
        try:
            path = export_model(name, args.out, args.opset)
        except Exception as e:  # noqa: BLE001
            print("FAIL %s (opset %d): %s: %s" % (name, args.opset, type(e).__name__, e), flush=True)
            failed.append(name)
            if not args.keep_going:
                return 1
            continue
        msg = "ok   %s (opset %d) -> %s [%.1fs]" % (name, args.opset, path, time.time() - t0)
        if args.check:
            msg += " rel_err_vs_torch=%.2e" % check_model(name, path)
        print(msg, flush=True)
        if args.ops:
            print("     ops: " + " ".join(op_types(path)), flush=True)
    if failed:
        print("failed: " + " ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
