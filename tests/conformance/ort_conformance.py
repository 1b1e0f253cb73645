"""The same ONNX backend test cases through onnxruntime, with ingot's harness rules (rtol = atol = 1e-3 for
floats, exact otherwise, every test_data_set), so that ingot's and onnxruntime's counts compare directly.

    .venv/bin/python tests/conformance/ort_conformance.py [--results FILE]
"""
import argparse
import glob
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

CATEGORIES = ["node", "pytorch-converted", "pytorch-operator", "simple"]


def load_value(path, type_proto):
    which = type_proto.WhichOneof("value")
    data = open(path, "rb").read()
    if which == "sequence_type":
        sp = onnx.SequenceProto()
        sp.ParseFromString(data)
        return numpy_helper.to_list(sp)
    if which == "optional_type":
        op = onnx.OptionalProto()
        op.ParseFromString(data)
        return numpy_helper.to_optional(op)
    tp = onnx.TensorProto()
    tp.ParseFromString(data)
    return numpy_helper.to_array(tp)


def same(got, want):
    if want is None:
        return got is None
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False
    if want.dtype.kind == "f":
        if got.dtype != want.dtype:
            return False
        g, w = got.astype(np.float64), want.astype(np.float64)
        both_nan = np.isnan(g) & np.isnan(w)
        with np.errstate(invalid="ignore"):
            close = np.abs(g - w) <= 1e-3 + 1e-3 * np.abs(w)
        return bool(np.all(both_nan | close | (g == w)))
    return got.dtype == want.dtype and np.array_equal(got, want)


def run_case(case):
    model = onnx.load(os.path.join(case, "model.onnx"))
    try:
        so = ort.SessionOptions()
        so.log_severity_level = 4
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - any refusal counts as unsupported
        return "UNSUPPORTED", str(e).splitlines()[0][:200] if str(e) else type(e).__name__
    inits = {i.name for i in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input]
    for ds in sorted(glob.glob(os.path.join(case, "test_data_set_*"))):
        feeds = {}
        for k, f in enumerate(sorted(glob.glob(os.path.join(ds, "input_*.pb")),
                                     key=lambda p: int(p.rsplit("_", 1)[1][:-3]))):
            vi = graph_inputs[k]
            feeds[vi.name] = load_value(f, vi.type)
        feeds = {k: v for k, v in feeds.items() if k not in inits or k in {i.name for i in sess.get_inputs()}}
        try:
            outs = sess.run(None, feeds)
        except Exception as e:  # noqa: BLE001
            return "FAIL", str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        files = sorted(glob.glob(os.path.join(ds, "output_*.pb")), key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
        for k, f in enumerate(files):
            want = load_value(f, model.graph.output[k].type)
            if k >= len(outs) or not same(outs[k], want):
                return "FAIL", f"output {model.graph.output[k].name} differs"
    return "PASS", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results")
    args = ap.parse_args()
    data = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    out = open(args.results, "w") if args.results else None
    total = 0
    print(f"onnxruntime {ort.__version__}, onnx {onnx.__version__}")
    for cat in CATEGORIES:
        counts = {"PASS": 0, "FAIL": 0, "UNSUPPORTED": 0}
        for case in sorted(glob.glob(os.path.join(data, cat, "*", "model.onnx"))):
            case = os.path.dirname(case)
            try:
                outcome, reason = run_case(case)
            except Exception as e:  # noqa: BLE001
                outcome, reason = "FAIL", f"{type(e).__name__}: {e}"[:200]
            counts[outcome] += 1
            if out:
                out.write(f"{cat}/{os.path.basename(case)}\t{outcome}\t{reason}\n")
        total += counts["PASS"]
        print(f"{cat}: pass {counts['PASS']}, fail {counts['FAIL']}, unsupported {counts['UNSUPPORTED']} "
              f"(of {sum(counts.values())})")
    print(f"onnxruntime total: {total} cases pass")


if __name__ == "__main__":
    sys.exit(main())
