#!/usr/bin/env python3
"""ingot INT8 against onnxruntime FP32 and onnxruntime on a Q/DQ model, batch 1, alternating in one run (issue 6).

Usage:
    .venv/bin/python bench/bench_int8.py [names...] [--threads 2] [--rounds 5] [--iterations 20] [--cache DIR]
                                         [--calib-batches 4] [--omp-wait-policy ACTIVE|PASSIVE]
                                         [--also-env VAR=VALUE]

For each model (default resnet50 and mobilenet_v2, the exports of bench/export_models.py in the cache):
  * calibration data: --calib-batches batches made from the model's saved input (scaled and with noise,
    seeded): enough to time the kernels, not to judge accuracy (tests/models/test_precision_digits.py does);
  * ingot: `ingot build --int8 --calib DIR --threads T`, then per round `ingot bench ENGINE` (median);
  * onnxruntime FP32, onnxruntime on the Q/DQ model that onnxruntime.quantization.quantize_static writes
    from the same calibration data (QDQ format, per-channel s8 weights, u8 activations, MinMax), and
    onnxruntime on the Q/DQ model `ingot quantize` writes (the engine's own calibration, through its cache), in
    this process: intra-op threads T, sequential; per round N timed runs and their median.
Rounds alternate between the four; each figure is the median of the per-round medians. --also-env builds a second
ingot engine with that environment variable set at build time (an A/B of a build switch, e.g. INGOT_INT8_S8=0)
and times it in the same rounds.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def ort_median(session, feeds, iterations):
    session.run(None, feeds)
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def ingot_build(args, model, engine, calib, cache, extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    subprocess.run([common.ingot_bin(), "build", str(model), "-o", str(engine), "--int8", "--calib", str(calib),
                    "--calib-cache", str(cache), "--threads", str(args.threads)], check=True,
                   capture_output=True, timeout=1800, env=env)


def ingot_median(engine, threads, iterations, work, wait_policy):
    out = Path(work) / "bench.json"
    env = dict(os.environ)
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    subprocess.run([common.ingot_bin(), "bench", str(engine), "--threads", str(threads), "--iterations",
                    str(iterations), "--warmup", "0.2", "--json", str(out)], check=True, capture_output=True, timeout=600,
                   env=env)
    return json.loads(out.read_text())["latency_ms"]["median"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*", default=["resnet50", "mobilenet_v2"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--calib-batches", type=int, default=4)
    # GNU OpenMP's workers spin while idle (OMP_WAIT_POLICY ACTIVE by default): on a machine busier than its
    # cores they spin against the threads doing the work (src/backends/cpu/README.md). "" keeps the environment's.
    ap.add_argument("--omp-wait-policy", default="", choices=["", "ACTIVE", "PASSIVE"])
    ap.add_argument("--also-env", default="", help="VAR=VALUE: also time an engine built with it")
    ap.add_argument("--cache", default=os.environ.get("INGOT_BENCH_CACHE", str(Path(__file__).parent / "models")))
    args = ap.parse_args()
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    common.ensure_exported(args.cache, args.names)
    rows = []
    for name in args.names:
        work = Path(tempfile.mkdtemp(prefix="bench_int8_"))
        model = common.model_path(args.cache, name)
        ref = common.ort_session(model, args.threads)
        feeds = common.load_inputs(args.cache, name, ref)
        (input_name, x), = feeds.items()
        rng = np.random.default_rng(0)
        calib = work / "calib"
        calib.mkdir()
        batches = []
        for i in range(args.calib_batches):
            b = (x * rng.uniform(0.5, 1.5) + rng.normal(0, 0.3, x.shape)).astype(np.float32)
            np.save(calib / ("b%d.npy" % i), b)
            batches.append(b)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter([{input_name: b} for b in batches])

            def get_next(self):
                return next(self.it, None)

        qdq = work / (name + ".qdq.onnx")
        quantize_static(str(model), str(qdq), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        qdq_session = common.ort_session(qdq, args.threads)
        engine = work / (name + ".int8.ingot")
        cache = work / (name + ".calib")
        ingot_build(args, model, engine, calib, cache)
        also = None
        if args.also_env:
            var, _, value = args.also_env.partition("=")
            also = work / (name + ".int8.also.ingot")
            ingot_build(args, model, also, calib, cache, {var: value})
        # ingot's own Q/DQ model (the same calibration, through the cache), run by onnxruntime.
        own_qdq = work / (name + ".ingot.qdq.onnx")
        subprocess.run([common.ingot_bin(), "quantize", str(model), "-o", str(own_qdq), "--calib-cache", str(cache),
                        "--threads", str(args.threads)], check=True, capture_output=True, timeout=1800)
        own_qdq_session = common.ort_session(own_qdq, args.threads)
        t = {"ingot_int8": [], "ort_fp32": [], "ort_qdq": [], "ort_ingot_qdq": []}
        if also:
            t["ingot_int8_also"] = []
        for _ in range(args.rounds):
            t["ingot_int8"].append(ingot_median(engine, args.threads, args.iterations, work, args.omp_wait_policy))
            if also:
                t["ingot_int8_also"].append(ingot_median(also, args.threads, args.iterations, work,
                                                         args.omp_wait_policy))
            t["ort_fp32"].append(ort_median(ref, feeds, args.iterations))
            t["ort_qdq"].append(ort_median(qdq_session, feeds, args.iterations))
            t["ort_ingot_qdq"].append(ort_median(own_qdq_session, feeds, args.iterations))
        m = {k: statistics.median(v) for k, v in t.items()}
        cmp = subprocess.run([common.ingot_bin(), "compare", str(model), str(engine), "--input",
                              "%s=%s" % (input_name, next(common.inputs_dir(args.cache, name).glob("*.npy")))],
                             capture_output=True, text=True, timeout=600).stdout.strip()
        rows.append([name, "%.2f" % m["ingot_int8"], "%.2f" % m["ort_fp32"], "%.2f" % m["ort_qdq"],
                     "%.2f" % m["ort_ingot_qdq"], "%.2f" % (m["ingot_int8"] / m["ort_fp32"]),
                     "%.2f" % (m["ingot_int8"] / m["ort_qdq"]), "%.2f" % (m["ingot_int8"] / m["ort_ingot_qdq"])])
        print(name, m, cmp, flush=True)
        if also:
            print("%s: ingot INT8 %.3f ms, built with %s %.3f ms (ratio %.3f)" % (
                name, m["ingot_int8"], args.also_env, m["ingot_int8_also"], m["ingot_int8"] / m["ingot_int8_also"]),
                flush=True)
    print(common.environment_markdown(common.environment(
        {"threads": args.threads, "ingot OMP_WAIT_POLICY": args.omp_wait_policy or os.environ.get("OMP_WAIT_POLICY", "(default)")})))
    print(common.markdown_table(["model", "ingot INT8 ms", "ORT FP32 ms", "ORT Q/DQ ms", "ORT ingot-Q/DQ ms",
                                 "INT8 / ORT FP32", "INT8 / ORT Q/DQ", "INT8 / ORT ingot-Q/DQ"], rows))


if __name__ == "__main__":
    main()
