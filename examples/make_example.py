#!/usr/bin/env python3
"""Generate examples/tiny_cnn.onnx and examples/tiny_cnn.input.npy.

    python examples/make_example.py [--out-dir DIR]

A small CNN with random weights (fixed seed, nothing downloaded):

    input [N,3,32,32]
    -> Conv3x3(3->48)-BN-ReLU            (x)
    -> Conv3x3(48->48)-BN-ReLU           (y)
    -> x + y                             (residual add)
    -> MaxPool 2x2 -> GlobalAveragePool -> Flatten -> Linear(48->10)
    -> logits [N,10]

~22.7k parameters. Exported at opset 17 with constant folding (so the BNs are
folded into the convolutions), dynamic batch. The output is byte-reproducible:
re-running the script gives identical files.

Try it:  build/bin/ingot run examples/tiny_cnn.onnx --input input=examples/tiny_cnn.input.npy
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

SEED = 0
OPSET = 17
CHANNELS = 48
CLASSES = 10


class TinyCNN(nn.Module):
    def __init__(self, c=CHANNELS, classes=CLASSES):
        super().__init__()
        self.conv1 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(x)))
        z = self.pool(x + y)
        z = torch.flatten(self.gap(z), 1)
        return self.fc(z)


def build():
    torch.manual_seed(SEED)
    model = TinyCNN()
    # Non-trivial BatchNorm parameters/statistics so that folding them matters.
    with torch.no_grad():
        for bn in (model.bn1, model.bn2):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
    model.eval()
    return model


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out-dir", default=here)
    args = p.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    model = build()
    nparams = sum(t.numel() for t in model.parameters())
    x = torch.from_numpy(np.random.default_rng(SEED).standard_normal((1, 3, 32, 32)).astype(np.float32))

    onnx_path = os.path.join(args.out_dir, "tiny_cnn.onnx")
    npy_path = os.path.join(args.out_dir, "tiny_cnn.input.npy")
    torch.onnx.export(
        model,
        (x,),
        onnx_path,
        export_params=True,
        opset_version=OPSET,
        do_constant_folding=True,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )
    np.save(npy_path, x.numpy())

    with torch.no_grad():
        ref = model(x).numpy()
    msg = "wrote %s (%d params) and %s" % (onnx_path, nparams, npy_path)
    try:
        import onnxruntime as ort

        got = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"]).run(
            None, {"input": x.numpy()})[0]
        msg += "; onnxruntime max|diff| vs torch = %.2e" % float(np.abs(got - ref).max())
    except ImportError:
        pass
    print(msg)
    print("logits:", np.array2string(ref[0], precision=4, max_line_width=200))
    return 0


if __name__ == "__main__":
    sys.exit(main())
