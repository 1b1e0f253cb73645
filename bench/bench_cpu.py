#!/usr/bin/env python3
"""ingot against onnxruntime on the CPU, side by side, alternating, in one run (issue 5's benchmark).

Usage:
    .venv/bin/python bench/bench_cpu.py [names...] [--threads 1 2] [--rounds 5] [--iterations 10] [--warmup 1]
                                        [--cache DIR] [--markdown FILE] [--json FILE] [--no-agreement]

With no names: resnet50, mobilenet_v2, efficientnet_b0, bert_base (batch 1, FP32, the fixed-shape exports of
bench/export_models.py, exported first if missing). For each model and thread count T:

  * ingot: `ingot build MODEL.onnx -o NAME.tT.ingot --threads T` once (when the build command exists;
    otherwise the .onnx itself is benchmarked), then per round one
    `ingot bench ENGINE --threads T --iterations N --warmup S --json FILE` and its latency_ms.median;
  * onnxruntime, in this process: intra-op threads T, inter-op 1, ORT_ENABLE_ALL, sequential execution;
    per round S seconds of warm-up, then N timed runs of the same saved inputs and their median.

Rounds alternate (ingot's batch, then onnxruntime's, R times), so both see the same machine load; each
reported latency is the median of the per-round medians, and the ratio is ingot / onnxruntime. Agreement is
the max relative error of `ingot run ENGINE --input ...` against onnxruntime on the same inputs. Where an
ingot command is missing or fails, its cells say so; no figure is made up.

$INGOT_BIN overrides build/bin/ingot.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

AGREE = 1e-4


def ingot_subcommands():
    """{subcommand: its --help text} for the subcommands that `ingot --help` lists."""
    try:
        p = subprocess.run([common.ingot_bin(), "--help"], capture_output=True, text=True, timeout=60)
    except OSError:
        return {}
    listed = p.stdout.split("Subcommands:", 1)[1].splitlines() if "Subcommands:" in p.stdout else []
    names = [line.split()[0] for line in listed if line.startswith("  ") and line.strip()]
    return {n: subprocess.run([common.ingot_bin(), n, "--help"], capture_output=True, text=True,
                              timeout=60).stdout for n in names}


def input_flags(input_files):
    flags = []
    for n, f in input_files.items():
        flags += ["--input", "%s=%s" % (n, f)]
    return flags


def tail(p):
    lines = (p.stderr or p.stdout or "").strip().splitlines()
    return lines[-1][:300] if lines else "exit code %d" % p.returncode


def build_engine(onnx_path, engine_path, threads):
    """Build an engine; returns (seconds, error)."""
    engine_path.parent.mkdir(parents=True, exist_ok=True)
    engine_path.unlink(missing_ok=True)  # a stale engine must not pass for this build's
    t0 = time.time()
    p = subprocess.run([common.ingot_bin(), "build", str(onnx_path), "-o", str(engine_path), "--threads",
                        str(threads)], capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        return None, "ingot build: " + tail(p)
    return time.time() - t0, None


def ingot_round(model, threads, iterations, warmup, extra):
    """One `ingot bench` batch; returns its median latency in ms."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        cmd = [common.ingot_bin(), "bench", str(model), "--threads", str(threads), "--iterations", str(iterations),
               "--warmup", "%g" % warmup, "--json", f.name] + extra
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            raise RuntimeError("ingot bench: " + tail(p))
        return float(json.load(open(f.name))["latency_ms"]["median"])


def ort_round(sess, feeds, iterations, warmup):
    """S seconds of warm-up (at least one run), then the median of N timed runs, in ms."""
    t_end = time.perf_counter() + warmup
    sess.run(None, feeds)
    while time.perf_counter() < t_end:
        sess.run(None, feeds)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def ingot_agreement(model, input_files, out_names, reference):
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([common.ingot_bin(), "run", str(model), "--output-dir", d] + input_flags(input_files),
                           capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            raise RuntimeError("ingot run: " + tail(p))
        got = common.load_arrays(d, out_names)
    return common.max_relative_error([got[n] for n in out_names], reference)


def bench_model(args, name, tools):
    path = common.model_path(args.cache, name)
    rows = []
    agreement = {}
    for threads in args.threads:
        row = {"model": name, "threads": threads}
        sess = common.ort_session(path, threads=threads)
        feeds = common.load_inputs(args.cache, name, sess)
        out_names = [o.name for o in sess.get_outputs()]
        input_files = {n: common.inputs_dir(args.cache, name) / (common.sanitize(n) + ".npy") for n in feeds}
        ort_outputs = sess.run(out_names, feeds)

        engine = path
        if tools["build"]:
            engine = Path(args.cache) / "engines" / ("%s.t%d.ingot" % (name, threads))
            seconds, err = build_engine(path, engine, threads)
            if err:
                row["ingot_error"] = err
            else:
                row["ingot_build_s"] = seconds
        elif tools["bench"]:
            row["ingot_note"] = "ingot build not available: benchmarked the .onnx"
        if not tools["bench"]:
            row["ingot_error"] = "ingot bench not available"
        bench_extra = input_flags(input_files) if tools["bench_takes_input"] else []

        ingot_ms, ort_ms = [], []
        for r in range(args.rounds):
            if "ingot_error" not in row:
                try:
                    ingot_ms.append(ingot_round(engine, threads, args.iterations, args.warmup, bench_extra))
                except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as e:
                    row["ingot_error"] = str(e)
            ort_ms.append(ort_round(sess, feeds, args.iterations, args.warmup))
            print("  %-16s T=%d round %d/%d: ingot %s ms, onnxruntime %.2f ms" % (
                name, threads, r + 1, args.rounds, "%.2f" % ingot_ms[-1] if ingot_ms and "ingot_error" not in row
                else "-", ort_ms[-1]), flush=True)
        row["ort_round_medians_ms"] = ort_ms
        row["ort_median_ms"] = statistics.median(ort_ms)
        if "ingot_error" not in row:
            row["ingot_round_medians_ms"] = ingot_ms
            row["ingot_median_ms"] = statistics.median(ingot_ms)
            row["ratio"] = row["ingot_median_ms"] / row["ort_median_ms"]
        if not args.no_agreement and tools["run"] and engine.exists():
            try:
                # Without `ingot build` every thread count runs the same .onnx: check it once.
                if engine not in agreement:
                    agreement[engine] = ingot_agreement(engine, input_files, out_names, ort_outputs)
                row["max_rel_err"] = agreement[engine]
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
                row["agreement_error"] = str(e)
        if not tools["bench_takes_input"] and tools["bench"]:
            row["ingot_note"] = (row.get("ingot_note", "") + "; " if "ingot_note" in row else "") + \
                "ingot bench ran on its own random inputs"
        rows.append(row)
        del sess
    return rows


def fmt(row, key, spec):
    return spec % row[key] if key in row else "-"


def markdown(rows, env):
    head = ["model", "threads", "ingot median ms", "onnxruntime median ms", "ingot / ORT", "max rel err",
            "ingot build s"]
    table = []
    for r in rows:
        err = fmt(r, "max_rel_err", "%.1e")
        if "max_rel_err" in r and r["max_rel_err"] > AGREE:
            err += " **no**"
        table.append([r["model"], r["threads"], fmt(r, "ingot_median_ms", "%.2f"), "%.2f" % r["ort_median_ms"],
                      fmt(r, "ratio", "%.3f"), err, fmt(r, "ingot_build_s", "%.1f")])
    notes = sorted({"- %s T=%d: %s" % (r["model"], r["threads"], r[k]) for r in rows
                    for k in ("ingot_error", "agreement_error", "ingot_note") if k in r})
    busy = float(env["load_average"].split()[0]) > 0.5 * (os.cpu_count() or 1)
    if busy:
        notes.append("- the machine was busy (load average %s on %d CPUs): these latencies are not fit to compare"
                     % (env["load_average"], os.cpu_count() or 1))
    parts = [common.markdown_table(head, table), ""]
    if notes:
        parts += ["Notes:", ""] + notes + [""]
    parts += [common.environment_markdown(env), ""]
    return "\n".join(parts)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="models (default: %s)" % " ".join(common.BENCH_MODELS))
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    p.add_argument("--iterations", type=int, default=10, help="timed runs per round and runtime (default 10)")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per round and runtime (default 1)")
    p.add_argument("--cache", default=str(common.DEFAULT_CACHE), help="model folder (default bench/models)")
    p.add_argument("--markdown", help="write the table here (default CACHE/bench_cpu.md)")
    p.add_argument("--json", help="write the figures here (default CACHE/bench_cpu.json)")
    p.add_argument("--no-agreement", action="store_true", help="skip the `ingot run` agreement check")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.iterations < 1 or min(args.threads) < 1:
        p.error("--rounds, --iterations and --threads must be at least 1")
    names = args.names or common.BENCH_MODELS
    common.ensure_exported(args.cache, names)

    subcommands = ingot_subcommands()
    tools = {t: t in subcommands for t in ("bench", "build", "run")}
    tools["bench_takes_input"] = "--input" in subcommands.get("bench", "")
    for t in ("bench", "build", "run"):
        if not tools[t]:
            print("ingot %s not available (%s)" % (t, common.ingot_bin()), file=sys.stderr)

    env = common.environment({"threads": " ".join(map(str, args.threads)), "rounds": args.rounds,
                              "iterations per round": args.iterations, "warm-up s per round": args.warmup})
    rows = []
    for name in names:
        rows += bench_model(args, name, tools)
    env["load_average_after"] = "%.2f %.2f %.2f" % os.getloadavg()
    text = markdown(rows, env)
    print()
    print(text)
    md = Path(args.markdown or Path(args.cache) / "bench_cpu.md")
    js = Path(args.json or Path(args.cache) / "bench_cpu.json")
    md.write_text(text)
    js.write_text(json.dumps({"environment": env, "rows": rows}, indent=1))
    print("wrote %s and %s" % (md, js))
    return 0


if __name__ == "__main__":
    sys.exit(main())
