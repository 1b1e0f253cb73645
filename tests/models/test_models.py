"""End-to-end model tests: `ingot run` versus onnxruntime.

Models are exported with tests/models/export_models.py into a pytest tmp dir
(once per session). The ingot binary defaults to <repo>/build/bin/ingot and
can be overridden with INGOT_BIN (a .py file is run with this interpreter,
e.g. INGOT_BIN=tests/models/fake_ingot.py to test the harness itself).

If the binary is missing the tests FAIL; set INGOT_ALLOW_MISSING_BIN=1 to
skip them instead (development only).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import export_models  # noqa: E402

RTOL = 1e-4
OPSETS = [13, 17]
MODELS = ["resnet18", "mobilenet_v2", "bert_tiny"]
RUN_TIMEOUT_S = 600


def sanitize(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def rel_err(actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-6))


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ingot_bin():
    path = os.environ.get("INGOT_BIN") or str(REPO_ROOT / "build" / "bin" / "ingot")
    p = Path(path)
    if not p.is_absolute():
        p = (Path.cwd() / p) if (Path.cwd() / p).exists() else (REPO_ROOT / p)
    if not p.is_file():
        msg = ("ingot binary not found at %s: build it first (cmake --build build) "
               "or point INGOT_BIN at it" % p)
        if os.environ.get("INGOT_ALLOW_MISSING_BIN") == "1":
            pytest.skip(msg)
        pytest.fail(msg, pytrace=False)
    if p.suffix == ".py":
        return [sys.executable, str(p)]
    return [str(p)]


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """exported(name, opset) -> path of the exported .onnx (cached per session)."""
    cache = {}
    root = tmp_path_factory.mktemp("onnx_models")

    def get(name, opset):
        key = (name, opset)
        if key not in cache:
            cache[key] = export_models.export_model(name, str(root / ("opset%d" % opset)), opset)
        return cache[key]

    return get


def run_ingot(cmd, model, out_dir, inputs=None, extra=()):
    """Run `ingot run`; return (CompletedProcess, combined output)."""
    args = list(cmd) + ["run", str(model)]
    for name, path in (inputs or {}).items():
        args += ["--input", "%s=%s" % (name, path)]
    args += ["--output-dir", str(out_dir)] + list(extra)
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=RUN_TIMEOUT_S)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, "ingot failed (rc=%d): %s\n%s" % (
        proc.returncode, " ".join(args), text)
    return proc, text


def make_inputs(name, batch=1, seq=None, seed=0):
    rng = np.random.default_rng(seed)
    if name == "bert_tiny":
        seq = seq or export_models.BERT_TINY["seq"]
        ids = rng.integers(0, export_models.BERT_TINY["vocab"], (batch, seq)).astype(np.int64)
        mask = np.ones((batch, seq), dtype=np.int64)
        for b in range(batch):
            mask[b, seq - 3 - b:] = 0  # padding at the end, different per row
        return {"input_ids": ids, "attention_mask": mask}
    shape = export_models.input_shape(name)["input"]
    return {"input": rng.standard_normal((batch,) + tuple(shape[1:])).astype(np.float32)}


def save_inputs(feeds, directory):
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, arr in feeds.items():
        paths[name] = directory / (sanitize(name) + ".npy")
        np.save(paths[name], arr)
    return paths


def ort_session(model):
    import onnxruntime as ort

    return ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])


def compare_with_ort(ingot_bin, model, feeds, tmp_path):
    sess = ort_session(model)
    expected = sess.run(None, feeds)
    paths = save_inputs(feeds, tmp_path / "inputs")
    out_dir = tmp_path / "outputs"
    run_ingot(ingot_bin, model, out_dir, paths)
    for meta, exp in zip(sess.get_outputs(), expected):
        f = out_dir / (sanitize(meta.name) + ".npy")
        assert f.is_file(), "ingot wrote no %s (have: %s)" % (
            f, sorted(p.name for p in out_dir.iterdir()) if out_dir.exists() else "no dir")
        got = np.load(f)
        assert got.shape == exp.shape, "%s: shape %s != %s" % (meta.name, got.shape, exp.shape)
        assert got.dtype == exp.dtype, "%s: dtype %s != %s" % (meta.name, got.dtype, exp.dtype)
        assert np.all(np.isfinite(got)), "%s: non-finite values" % meta.name
        err = rel_err(got, exp)
        assert err <= RTOL, "%s: relative error %.3e > %.0e" % (meta.name, err, RTOL)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------
@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("name", MODELS)
def test_matches_onnxruntime(ingot_bin, exported, tmp_path, name, opset):
    model = exported(name, opset)
    compare_with_ort(ingot_bin, model, make_inputs(name, seed=opset), tmp_path)


@pytest.mark.parametrize("name,batch,seq", [("resnet18", 2, None), ("bert_tiny", 2, 11)])
def test_dynamic_shapes_match_onnxruntime(ingot_bin, exported, tmp_path, name, batch, seq):
    model = exported(name, 17)
    compare_with_ort(ingot_bin, model, make_inputs(name, batch, seq, seed=7), tmp_path)


@pytest.mark.parametrize("name", MODELS)
def test_random_inputs_print_seed(ingot_bin, exported, tmp_path, name):
    model = exported(name, 17)
    sess = ort_session(model)
    # without --seed: some seed must be printed
    _, text = run_ingot(ingot_bin, model, tmp_path / "a")
    assert re.search(r"seed\D{0,20}\d+", text, re.IGNORECASE), \
        "ingot did not print the seed:\n" + text
    # with --seed: that seed must be printed
    _, text = run_ingot(ingot_bin, model, tmp_path / "b", extra=["--seed", "1234"])
    assert "1234" in text, "ingot did not print --seed 1234:\n" + text
    # outputs have the model's static shape (dynamic dims at their defaults: 1 / export size)
    defaults = export_models.input_shape(name)
    for meta in sess.get_outputs():
        got = np.load(tmp_path / "b" / (sanitize(meta.name) + ".npy"))
        assert np.all(np.isfinite(got)), meta.name
        assert got.ndim == len(meta.shape), (meta.name, got.shape, meta.shape)
        for axis, dim in enumerate(meta.shape):
            if isinstance(dim, int):
                assert got.shape[axis] == dim, (meta.name, got.shape, meta.shape)
        assert got.shape[0] == 1, "batch should default to 1: %s" % (got.shape,)
        if name != "bert_tiny":
            assert got.shape == (1, 1000), got.shape
        else:
            # seq axis is dynamic in the model; only the hidden size is fixed
            assert got.shape[-1] == export_models.BERT_TINY["hidden"], got.shape
            assert got.shape[1] in (1, defaults["input_ids"][1]), got.shape


def test_shapes_override(ingot_bin, exported, tmp_path):
    model = exported("bert_tiny", 17)
    hidden = export_models.BERT_TINY["hidden"]
    for batch, seq in [(2, 8), (3, 5)]:
        out_dir = tmp_path / ("%dx%d" % (batch, seq))
        _, text = run_ingot(ingot_bin, model, out_dir, extra=[
            "--shapes", "input_ids:%dx%d" % (batch, seq),
            "--shapes", "attention_mask:%dx%d" % (batch, seq),
            "--seed", "5"])
        got = np.load(out_dir / "last_hidden_state.npy")
        assert got.shape == (batch, seq, hidden), "shape %s after --shapes %dx%d:\n%s" % (
            got.shape, batch, seq, text)
        assert np.all(np.isfinite(got))


def test_shapes_override_cnn(ingot_bin, exported, tmp_path):
    model = exported("resnet18", 17)
    _, text = run_ingot(ingot_bin, model, tmp_path, extra=["--shapes", "input:2x3x224x224"])
    got = np.load(tmp_path / "output.npy")
    assert got.shape == (2, 1000), "shape %s:\n%s" % (got.shape, text)
