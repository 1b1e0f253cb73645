#!/usr/bin/env python3
"""A stand-in for `ingot run` built on onnxruntime, for testing the harness.

    INGOT_BIN=tests/models/fake_ingot.py python -m pytest tests/models

Implements the `ingot run` CLI contract:
    fake_ingot.py run MODEL.onnx [--input NAME=FILE.npy ...] [--output-dir DIR]
                      [--shapes NAME:1x3x224x224 ...] [--seed N]
Outputs go to DIR/<name>.npy (characters outside [A-Za-z0-9._-] become '_').
When inputs are generated, the seed is printed. Random float inputs are
standard normal; random integer inputs are drawn from [0, 100); bool inputs
are random 0/1. Dynamic dimensions without a --shapes override become 1.
"""

import argparse
import os
import re
import sys
import time

import numpy as np
import onnxruntime as ort

ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def parse_shape(text):
    return tuple(int(d) for d in text.lower().split("x")) if text else ()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "run":
        print("usage: fake_ingot.py run MODEL.onnx [options]", file=sys.stderr)
        return 2
    p = argparse.ArgumentParser(prog="fake_ingot.py run")
    p.add_argument("model")
    p.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy")
    p.add_argument("--output-dir", default=".")
    p.add_argument("--shapes", action="append", default=[], metavar="NAME:DxDxD")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args(argv[1:])

    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    given = {}
    for item in args.input:
        name, _, path = item.partition("=")
        given[name] = np.load(path)
    shapes = {}
    for item in args.shapes:
        name, _, dims = item.rpartition(":")
        shapes[name] = parse_shape(dims)

    feeds = {}
    rng = None
    for inp in sess.get_inputs():
        if inp.name in given:
            feeds[inp.name] = given[inp.name]
            continue
        if rng is None:
            seed = args.seed if args.seed is not None else int(time.time()) & 0x7FFFFFFF
            print("seed: %d" % seed)
            rng = np.random.default_rng(seed)
        shape = shapes.get(inp.name)
        if shape is None:
            shape = tuple(d if isinstance(d, int) and d > 0 else 1 for d in inp.shape)
        dtype = ORT_TYPES[inp.type]
        if dtype == np.bool_:
            feeds[inp.name] = rng.integers(0, 2, shape).astype(np.bool_)
        elif np.issubdtype(dtype, np.integer):
            feeds[inp.name] = rng.integers(0, 100, shape).astype(dtype)
        else:
            feeds[inp.name] = rng.standard_normal(shape).astype(dtype)

    outs = sess.run(None, feeds)
    os.makedirs(args.output_dir, exist_ok=True)
    for meta, val in zip(sess.get_outputs(), outs):
        path = os.path.join(args.output_dir, sanitize(meta.name) + ".npy")
        np.save(path, val)
        print("%s: %s %s -> %s" % (meta.name, val.dtype, "x".join(map(str, val.shape)), path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
