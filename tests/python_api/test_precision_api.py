"""INT8 and reduced precision through the Python API: the calibration data as an ingot.Calibrator subclass,
a list of batches or a folder of .npy files, the calibration cache, and the fallback notes."""

import numpy as np
import pytest

import ingot
from api_util import TINY

SHAPES = {"input": (1, 3, 32, 32)}


def batches(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return [{"input": rng.standard_normal((1, 3, 32, 32)).astype(np.float32)} for _ in range(n)]


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


class ListCalibrator(ingot.Calibrator):
    def __init__(self, data):
        self.data = iter(data)
        self.calls = 0

    def get_batch(self):
        self.calls += 1
        return next(self.data, None)


def int8_layers(engine):
    return [l for l in engine.layers if l.precision == "int8"]


def run(engine, x):
    return engine.create_context().run({"input": x})["logits"]


def test_calibrator_subclass_builds_int8_layers_close_to_fp32():
    data = batches()
    cal = ListCalibrator(data)
    e8 = ingot.build(TINY, shapes=SHAPES, int8=True, calib=cal)
    assert cal.calls == len(data) + 1  # every batch, then the None that ends them
    assert len(int8_layers(e8)) >= 3, [(l.name, l.op, l.precision, l.precision_note) for l in e8.layers]
    e32 = ingot.build(TINY, shapes=SHAPES)
    x = batches(1, seed=99)[0]["input"]
    y8, y32 = run(e8, x), run(e32, x)
    assert not np.array_equal(y8, y32)  # it really ran in int8
    assert cosine(y8, y32) > 0.99


def test_list_npy_folder_and_cache_give_the_same_engine(tmp_path):
    data = batches()
    for i, b in enumerate(data):
        np.save(tmp_path / ("%02d.npy" % i), b["input"])
    cache = tmp_path / "tiny.calib"
    x = batches(1, seed=5)[0]["input"]
    # One timing cache: the three builds pick the same tactics, however loaded the machine is while they time
    # them, so equal scales give bit-equal results.
    tactics = str(tmp_path / "tactics.cache")
    from_list = run(ingot.build(TINY, shapes=SHAPES, precision="int8", calib=data, calib_cache=cache,
                                timing_cache=tactics), x)
    assert cache.is_file()
    from_dir = run(ingot.build(TINY, shapes=SHAPES, int8=True, calib=tmp_path, timing_cache=tactics), x)
    from_cache = run(ingot.build(TINY, shapes=SHAPES, int8=True, calib_cache=cache, timing_cache=tactics), x)
    assert np.array_equal(from_list, from_dir)
    assert np.array_equal(from_list, from_cache)


def test_calibration_methods_are_keywords():
    data = batches(4)
    for method in ("entropy", "minmax", "percentile", "mse"):
        e = ingot.build(TINY, shapes=SHAPES, int8=True, calib=data, calib_method=method, calib_percentile=99.9)
        assert int8_layers(e)
    with pytest.raises(ingot.Error, match="calibration method"):
        ingot.build(TINY, shapes=SHAPES, int8=True, calib=data, calib_method="median")


def test_bad_calibration_input_and_options():
    with pytest.raises(TypeError, match="choose one"):
        ingot.build(TINY, shapes=SHAPES, int8=True, fp16=True)
    with pytest.raises(TypeError, match="calib"):
        ingot.build(TINY, shapes=SHAPES, int8=True, calib=42)
    with pytest.raises(ingot.Error, match="no input 'input'"):
        ingot.build(TINY, shapes=SHAPES, int8=True, calib=[{"image": np.zeros((1, 3, 32, 32), np.float32)}])
    with pytest.raises(ValueError, match="no batches"):
        ingot.build(TINY, shapes=SHAPES, int8=True, calib=[])


def test_layer_precision_override_and_fallback_note():
    data = batches(4)
    e = ingot.build(TINY, shapes=SHAPES, int8=True, calib=data)
    first = int8_layers(e)[0]
    kept = ingot.build(TINY, shapes=SHAPES, int8=True, calib=data, layer_precision={first.name: "fp32"})
    by_name = {l.name: l for l in kept.layers}
    assert by_name[first.name].precision == "fp32"
    assert len(int8_layers(kept)) == len(int8_layers(e)) - 1
    # fp16 asked for: every compute layer either runs fp16 or says why not.
    e16 = ingot.build(TINY, shapes=SHAPES, fp16=True)
    for layer in e16.layers:
        if layer.op in ("Conv", "ingot.FusedConv", "Gemm", "ingot.FusedMatMul"):
            assert layer.precision == "fp16" or layer.precision_note, layer.name


def test_compare_matches_the_cli(tmp_path):
    import json
    import subprocess

    from api_util import CLI

    data = batches(4)
    e8 = ingot.build(TINY, shapes=SHAPES, int8=True, calib=data)
    path = tmp_path / "tiny8.ingot"
    e8.save(path)
    x = batches(1, seed=3)[0]["input"]
    np.save(tmp_path / "x.npy", x)
    stats = ingot.compare(TINY, path, inputs={"input": x}, atol=1e-6)["logits"]
    assert 0.99 < stats.cosine < 1 and stats.max_abs > 0 and stats.failing > 0
    assert stats.top1 in (0.0, 1.0)  # one row
    cli = subprocess.run([CLI, "compare", str(TINY), str(path), "--input", "input=%s" % (tmp_path / "x.npy"),
                          "--atol", "1e-6", "--json", str(tmp_path / "c.json")], capture_output=True, text=True)
    assert cli.returncode == 1, cli.stderr  # elements outside atol
    j = json.loads((tmp_path / "c.json").read_text())[0]
    assert j["name"] == "logits"
    # The two FP32 reference builds time their tactics separately and may pick different ones: the same
    # figures up to float rounding.
    for key in ("max_abs", "mean_abs", "max_rel", "mean_rel", "cosine", "top1"):
        assert getattr(stats, key) == pytest.approx(j[key], rel=1e-3), key
    assert abs(stats.failing - j["failing"]) <= 2
    fp32 = ingot.compare(TINY, ingot.build(TINY, shapes=SHAPES))["logits"]
    assert fp32.max_abs == 0 and fp32.cosine == pytest.approx(1.0)


def test_accuracy_budget_keyword_and_report():
    data = batches(4)
    plain = ingot.build(TINY, shapes=SHAPES, int8=True, calib=data)
    assert not plain.accuracy.measured and "accuracy" not in ingot.inspect(plain)
    e = ingot.build(TINY, shapes=SHAPES, int8=True, calib=data, accuracy_budget=1e-4)
    a = e.accuracy
    assert a.measured and a.budget == 1e-4 and a.batches == 4 and a.error <= 1e-4 < a.error_before
    kept = dict(a.kept)
    assert kept and all(l.precision == "fp32" for l in e.layers if l.name in kept)
    report = ingot.inspect(e)["accuracy"]
    assert report["kept"] == [{"name": n, "sensitivity": s} for n, s in a.kept]
    with pytest.raises(ingot.Error, match="is for --int8 and --best builds"):
        ingot.build(TINY, shapes=SHAPES, accuracy_budget=0.1)
