"""Accuracy of reduced precision on a real task: a small CNN trained on scikit-learn's digits (torch,
fixed seed, a few seconds), exported to ONNX, built by ingot in FP32 and in INT8 with entropy calibration
on the training split. On the test split the INT8 engine may lose at most 1 point of accuracy to the FP32
one; FP16 at most 0.2 where this CPU has FP16 kernels (elsewhere the engine must say why it fell back).

The ingot binary: INGOT_BIN, default <repo>/build/bin/ingot.
"""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300


@pytest.fixture(scope="module")
def ingot():
    path = Path(os.environ.get("INGOT_BIN") or REPO_ROOT / "build" / "bin" / "ingot")
    if not path.is_file():
        pytest.fail("ingot binary not found at %s: build it first or set INGOT_BIN" % path, pytrace=False)
    return str(path)


def run(cmd, check=True):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT_S)
    if check:
        assert proc.returncode == 0, "%s\nstdout: %s\nstderr: %s" % (" ".join(cmd), proc.stdout, proc.stderr)
    return proc


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The trained model exported to ONNX, the calibration batches and the test split."""
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(1)  # two threads spin against each other on a busy machine
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None, :, :]  # N x 1 x 8 x 8 in [0, 1]
    x_train, x_test, y_train, y_test = train_test_split(x, d.target, test_size=0.25, random_state=0,
                                                        stratify=d.target)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 16, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(16 * 4 * 4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train).long()
    for _ in range(10):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        torch_acc = float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())
    work = tmp_path_factory.mktemp("digits")
    onnx_path = work / "digits.onnx"
    torch.onnx.export(model, torch.from_numpy(x_test[:1]), str(onnx_path), input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      opset_version=13)
    calib = work / "calib"
    calib.mkdir()
    for i in range(0, len(x_train), 256):
        np.save(calib / ("batch%02d.npy" % (i // 256)), x_train[i:i + 256])
    np.save(work / "test.npy", x_test)
    return {"onnx": onnx_path, "calib": calib, "work": work, "y_test": y_test, "torch_acc": torch_acc}


def accuracy(ingot, engine, digits, name):
    out = digits["work"] / ("out_" + name)
    run([ingot, "run", str(engine), "--input", "image=%s" % (digits["work"] / "test.npy"), "--output-dir", str(out)])
    logits = np.load(out / "logits.npy")
    return float((logits.argmax(1) == digits["y_test"]).mean())


def layers(ingot, engine):
    proc = run([ingot, "inspect", str(engine), "--json", "-"])
    return json.loads(proc.stdout)["layers"]


def build(ingot, digits, name, *flags):
    engine = digits["work"] / (name + ".ingot")
    run([ingot, "build", str(digits["onnx"]), "-o", str(engine)] + list(flags))
    return engine


def test_int8_entropy_accuracy(ingot, digits):
    fp32 = build(ingot, digits, "fp32")
    acc32 = accuracy(ingot, fp32, digits, "fp32")
    assert digits["torch_acc"] > 0.9, "the model did not train"
    assert abs(acc32 - digits["torch_acc"]) < 1e-9, "the FP32 engine disagrees with torch"
    cache = digits["work"] / "digits.calib"
    int8 = build(ingot, digits, "int8", "--int8", "--calib", str(digits["calib"]), "--calib-method", "entropy",
                 "--calib-cache", str(cache))
    quantized = [l for l in layers(ingot, int8) if l["precision"] == "int8"]
    # All three convolutions and both fully connected layers run in int8.
    assert len(quantized) == 5, layers(ingot, int8)
    assert all(l["tactic"].endswith(".int8") for l in quantized)
    acc8 = accuracy(ingot, int8, digits, "int8")
    print("digits test accuracy: torch %.4f, ingot fp32 %.4f, int8 %.4f" % (digits["torch_acc"], acc32, acc8))
    assert acc8 >= acc32 - 0.01
    # compare: the int8 engine against the FP32 model on the test split.
    proc = run([ingot, "compare", str(digits["onnx"]), str(int8), "--input",
                "image=%s" % (digits["work"] / "test.npy"), "--json", str(digits["work"] / "compare.json")])
    print(proc.stdout.strip())
    stats = json.loads((digits["work"] / "compare.json").read_text())
    assert [s["name"] for s in stats] == ["logits"]
    assert stats[0]["cosine"] > 0.99 and stats[0]["top1"] > 0.97 and stats[0]["max_abs"] > 0
    # With a tolerance it fails on the elements outside it (int8 is not exact).
    assert run([ingot, "compare", str(digits["onnx"]), str(int8), "--input",
                "image=%s" % (digits["work"] / "test.npy"), "--atol", "1e-6"], check=False).returncode == 1
    # The cache alone rebuilds the same engine: no data needed.
    again = build(ingot, digits, "int8_cached", "--int8", "--calib-cache", str(cache))
    assert accuracy(ingot, again, digits, "int8_cached") == acc8


def test_fp16_accuracy_or_fallback(ingot, digits):
    fp16 = build(ingot, digits, "fp16", "--fp16")
    compute = [l for l in layers(ingot, fp16) if l["op"] in ("ingot.FusedConv", "ingot.FusedMatMul", "Conv", "Gemm",
                                                              "MatMul")]
    assert compute
    half = [l for l in compute if l["precision"] == "fp16"]
    if half:
        acc32 = accuracy(ingot, build(ingot, digits, "fp32b"), digits, "fp32b")
        assert accuracy(ingot, fp16, digits, "fp16") >= acc32 - 0.002
    for l in compute:
        if l["precision"] != "fp16":
            # No fp16 kernel for the layer (or this CPU), or an fp32 one was faster (the tuner's choice).
            note = l["precision_note"]
            assert l["precision"] == "fp32" and ("no fp16 kernel" in note or "faster than the fp16" in note), l


def test_int8_accuracy_budget(ingot, digits):
    """--accuracy-budget on the trained model: the engine's error on the calibration batches is within the
    budget (checked with `ingot compare`, apart from the builder), the layers kept in fp32 are named, and the
    test split keeps its accuracy."""
    def worst(engine):
        out = []
        for b in sorted(digits["calib"].glob("*.npy"))[:8]:
            stats = digits["work"] / "budget_compare.json"
            run([ingot, "compare", str(digits["onnx"]), str(engine), "--input", "image=%s" % b, "--json", str(stats)])
            out.append(json.loads(stats.read_text())[0]["max_rel"])
        return max(out)

    all_int8 = build(ingot, digits, "int8_all", "--int8", "--calib", str(digits["calib"]))
    budget = worst(all_int8) / 3
    engine = digits["work"] / "int8_budget.ingot"
    proc = run([ingot, "build", str(digits["onnx"]), "-o", str(engine), "--int8", "--calib", str(digits["calib"]),
                "--accuracy-budget", "%g" % budget])
    print(proc.stdout.strip())
    report = json.loads(run([ingot, "inspect", str(engine), "--json", "-"]).stdout)
    acc = report["accuracy"]
    assert acc["kept"] and acc["error"] <= budget < acc["error_before"], acc
    kept = {k["name"] for k in acc["kept"]}
    assert {l["name"] for l in report["layers"] if l["precision"] == "fp32" and "--accuracy-budget" in
            l["precision_note"]} == kept
    assert worst(engine) <= budget
    acc32 = accuracy(ingot, build(ingot, digits, "fp32"), digits, "fp32")
    acc_b = accuracy(ingot, engine, digits, "int8_budget")
    print("digits: budget %.3g, %d of 5 layers kept in fp32, test accuracy fp32 %.4f, within budget %.4f"
          % (budget, len(kept), acc32, acc_b))
    assert acc_b >= acc32 - 0.01
