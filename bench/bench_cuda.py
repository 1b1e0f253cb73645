#!/usr/bin/env python3
"""CUDA benchmark (issue 7): ingot engines (--device cuda --fp16) against PyTorch on the same GPU.

Usage (on the GPU machine; torch and torchvision there, the ingot command at $INGOT_BIN or build/bin/ingot):
    python3 bench/bench_cuda.py [--models resnet50,mobilenet_v2,vit_b_16] [--batches 1,32] [--rounds 3]
                                [--no-compile] [--int8] [--work DIR] [--json FILE]

For each model and batch: the model (torchvision, random weights, fixed seed, eval) is exported to ONNX
(torch.onnx.export, opset 17, dynamo=False) and built with `ingot build --device cuda --fp16 --shapes
input:Bx3x224x224`. FP16 latency is measured, in alternating rounds, for:
  ingot     `ingot bench --no-data-transfers` GPU compute time (CUDA events; its layers replay as a CUDA graph)
  eager     PyTorch eager, model.half() (channels-last for the convolutional networks)
  graph     the same captured in a torch.cuda.CUDAGraph and replayed
  compile   torch.compile(mode="reduce-overhead")
  ingot_int8 (--int8, convolutional networks) an engine built with `--device cuda --int8 --calib DIR`, calibrated
            on random images (max(2, 64 / batch) batches; the cache shared by a model's batches)
every one timed with CUDA events on inputs already on the GPU; medians over rounds of per-round medians.
The ratio is ingot over the faster of graph and compile (the issue's target: <= 0.7 resnet50 / vit_b_16,
<= 0.9 mobilenet_v2); for INT8, the throughput ratio is that PyTorch FP16 time over ingot's INT8 time
(target >= 2 for resnet50 at batch 32). Accuracy: ingot's output against PyTorch's FP32 output on one random
batch.
"""

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torchvision

REPO = Path(__file__).resolve().parents[1]
INGOT = os.environ.get("INGOT_BIN", str(REPO / "build" / "bin" / "ingot"))
CONV_NETS = {"resnet50", "mobilenet_v2"}


def log(*a):
    print(*a, flush=True)


def cuda_median_ms(fn, iters):
    """Median of `iters` single-call times, each between two CUDA events."""
    times = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def make_model(name):
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)(weights=None).eval()
    if name.startswith("vit"):  # torchvision zero-initializes the head: give the accuracy check real logits
        torch.nn.init.normal_(m.heads.head.weight, std=0.02)
    if any(isinstance(x, torch.nn.BatchNorm2d) for x in m.modules()):
        # BatchNorm statistics from random images, as a trained network has: with the default ones the
        # activations of a random network shrink layer after layer below what FP16 holds (mobilenet_v2's
        # logits end near 1e-8), and the FP16 accuracy check would compare underflow.
        m.train()
        with torch.no_grad():
            for _ in range(2):
                m(torch.randn(16, 3, 224, 224))
        m.eval()
    return m


def ingot_build(onnx_path, engine, batch, nchw=False, int8_calib=None):
    t0 = time.time()
    env = {**os.environ, "INGOT_CUDA_NCHW": "1"} if nchw else None
    precision = ["--fp16"]
    if int8_calib:
        precision = ["--int8", "--calib", str(int8_calib[0]), "--calib-cache", str(int8_calib[1])]
    r = subprocess.run([INGOT, "build", str(onnx_path), "-o", str(engine), "--device", "cuda", *precision, "--shapes",
                        f"input:{batch}x3x224x224"], capture_output=True, text=True, env=env)
    if r.returncode:
        raise RuntimeError(f"ingot build failed: {r.stderr.strip()}")
    log(f"  {r.stdout.strip()} ({time.time() - t0:.1f} s wall)")


def ingot_bench(engine, work, tag, transfers=False):
    j = work / f"{tag}.json"
    cmd = [INGOT, "bench", str(engine), "--duration", "1", "--warmup", "0.3", "--json", str(j)]
    if not transfers:
        cmd.append("--no-data-transfers")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"ingot bench failed: {r.stderr.strip()}")
    return json.loads(j.read_text()), r.stdout


def torch_paths(model, batch, use_compile, iters):
    """Returns {path: zero-argument timing function} for eager, graph and compile."""
    fmt = torch.channels_last if model.name in CONV_NETS else torch.contiguous_format
    m = copy.deepcopy(model.net).half().cuda().to(memory_format=fmt)
    x = torch.randn(batch, 3, 224, 224, device="cuda", dtype=torch.half).to(memory_format=fmt)
    paths = {}
    with torch.inference_mode():
        for _ in range(3):
            m(x)
        paths["eager"] = lambda: m(x)
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                m(x)
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            m(x)
        paths["graph"] = g.replay
    if use_compile:
        t0 = time.time()
        c = torch.compile(m, mode="reduce-overhead")
        with torch.inference_mode():
            for _ in range(4):
                c(x)
        torch.cuda.synchronize()
        log(f"  torch.compile warm-up {time.time() - t0:.1f} s")

        def run_compiled():
            with torch.inference_mode():
                c(x)
        paths["compile"] = run_compiled

    def timed(fn):
        def t():
            with torch.inference_mode():
                return cuda_median_ms(fn, iters)
        return t
    return {k: timed(v) for k, v in paths.items()}


class Model:
    def __init__(self, name):
        self.name = name
        self.net = make_model(name)


def accuracy(model, engine, work, batch):
    torch.manual_seed(1)
    x = torch.randn(batch, 3, 224, 224)
    with torch.inference_mode():
        ref = model.net.float().cpu()(x).numpy().astype(np.float64)
    np.save(work / "x.npy", x.numpy())
    r = subprocess.run([INGOT, "run", str(engine), "--input", f"input={work / 'x.npy'}", "--output-dir", str(work)],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"ingot run failed: {r.stderr.strip()}")
    got = np.load(work / "output.npy").astype(np.float64)
    rel = float(np.linalg.norm(got - ref) / np.linalg.norm(ref))
    top1 = float((got.argmax(1) == ref.argmax(1)).mean())
    return rel, top1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="resnet50,mobilenet_v2,vit_b_16")
    ap.add_argument("--batches", default="1,32")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--nchw-too", action="store_true",
                    help="also time an engine built with INGOT_CUDA_NCHW=1 (no channels-last), column ingot_nchw")
    ap.add_argument("--int8", action="store_true", help="also time an INT8 engine (convolutional networks)")
    ap.add_argument("--work", default="/tmp/ingot_bench_cuda")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([INGOT, "--version"], capture_output=True, text=True)
    log(f"GPU: {torch.cuda.get_device_name()}  torch {torch.__version__}  torchvision {torchvision.__version__}  "
        f"ingot {r.stdout.strip()}")
    results = []
    for name in args.models.split(","):
        model = Model(name)
        onnx_path = work / f"{name}.onnx"
        if not onnx_path.exists():
            t0 = time.time()
            torch.onnx.export(model.net, torch.randn(1, 3, 224, 224), str(onnx_path), input_names=["input"],
                              output_names=["output"], opset_version=17, dynamo=False,
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            log(f"{name}: exported in {time.time() - t0:.1f} s")
        for batch in [int(b) for b in args.batches.split(",")]:
            log(f"{name} batch {batch}:")
            engine = work / f"{name}_b{batch}.ingot"
            ingot_build(onnx_path, engine, batch)
            rel, top1 = accuracy(model, engine, work, batch)
            log(f"  accuracy vs PyTorch FP32: relative L2 error {rel:.2e}, top-1 agreement {top1:.3f}")
            j, out = ingot_bench(engine, work, f"{name}_b{batch}_transfers", transfers=True)
            log("  " + out.strip().replace("\n", "\n  "))
            engine_nchw = None
            if args.nchw_too and name in CONV_NETS:
                engine_nchw = work / f"{name}_b{batch}_nchw.ingot"
                ingot_build(onnx_path, engine_nchw, batch, nchw=True)
            engine_int8, int8_acc = None, None
            if args.int8 and name in CONV_NETS:
                calib = work / f"calib_b{batch}"
                calib.mkdir(exist_ok=True)
                rng = np.random.default_rng(5)
                for i in range(max(2, 64 // batch)):
                    np.save(calib / f"b{i}.npy", rng.standard_normal((batch, 3, 224, 224)).astype(np.float32))
                engine_int8 = work / f"{name}_b{batch}_int8.ingot"
                ingot_build(onnx_path, engine_int8, batch, int8_calib=(calib, work / f"{name}.calib"))
                int8_acc = accuracy(model, engine_int8, work, batch)
                log(f"  INT8 accuracy vs PyTorch FP32: relative L2 error {int8_acc[0]:.2e}, "
                    f"top-1 agreement {int8_acc[1]:.3f}")
            paths = torch_paths(model, batch, not args.no_compile, args.iters)
            per = {k: [] for k in ["ingot"] + (["ingot_nchw"] if engine_nchw else []) +
                   (["ingot_int8"] if engine_int8 else []) + list(paths)}
            for _ in range(args.rounds):
                j, _ = ingot_bench(engine, work, f"{name}_b{batch}")
                per["ingot"].append(j["gpu_compute_ms"]["median"])
                if engine_nchw:
                    jn, _ = ingot_bench(engine_nchw, work, f"{name}_b{batch}_nchw")
                    per["ingot_nchw"].append(jn["gpu_compute_ms"]["median"])
                if engine_int8:
                    ji, _ = ingot_bench(engine_int8, work, f"{name}_b{batch}_int8")
                    per["ingot_int8"].append(ji["gpu_compute_ms"]["median"])
                for k, fn in paths.items():
                    per[k].append(fn())
            med = {k: statistics.median(v) for k, v in per.items()}
            torch_best = min(v for k, v in med.items() if k in ("graph", "compile"))
            row = {"model": name, "batch": batch, **{f"{k}_ms": v for k, v in med.items()},
                   "rounds": per, "ratio_vs_best_torch": med["ingot"] / torch_best,
                   "rel_err_vs_fp32": rel, "top1_agreement": top1,
                   "h2d_ms": j.get("h2d_ms", {}).get("median")}
            if engine_int8:
                row.update({"int8_throughput_vs_best_torch_fp16": torch_best / med["ingot_int8"],
                            "int8_rel_err_vs_fp32": int8_acc[0], "int8_top1_agreement": int8_acc[1]})
            results.append(row)
            log("  " + "  ".join(f"{k} {v:.3f} ms" for k, v in med.items()) +
                f"  ratio ingot/best-torch {row['ratio_vs_best_torch']:.2f}" +
                (f"  INT8 throughput / best-torch FP16 {row['int8_throughput_vs_best_torch_fp16']:.2f}x"
                 if engine_int8 else ""))
            if args.json:  # after every row, so a run stopped early keeps what it measured
                Path(args.json).write_text(json.dumps(results, indent=2))
            torch.cuda.empty_cache()
    log("\n| model | batch | ingot ms | ingot NCHW ms | eager ms | graph ms | compile ms | ingot / best torch | rel err "
        "| top-1 | ingot INT8 ms | best torch FP16 / INT8 | INT8 rel err | INT8 top-1 |")
    log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    nan = float("nan")
    for r in results:
        log(f"| {r['model']} | {r['batch']} | {r['ingot_ms']:.3f} | {r.get('ingot_nchw_ms', nan):.3f} | "
            f"{r['eager_ms']:.3f} | {r['graph_ms']:.3f} | {r.get('compile_ms', nan):.3f} | "
            f"{r['ratio_vs_best_torch']:.2f} | {r['rel_err_vs_fp32']:.1e} | {r['top1_agreement']:.2f} | "
            f"{r.get('ingot_int8_ms', nan):.3f} | {r.get('int8_throughput_vs_best_torch_fp16', nan):.2f} | "
            f"{r.get('int8_rel_err_vs_fp32', nan):.1e} | {r.get('int8_top1_agreement', nan):.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(main())
