#!/usr/bin/env python3
"""PyTorch -> ingot in one call, then the engine against PyTorch.

    .venv/bin/python examples/pytorch_to_ingot.py [--model resnet18] [--batch 1] [--out model.ingot]

Takes a torchvision model (random weights, fixed seed: nothing is downloaded), builds an ingot engine
with ingot.from_torch (torch.onnx.export, ingot's simplify, fusion, tactic tuning, memory planning),
saves it, loads it back, runs it on torch tensors (passed without copies) and prints how far its
output is from PyTorch's and how long a run takes.
"""

import argparse
import time

import numpy as np
import torch
import torchvision

import ingot


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet18", help="a torchvision.models constructor name")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--out", default="model.ingot", help="engine file to write")
    ap.add_argument("--opt-level", type=int, default=1, help="0: no tactic timing (quick build)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs")
    args = ap.parse_args()

    torch.manual_seed(0)
    model = getattr(torchvision.models, args.model)(weights=None).eval()
    x = torch.randn(args.batch, 3, 224, 224)

    t0 = time.perf_counter()
    engine = ingot.from_torch(model, x, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                              opt_shapes={"input": x.shape}, min_shapes={"input": (1, 3, 224, 224)},
                              max_shapes={"input": (max(args.batch, 8), 3, 224, 224)}, opt_level=args.opt_level)
    print("built %s in %.2f s: %d layers, arena %.1f MiB" % (args.model, time.perf_counter() - t0,
                                                            len(engine.layers), engine.memory.arena_bytes / 2**20))
    engine.save(args.out)
    engine = ingot.load(args.out)

    ctx = engine.create_context()
    out = ctx.run({"input": x})["output"]  # a numpy array; torch.from_dlpack(out) shares its memory
    with torch.no_grad():
        ref = model(x).numpy()
    err = np.max(np.abs(out - ref)) / max(np.max(np.abs(ref)), 1e-6)
    print("max |ingot - torch| / max |torch| = %.3g" % err)
    t0 = time.perf_counter()
    for _ in range(args.runs):
        ctx.run({"input": x})
    print("%s: %.2f ms per run (batch %d), engine in %s" % (
        args.model, (time.perf_counter() - t0) / max(args.runs, 1) * 1e3, args.batch, args.out))


if __name__ == "__main__":
    main()
