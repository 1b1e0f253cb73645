#!/usr/bin/env python3
"""Node counts after `ingot simplify` beside onnxsim's, and whether the outputs still agree with onnxruntime.

Usage:
    .venv/bin/python bench/compare_simplify.py [--cache DIR] [--markdown FILE] [names...]

With no names: resnet50, mobilenet_v2, efficientnet_b0, bert_base, resnet18, bert_tiny. Each model is the
dynamic-batch export NAME.dyn.onnx from bench/export_models.py (exported first if missing), simplified four ways:
    ingot b1     build/bin/ingot simplify IN OUT --input-shape NAME:1x... (every input fixed at batch 1)
    ingot dyn    build/bin/ingot simplify IN OUT                         (batch stays dynamic)
    onnxsim b1   onnxsim.simplify(model, overwrite_input_shapes={...batch 1})
    onnxsim dyn  onnxsim.simplify(model)
Each result is run by onnxruntime on the saved batch-1 inputs and compared with onnxruntime's outputs on the
original (the dynamic results at batch 2 too); the error is max |a - b| / max |b| over all outputs, and a
result agrees when it is at most 1e-4 (issue 4's bar). Node counts are those of the top-level graph, Constant
nodes included (torch's exporter writes some; ingot turns them into initializers).

onnxsim is pinned in requirements-dev.txt; $INGOT_BIN overrides build/bin/ingot.
"""

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

AGREE = 1e-4
NO_ONNXSIM = "onnxsim not installed"
VARIANTS = ["ingot b1", "ingot dyn", "onnxsim b1", "onnxsim dyn"]


def op_histogram(model):
    return collections.Counter(n.op_type for n in model.graph.node)


def input_shapes(cache, name):
    """{input name: batch-1 shape} from the saved inputs."""
    sess = common.ort_session(common.model_path(cache, name, dynamic_batch=True))
    return {n: list(a.shape) for n, a in common.load_inputs(cache, name, sess).items()}


def run_ingot(src, dst, shapes):
    cmd = [common.ingot_bin(), "simplify", str(src), str(dst)]
    for n, dims in (shapes or {}).items():
        cmd += ["--input-shape", "%s:%s" % (n, "x".join(str(d) for d in dims))]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError("ingot simplify exited %d: %s" % (p.returncode, (p.stderr or p.stdout).strip()[-300:]))


def run_onnxsim(src, dst, shapes):
    # In a child process: a crash or a long hang in onnxsim's C++ then costs one cell, not the whole table.
    cmd = [sys.executable, __file__, "--onnxsim-worker", str(src), str(dst), json.dumps(shapes or {})]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError("onnxsim failed: %s" % (p.stderr or p.stdout).strip().splitlines()[-1][-300:])


def onnxsim_worker(src, dst, shapes_json):
    import onnxsim

    shapes = json.loads(shapes_json)
    kwargs = {"overwrite_input_shapes": shapes} if shapes else {}
    model, ok = onnxsim.simplify(onnx.load(src), **kwargs)
    if not ok:
        raise RuntimeError("onnxsim's own check failed")
    onnx.save(model, dst)
    return 0


def onnxsim_version():
    p = subprocess.run([sys.executable, "-c", "import onnxsim; print(onnxsim.__version__)"], capture_output=True,
                       text=True)
    return p.stdout.strip() if p.returncode == 0 else None


def agreement(cache, name, path, dynamic):
    """Worst relative error of onnxruntime on `path` against onnxruntime on the original (batch 1, and 2 when
    the batch is dynamic)."""
    original = common.model_path(cache, name, dynamic_batch=True)
    ref_sess = common.ort_session(original)
    sess = common.ort_session(path)
    feeds = common.load_inputs(cache, name, ref_sess)
    out_names = [o.name for o in ref_sess.get_outputs()]
    ref = common.load_arrays(common.reference_dir(cache, name, dynamic_batch=True), out_names)
    err = common.max_relative_error(sess.run(out_names, feeds), [ref[n] for n in out_names])
    if dynamic:
        feeds2 = common.batch_of_two(feeds)
        err = max(err, common.max_relative_error(sess.run(out_names, feeds2), ref_sess.run(out_names, feeds2)))
    return err


def compare(cache, name, out_dir, have_onnxsim):
    src = common.model_path(cache, name, dynamic_batch=True)
    original = onnx.load(str(src))
    shapes = input_shapes(cache, name)
    result = {"original": len(original.graph.node),
              "original_constants": sum(n.op_type == "Constant" for n in original.graph.node),
              "variants": {}}
    hist = {"original": op_histogram(original)}
    for variant in VARIANTS:
        tool, mode = variant.split()
        dst = out_dir / ("%s.%s_%s.onnx" % (name, tool, mode))
        cell = {}
        if tool == "onnxsim" and not have_onnxsim:
            cell["error"] = NO_ONNXSIM
        else:
            t0 = time.time()
            try:
                (run_ingot if tool == "ingot" else run_onnxsim)(src, dst, shapes if mode == "b1" else None)
                cell["seconds"] = time.time() - t0
                model = onnx.load(str(dst))
                cell["nodes"] = len(model.graph.node)
                hist[variant] = op_histogram(model)
                cell["max_rel_err"] = agreement(cache, name, dst, dynamic=(mode == "dyn"))
            except Exception as e:  # noqa: BLE001  (a failure, of the tool or of onnxruntime, fills its cell)
                cell["error"] = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
        result["variants"][variant] = cell
        print("  %-16s %-12s %s" % (name, variant, json.dumps(cell)), flush=True)
    result["ops"] = {k: dict(sorted(v.items())) for k, v in hist.items()}
    return result


def cell_text(cell, key, fmt):
    if "error" in cell:
        return "n/a" if cell["error"] == NO_ONNXSIM else "failed"
    value = cell[key]
    text = fmt % value
    if key == "max_rel_err" and value > AGREE:
        text += " **no**"
    return text


def markdown(results, env):
    head = ["model", "original (Constant)"] + VARIANTS
    nodes = [[n, "%d (%d)" % (r["original"], r["original_constants"])] +
             [cell_text(r["variants"][v], "nodes", "%d") for v in VARIANTS] for n, r in results.items()]
    errs = [[n] + [cell_text(r["variants"][v], "max_rel_err", "%.1e") for v in VARIANTS] for n, r in results.items()]
    secs = [[n] + [cell_text(r["variants"][v], "seconds", "%.1f") for v in VARIANTS] for n, r in results.items()]
    parts = ["Node counts (top-level graph):", "", common.markdown_table(head, nodes), "",
             "Agreement with onnxruntime on the original (max relative error; > %.0e marked **no**):" % AGREE, "",
             common.markdown_table(["model"] + VARIANTS, errs), "", "Seconds taken:", "",
             common.markdown_table(["model"] + VARIANTS, secs), ""]
    failures = ["- %s, %s: %s" % (n, v, c["error"]) for n, r in results.items() for v, c in r["variants"].items()
                if "error" in c]
    if failures:
        parts += ["Failures:", ""] + failures + [""]
    diffs = []
    for n, r in results.items():
        a, b = r["ops"].get("ingot b1"), r["ops"].get("onnxsim b1")
        if a is None or b is None:
            continue
        ops = sorted(set(a) | set(b))
        d = ["%s %d/%d" % (op, a.get(op, 0), b.get(op, 0)) for op in ops if a.get(op, 0) != b.get(op, 0)]
        diffs.append("- %s: %s" % (n, ", ".join(d) if d else "same op counts"))
    if diffs:
        parts += ["Op counts that differ at batch 1 (ingot/onnxsim):", ""] + diffs + [""]
    parts += [common.environment_markdown(env), ""]
    return "\n".join(parts)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--onnxsim-worker"]:
        return onnxsim_worker(*argv[1:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="models (default: %s)" %
                   " ".join(common.BENCH_MODELS + common.SIMPLIFY_EXTRA))
    p.add_argument("--cache", default=str(common.DEFAULT_CACHE), help="model folder (default bench/models)")
    p.add_argument("--markdown", help="also write the tables to this file")
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args(argv)
    names = args.names or common.BENCH_MODELS + common.SIMPLIFY_EXTRA
    if not Path(common.ingot_bin()).exists():
        p.error("%s not found: build it first (see README.md) or set INGOT_BIN" % common.ingot_bin())
    common.ensure_exported(args.cache, names, dynamic_batch=True)
    sim_version = onnxsim_version()
    if sim_version is None:
        print("onnxsim is not installed (pip install -r requirements-dev.txt): its columns stay empty",
              file=sys.stderr)
    env = common.environment({"onnxsim": sim_version or "not installed"})
    results = {}
    with tempfile.TemporaryDirectory(prefix="simplify.", dir=args.cache) as out_dir:
        for name in names:
            results[name] = compare(args.cache, name, Path(out_dir), sim_version is not None)
    text = markdown(results, env)
    print()
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "results": results}, indent=1))
    bad = [n for n, r in results.items() for c in r["variants"].values()
           if "error" not in c and c["max_rel_err"] > AGREE]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
