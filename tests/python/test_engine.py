"""Engines: `ingot build`, `inspect`, `bench`, `run` on engine files; the engine file's validation
(truncated, corrupted, other platform or version); optimization profiles."""
import json
import pathlib
import struct
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from op_harness import INGOT

HEADER = 512
OFF_VERSION, OFF_FINGERPRINT = 64, 96


def run(*args):
    return subprocess.run([INGOT, *map(str, args)], capture_output=True, text=True, timeout=120)


def assert_error(proc, *fragments, code=1):
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def cnn_model(batch="N"):
    """Conv -> Relu -> Reshape -> MatMul -> Add -> Relu -> Add(residual) -> Sigmoid: views, in-place, weights."""
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    shape = numpy_helper.from_array(np.array([0, -1], np.int64), "shape")
    fc = numpy_helper.from_array(rng.standard_normal((4 * 8 * 8, 16)).astype(np.float32) * 0.1, "fc")
    fcb = numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "fcb")
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "shape"], ["flat"], name="flatten"),
        helper.make_node("MatMul", ["flat", "fc"], ["m"], name="fc"),
        helper.make_node("Add", ["m", "fcb"], ["mb"], name="fc_bias"),
        helper.make_node("Relu", ["mb"], ["h"], name="relu2"),
        helper.make_node("Add", ["h", "mb"], ["res"], name="residual"),
        helper.make_node("Sigmoid", ["res"], ["y"], name="sigmoid"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph(nodes, "cnn", [x], [y], [w, b, shape, fc, fcb])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def reference(model, x):
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(model).run(None, {"x": x})[0]


@pytest.fixture
def built(tmp_path):
    model = tmp_path / "cnn.onnx"
    onnx.save(cnn_model(), model)
    engine = tmp_path / "cnn.ingot"
    proc = run("build", model, "-o", engine, "--shapes", "x:2x3x8x8")
    assert proc.returncode == 0, proc.stderr
    return model, engine


def test_engine_runs_like_the_model(built, tmp_path):
    model, engine = built
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = run("run", engine, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out" / "y.npy"), reference(onnx.load(model), x), rtol=1e-5, atol=1e-5)
    # Twice in a row gives the same result (the arena is reused, nothing stale is read).
    proc = run("run", engine, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out2")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "y.npy"), np.load(tmp_path / "out2" / "y.npy"))


def test_conv_weights_are_stored_packed(built, tmp_path):
    """Static-shape oneDNN convolutions keep W in the engine in the primitive's own format (u8 bytes), so that
    loading wraps it rather than reordering it; the loaded engine still runs like the model."""
    model, _ = built
    engine = tmp_path / "opt0.ingot"  # heuristics: oneDNN's convolution, whatever the timing would say
    assert run("build", model, "-o", engine, "--shapes", "x:2x3x8x8", "--opt-level", "0").returncode == 0
    x = np.random.default_rng(2).standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = run("run", engine, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(np.load(tmp_path / "out" / "y.npy"), reference(onnx.load(model), x), rtol=1e-5, atol=1e-5)
    layers = json.loads(run("inspect", engine, "--json", "-").stdout)["layers"]
    convs = [l for l in layers if l["tactic"].startswith("cpu.onednn.conv")]
    assert convs, layers
    for l in convs:
        assert l["inputs"][1].split(": ")[1].startswith("uint8["), l


def test_inspect_shows_layers_and_memory(built):
    _, engine = built
    proc = run("inspect", engine, "--json", "-")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [l["op"] for l in report["layers"]], report
    assert report["memory"]["arena_bytes"] > 0
    assert report["memory"]["arena_bytes"] <= report["memory"]["naive_bytes"]
    assert report["memory"]["dynamic_tensors"] == 0
    assert report["inputs"][0]["dims"] == [2, 3, 8, 8]
    text = run("inspect", engine)
    assert text.returncode == 0 and "memory: arena" in text.stdout and "naive sum" in text.stdout


def test_inspect_onnx_lists_unsupported_ops(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    g = helper.make_graph([helper.make_node("NoSuchOp", ["x"], ["y"], name="mystery")], "g", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(m, tmp_path / "bad.onnx")
    assert_error(run("inspect", tmp_path / "bad.onnx"), "NoSuchOp", "mystery")


def test_bench_json(built, tmp_path):
    _, engine = built
    out = tmp_path / "bench.json"
    proc = run("bench", engine, "--iterations", 5, "--duration", 0, "--warmup", 0, "--json", out)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    lat = r["latency_ms"]
    assert r["iterations"] >= 5 and r["throughput_qps"] > 0
    assert lat["min"] <= lat["median"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert "throughput:" in proc.stdout and "p99" in proc.stdout


def test_bench_onnx_directly(tmp_path):
    onnx.save(cnn_model(), tmp_path / "m.onnx")
    proc = run("bench", tmp_path / "m.onnx", "--shapes", "x:1x3x8x8", "--iterations", 3, "--duration", 0, "--warmup", 0)
    assert proc.returncode == 0, proc.stderr


def test_profile_accepts_range_and_refuses_outside(tmp_path):
    model = tmp_path / "cnn.onnx"
    onnx.save(cnn_model(), model)
    engine = tmp_path / "dyn.ingot"
    proc = run("build", model, "-o", engine, "--min-shapes", "x:1x3x8x8", "--opt-shapes", "x:2x3x8x8",
               "--max-shapes", "x:4x3x8x8")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(run("inspect", engine, "--json", "-").stdout)
    assert info["inputs"][0]["profile"] == {"min": [1, 3, 8, 8], "opt": [2, 3, 8, 8], "max": [4, 3, 8, 8]}
    # Memory is planned for the max shapes: every activation has a place.
    assert info["memory"]["dynamic_tensors"] == 0, info["memory"]
    ref_model = onnx.load(model)
    for batch in (1, 3, 4):
        x = np.random.default_rng(batch).standard_normal((batch, 3, 8, 8)).astype(np.float32)
        np.save(tmp_path / "x.npy", x)
        proc = run("run", engine, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / f"o{batch}")
        assert proc.returncode == 0, proc.stderr
        np.testing.assert_allclose(np.load(tmp_path / f"o{batch}" / "y.npy"), reference(ref_model, x), rtol=1e-5, atol=1e-5)
    np.save(tmp_path / "x5.npy", np.zeros((5, 3, 8, 8), np.float32))
    assert_error(run("run", engine, "--input", f"x={tmp_path / 'x5.npy'}", "--output-dir", tmp_path / "o5"),
                 "outside the engine's profile", "min 1x3x8x8", "max 4x3x8x8")


def test_profile_errors(tmp_path):
    model = tmp_path / "cnn.onnx"
    onnx.save(cnn_model(), model)
    out = tmp_path / "e.ingot"
    assert_error(run("build", model, "-o", out, "--min-shapes", "x:4x3x8x8", "--max-shapes", "x:1x3x8x8"),
                 "min <= opt <= max")
    assert_error(run("build", model, "-o", out, "--min-shapes", "x:1x3x8x8", "--max-shapes", "x:2x3x9x8"),
                 "dimension 2 fixed to 8")
    assert_error(run("build", model, "-o", out, "--min-shapes", "x:1x3x8x8"), "--max-shapes", code=2)
    assert not out.exists()


def test_failed_build_leaves_nothing(tmp_path):
    out = tmp_path / "e.ingot"
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    proc = run("build", tmp_path / "bad.onnx", "-o", out)
    assert proc.returncode == 1
    assert list(tmp_path.iterdir()) == [tmp_path / "bad.onnx"]


def test_failed_build_keeps_existing_engine(built, tmp_path):
    _, engine = built
    before = engine.read_bytes()
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    assert run("build", tmp_path / "bad.onnx", "-o", engine).returncode == 1
    assert engine.read_bytes() == before


# ---- bad engine files ----


def test_truncated_engine(built, tmp_path):
    _, engine = built
    data = engine.read_bytes()
    for cut in (4, 100, HEADER, len(data) // 2, len(data) - 1):
        p = tmp_path / f"cut{cut}.ingot"
        p.write_bytes(data[:cut])
        proc = run("run", p)
        assert proc.returncode == 1, (cut, proc.stderr)
        assert "truncated" in proc.stderr or "not an ingot engine" in proc.stderr, proc.stderr


def test_not_an_engine(tmp_path):
    p = tmp_path / "x.ingot"
    p.write_bytes(b"\0" * 1000)
    assert_error(run("inspect", p), "not an ingot engine")


def test_corrupted_byte_is_detected(built, tmp_path):
    _, engine = built
    data = bytearray(engine.read_bytes())
    for pos in (HEADER + 10, len(data) - 10, len(data) // 2):
        bad = bytearray(data)
        bad[pos] ^= 0x5A
        p = tmp_path / "bad.ingot"
        p.write_bytes(bytes(bad))
        assert_error(run("run", p), "corrupted", "rebuild the engine")


def patched(data, offset, text, width):
    out = bytearray(data)
    out[offset:offset + width] = text.encode().ljust(width, b"\0")
    return bytes(out)


def test_other_platform_is_refused(built, tmp_path):
    _, engine = built
    p = tmp_path / "other.ingot"
    p.write_bytes(patched(engine.read_bytes(), OFF_FINGERPRINT, "cpu; Some Other CPU; avx2 fma", 384))
    proc = run("run", p)
    assert_error(proc, "Some Other CPU", "this machine is", "rebuild the engine on this machine")


def test_other_version_is_refused(built, tmp_path):
    _, engine = built
    p = tmp_path / "old.ingot"
    p.write_bytes(patched(engine.read_bytes(), OFF_VERSION, "0.0.1", 32))
    assert_error(run("run", p), "ingot 0.0.1", "rebuild the engine on this machine")


def test_future_format_is_refused(built, tmp_path):
    _, engine = built
    data = bytearray(engine.read_bytes())
    data[8:12] = struct.pack("<I", 99)
    p = tmp_path / "future.ingot"
    p.write_bytes(bytes(data))
    assert_error(run("run", p), "format version 99")


def test_build_options_on_engine_are_usage_errors(built):
    _, engine = built
    assert_error(run("run", engine, "--shapes", "x:1x3x8x8"), "build options", code=2)


def if_model():
    """y = If(c) then x + 1 else x * 2: a layer with subgraphs that read an outer value."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    c = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])
    one = numpy_helper.from_array(np.ones(3, np.float32), "one")
    two = numpy_helper.from_array(np.full(3, 2, np.float32), "two")
    then_g = helper.make_graph([helper.make_node("Add", ["x", "one"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", TensorProto.FLOAT, [3])])
    else_g = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", TensorProto.FLOAT, [3])])
    node = helper.make_node("If", ["c"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)
    g = helper.make_graph([node], "g", [x, c], [y], [one, two])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def test_control_flow_runs_in_memory_but_is_not_saved(tmp_path):
    model = tmp_path / "if.onnx"
    onnx.save(if_model(), model)
    x = np.array([1, 2, 3], np.float32)
    np.save(tmp_path / "x.npy", x)
    for cond, want in ((True, x + 1), (False, x * 2)):
        np.save(tmp_path / "c.npy", np.array(cond))
        proc = run("run", model, "--input", f"x={tmp_path / 'x.npy'}", "--input", f"c={tmp_path / 'c.npy'}",
                   "--output-dir", tmp_path / "out")
        assert proc.returncode == 0, proc.stderr
        np.testing.assert_array_equal(np.load(tmp_path / "out" / "y.npy"), want)
    out = tmp_path / "if.ingot"
    assert_error(run("build", model, "-o", out), "branch", "If", "cannot be saved yet")
    assert not out.exists()


def test_several_processes_load_one_engine(built, tmp_path):
    """The engine file is mapped read-only: processes loading it at once all run it, with equal results."""
    _, engine = built
    x = np.random.default_rng(5).standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    procs = [subprocess.Popen([INGOT, "run", str(engine), "--input", f"x={tmp_path / 'x.npy'}", "--output-dir",
                               str(tmp_path / f"p{i}")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(6)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    first = np.load(tmp_path / "p0" / "y.npy")
    for i in range(1, 6):
        np.testing.assert_array_equal(np.load(tmp_path / f"p{i}" / "y.npy"), first)
