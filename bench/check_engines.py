"""Builds an engine for each benchmark model, runs it on the saved inputs and compares with onnxruntime's
outputs (the Engine builder issue's done-when: agreement within 1e-4 relative), and reports per model the
layers after fusion, what is left of the patterns fusion should remove, the memory plan against the naive
sum, the build time and the engine load time.

    .venv/bin/python bench/check_engines.py [MODEL ...] [--markdown FILE]

Exits 1 when a model disagrees by more than 1e-4 or fails to build or run.
"""
import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TOLERANCE = 1e-4


def run(*args):
    return subprocess.run([common.ingot_bin(), *map(str, args)], capture_output=True, text=True, timeout=3600)


def check(cache, name, work):
    onnx_path = common.model_path(cache, name)
    engine = work / (name + ".ingot")
    t0 = time.time()
    p = run("build", onnx_path, "-o", engine)
    if p.returncode != 0:
        return {"model": name, "error": "build: " + p.stderr.strip()}
    build_s = time.time() - t0
    info = json.loads(run("inspect", engine, "--json", "-").stdout)
    ops = collections.Counter(l["op"] for l in info["layers"])
    sess = common.ort_session(onnx_path)
    out_names = [o.name for o in sess.get_outputs()]
    in_files = sorted(common.inputs_dir(cache, name).glob("*.npy"))
    flags = []
    for f in in_files:
        flags += ["--input", "%s=%s" % (f.stem, f)]
    out_dir = work / (name + ".out")
    p = run("run", engine, "--output-dir", out_dir, *flags)
    if p.returncode != 0:
        return {"model": name, "error": "run: " + p.stderr.strip()}
    got = common.load_arrays(out_dir, out_names)
    ref = common.load_arrays(common.reference_dir(cache, name), out_names)
    err = common.max_relative_error([got[n] for n in out_names], [ref[n] for n in out_names])
    bench = work / (name + ".bench.json")
    p = run("bench", engine, "--iterations", 1, "--duration", 0, "--warmup", 0, "--json", bench, *flags)
    load_ms = json.loads(bench.read_text())["load_ms"] if p.returncode == 0 else float("nan")
    mem = info["memory"]
    return {
        "model": name,
        "layers": len(info["layers"]),
        "ops": dict(ops.most_common()),
        "arena_mib": mem["arena_bytes"] / 2**20,
        "naive_mib": mem["naive_bytes"] / 2**20,
        "arena_pct": 100.0 * mem["arena_bytes"] / max(mem["naive_bytes"], 1),
        "dynamic_tensors": mem["dynamic_tensors"],
        "build_s": build_s,
        "load_ms": load_ms,
        "max_rel_err": err,
        "agrees": err <= TOLERANCE,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", default=common.BENCH_MODELS)
    ap.add_argument("--cache", default=str(common.DEFAULT_CACHE))
    ap.add_argument("--markdown", help="write the table here too")
    args = ap.parse_args(argv)
    common.ensure_exported(args.cache, args.models)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name in args.models:
            r = check(args.cache, name, Path(d))
            rows.append(r)
            print(json.dumps(r), flush=True)
    header = ["model", "layers", "arena MiB", "naive MiB", "arena / naive", "build s", "load ms", "max rel err vs ORT",
              "layer ops"]
    table = []
    ok = True
    for r in rows:
        if "error" in r:
            ok = False
            table.append([r["model"], "error: " + r["error"][:120]] + [""] * (len(header) - 2))
            continue
        ok &= r["agrees"]
        top = ", ".join("%s %d" % kv for kv in list(r["ops"].items())[:6])
        table.append([r["model"], r["layers"], "%.2f" % r["arena_mib"], "%.2f" % r["naive_mib"], "%.1f%%" % r["arena_pct"],
                      "%.2f" % r["build_s"], "%.1f" % r["load_ms"], "%.1e" % r["max_rel_err"], top])
    text = common.environment_markdown(common.environment()) + "\n\n" + common.markdown_table(header, table) + "\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
