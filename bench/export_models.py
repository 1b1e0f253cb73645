#!/usr/bin/env python3
"""Export the benchmark models to ONNX, with their inputs and onnxruntime's outputs.

Usage:
    .venv/bin/python bench/export_models.py [--cache DIR] [--dynamic-batch] [--force] [--check-torch] [names...]

With no names: resnet50, mobilenet_v2, efficientnet_b0 and bert_base. Any model that
tests/models/export_models.py knows (resnet18, bert_tiny, ...) can be named too.

For each model NAME the cache (default bench/models/, git-ignored) gets:
    NAME.onnx            batch 1, every shape fixed (NAME.dyn.onnx with --dynamic-batch: batch axis "batch")
    NAME.inputs/*.npy    batch-1 inputs, one per graph input, fixed seed (shared by both exports)
    NAME[.dyn].ort/*.npy onnxruntime's outputs on those inputs (ORT_ENABLE_ALL), for agreement checks

Exports use torch's exporter (torch 1.13), opset 17, eval mode, fixed seeds and random weights
(nothing is downloaded); BatchNorm statistics are calibrated as tests/models/export_models.py does.

bert_base is BERT-base sized (hidden 768, 12 heads, 12 layers, intermediate 3072, vocabulary 30522,
512 positions, sequence 128) and built from the plain-torch modules of tests/models/export_models.py,
so it exports as a real BERT does: int64 input_ids and attention_mask [1, 128], Gather embeddings,
LayerNorm, erf GELU, an additive mask before Softmax. Its output is last_hidden_state [1, 128, 768].
"""

import argparse
import importlib.util
import inspect
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def _load_test_exports():
    # Same file name as this script, so loaded under another module name.
    path = common.REPO / "tests" / "models" / "export_models.py"
    spec = importlib.util.spec_from_file_location("tests_export_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tm = _load_test_exports()

OPSET = 17
BERT_BASE = dict(vocab=30522, hidden=768, heads=12, ffn=3072, layers=12, max_pos=512, seq=128)
BERT_CONFIGS = {"bert_tiny": tm.BERT_TINY, "bert_base": BERT_BASE}
KNOWN = list(dict.fromkeys(common.BENCH_MODELS + common.SIMPLIFY_EXTRA + tm.MODELS))


def build(name):
    """(model in eval mode, example inputs, input names, output names)."""
    if name == "bert_base":
        torch.manual_seed(tm.SEED)
        model = tm.BertTiny(**BERT_BASE).eval()
        cfg = BERT_BASE
        inputs = (torch.zeros(1, cfg["seq"], dtype=torch.long), torch.ones(1, cfg["seq"], dtype=torch.long))
        return model, inputs, ["input_ids", "attention_mask"], ["last_hidden_state"]
    model, inputs, input_names, output_names, _ = tm.build_model(name)
    return model, inputs, input_names, output_names


def make_inputs(name, example_inputs, input_names):
    """Seeded batch-1 inputs: standard normal images; BERT token ids over the whole vocabulary and an attention
    mask whose last eighth is padding (as in a real padded batch)."""
    rng = np.random.default_rng(1234)
    if name in BERT_CONFIGS:
        cfg = BERT_CONFIGS[name]
        ids = rng.integers(0, cfg["vocab"], (1, cfg["seq"]), dtype=np.int64)
        mask = np.ones((1, cfg["seq"]), np.int64)
        mask[:, cfg["seq"] - max(1, cfg["seq"] // 8):] = 0
        return {"input_ids": ids, "attention_mask": mask}
    return {n: rng.standard_normal(tuple(t.shape)).astype(np.float32) for n, t in zip(input_names, example_inputs)}


def export(name, cache=common.DEFAULT_CACHE, dynamic_batch=False, check_torch=False):
    """Export `name` into the cache with its inputs and onnxruntime's outputs; returns (path, error vs torch)."""
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    path = common.model_path(cache, name, dynamic_batch)
    model, example, input_names, output_names = build(name)
    dyn = {n: {0: "batch"} for n in input_names + output_names} if dynamic_batch else None
    tmp = path.with_suffix(".onnx.tmp")
    # Not under torch.no_grad(), for the reason given in tests/models/export_models.py.
    # torch 2.x: the TorchScript exporter, as torch 1.13 has it (2.9 and later default to dynamo).
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, example, str(tmp), export_params=True, opset_version=OPSET, do_constant_folding=True,
                      input_names=input_names, output_names=output_names, dynamic_axes=dyn, **legacy)
    onnx.checker.check_model(str(tmp))
    tmp.replace(path)

    feeds = make_inputs(name, example, input_names)
    common.save_arrays(common.inputs_dir(cache, name), feeds)
    sess = common.ort_session(path)
    outs = sess.run(None, feeds)
    common.save_arrays(common.reference_dir(cache, name, dynamic_batch),
                       {o.name: v for o, v in zip(sess.get_outputs(), outs)})
    err = None
    if check_torch:
        with torch.no_grad():
            ref = model(*[torch.from_numpy(feeds[n]) for n in input_names])
        err = common.max_relative_error(outs, [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref,))])
    return path, err


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="models (default: %s); known: %s" %
                   (" ".join(common.BENCH_MODELS), " ".join(KNOWN)))
    p.add_argument("--cache", default=str(common.DEFAULT_CACHE), help="output folder (default bench/models)")
    p.add_argument("--dynamic-batch", action="store_true", help="export NAME.dyn.onnx with a dynamic batch axis")
    p.add_argument("--force", action="store_true", help="export again even if the file is in the cache")
    p.add_argument("--check-torch", action="store_true", help="also compare onnxruntime's outputs with torch's")
    args = p.parse_args(argv)
    names = args.names or common.BENCH_MODELS
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        p.error("unknown model(s): %s (known: %s)" % (", ".join(unknown), ", ".join(KNOWN)))
    for name in names:
        path = common.model_path(args.cache, name, args.dynamic_batch)
        if path.exists() and not args.force and not args.check_torch:
            print("cached %s" % path, flush=True)
            continue
        t0 = time.time()
        path, err = export(name, args.cache, args.dynamic_batch, args.check_torch)
        msg = "ok     %s: %d nodes, %.1f MB [%.1fs]" % (path, len(onnx.load(str(path), load_external_data=False)
                                                                   .graph.node), path.stat().st_size / 1e6,
                                                   time.time() - t0)
        if err is not None:
            msg += " onnxruntime vs torch: max rel err %.2e" % err
        print(msg, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
