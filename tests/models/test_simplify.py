"""`ingot simplify` on real exports: the output passes onnx.checker, onnxruntime gives the same outputs as
on the original, and no node is added. Also compares node counts with what the file held."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import export_models  # noqa: E402

INGOT = str(HERE.parents[1] / "build" / "bin" / "ingot")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("simplify")
    return {(n, o): Path(export_models.export_model(n, d / f"o{o}", opset=o))
            for n in ("resnet18", "bert_tiny") for o in (13, 17)}


def feeds_for(sess, rng):
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else (2 if "batch" in str(d) else 8) for d in i.shape]
        if "int64" in i.type:
            feeds[i.name] = rng.integers(0, 1000, shape).astype(np.int64)
            if i.name == "attention_mask":
                feeds[i.name] = np.ones(shape, np.int64)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    return feeds


@pytest.mark.parametrize("name", ["resnet18", "bert_tiny"])
@pytest.mark.parametrize("opset", [13, 17])
def test_simplify_keeps_outputs(exported, tmp_path, name, opset):
    src = exported[(name, opset)]
    dst = tmp_path / "sim.onnx"
    proc = subprocess.run([INGOT, "simplify", str(src), str(dst), "--check", "2"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "outputs agree" in proc.stdout
    model = onnx.load(dst)
    onnx.checker.check_model(model, full_check=True)
    before = onnx.load(src)
    # Constant nodes count as nodes in the file; ingot turns them into initializers.
    assert len(model.graph.node) <= len(before.graph.node)
    rng = np.random.default_rng(0)
    a = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
    feeds = feeds_for(a, rng)
    for x, y in zip(a.run(None, feeds), b.run(None, feeds)):
        np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-5)


def test_simplify_folds_shape_chains_under_fixed_shapes(exported, tmp_path):
    src = exported[("bert_tiny", 17)]
    dst = tmp_path / "sim.onnx"
    proc = subprocess.run([INGOT, "simplify", str(src), str(dst), "--input-shape", "input_ids:1x16",
                           "--input-shape", "attention_mask:1x16"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    ops = [n.op_type for n in onnx.load(dst).graph.node]
    assert "Shape" not in ops and "Range" not in ops, ops
    onnx.checker.check_model(onnx.load(dst), full_check=True)


def test_simplify_bad_pass_name_is_usage_error(exported, tmp_path):
    src = exported[("resnet18", 13)]
    proc = subprocess.run([INGOT, "simplify", str(src), str(tmp_path / "x.onnx"), "--disable-pass", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "nope" in proc.stderr
    assert not (tmp_path / "x.onnx").exists()
