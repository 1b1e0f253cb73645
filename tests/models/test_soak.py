"""Concurrency soak: several threads, each with several execution contexts of one engine, run real models
for a while and must give, every run, exactly the outputs one context gave alone (build/bin/ingot_soak).

INGOT_SOAK_SECONDS sets how long each model runs (default 10; the closing figures ran minutes)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import export_models  # noqa: E402

SECONDS = float(os.environ.get("INGOT_SOAK_SECONDS", "10"))


@pytest.fixture(scope="module")
def soak_bin():
    p = REPO_ROOT / "build" / "bin" / "ingot_soak"
    if not p.is_file():
        pytest.fail("%s not found: build it first (cmake --build build)" % p, pytrace=False)
    return str(p)


@pytest.mark.parametrize("name", ["resnet18", "bert_tiny"])
def test_threads_and_contexts_agree_bit_for_bit(name, soak_bin, tmp_path):
    model = export_models.export_model(name, tmp_path)
    shapes = ",".join("%s:%s" % (k, "x".join(map(str, v))) for k, v in export_models.input_shape(name).items())
    r = subprocess.run([soak_bin, str(model), "--threads", "4", "--contexts", "2", "--seconds", str(SECONDS),
                        "--shapes", shapes],
                       capture_output=True, text=True, timeout=SECONDS + 600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 mismatches, 0 failures" in r.stdout, r.stdout


def test_saved_engine_soaks_too(soak_bin, tmp_path):
    model = export_models.export_model("resnet18", tmp_path)
    engine = tmp_path / "resnet18.ingot"
    ingot = REPO_ROOT / "build" / "bin" / "ingot"
    b = subprocess.run([str(ingot), "build", str(model), "-o", str(engine)], capture_output=True, text=True, timeout=600)
    assert b.returncode == 0, b.stderr
    r = subprocess.run([soak_bin, str(engine), "--threads", "3", "--contexts", "3", "--seconds", str(SECONDS / 2)],
                       capture_output=True, text=True, timeout=SECONDS + 600)
    assert r.returncode == 0, r.stdout + r.stderr


def test_usage_errors(soak_bin):
    r = subprocess.run([soak_bin], capture_output=True, text=True)
    assert r.returncode == 2 and "required" in r.stderr
    r = subprocess.run([soak_bin, "x.onnx", "--threads", "zero"], capture_output=True, text=True)
    assert r.returncode == 2 and "bad value" in r.stderr
    r = subprocess.run([soak_bin, str(REPO_ROOT / "missing.onnx")], capture_output=True, text=True)
    assert r.returncode == 1 and "missing.onnx" in r.stderr
