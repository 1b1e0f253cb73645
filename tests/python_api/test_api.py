"""The Python API on the example model: build options, errors, threads and the GIL, DLPack, inspect and
simplify."""

import json
import os
import re
import subprocess
import sys
import threading

import numpy as np
import onnx
import pytest
import torch

import ingot
from api_util import CLI, REPO, TINY, rel_err


def random_input(seed, batch=1):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, 3, 32, 32)).astype(np.float32)


def cli_error(*args):
    """The one line `ingot` prints for an error, without its 'ingot: error: ' prefix."""
    proc = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    assert proc.returncode in (1, 2), proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("ingot: error: "), line
    return line[len("ingot: error: "):]


# ---------------------------------------------------------------------------------------------------
# build, run, save, load
# ---------------------------------------------------------------------------------------------------


def test_tiny_model_agrees_with_onnxruntime(tiny_engine, tiny_input, tiny_ort):
    assert tiny_engine.input_names == ["input"] and tiny_engine.output_names == ["logits"]
    assert tiny_engine.inputs[0].dtype == "float32" and tiny_engine.inputs[0].dims == [1, 3, 32, 32]
    out = tiny_engine.create_context().run({"input": tiny_input})
    assert list(out) == ["logits"] and out["logits"].shape == (1, 10)
    assert rel_err(out["logits"], tiny_ort.run(None, {"input": tiny_input})[0]) <= 1e-4


def test_build_from_bytes_modelproto_and_config_agree(tiny_input):
    data = TINY.read_bytes()
    cfg = ingot.BuildConfig()
    cfg.shapes = {"input": [1, 3, 32, 32]}
    cfg.opt_level = 0
    a = ingot.build(data, cfg).create_context().run({"input": tiny_input})["logits"]
    b = ingot.build(onnx.load(str(TINY)), shapes={"input": "1x3x32x32"}, opt_level=0)
    assert np.array_equal(a, b.create_context().run({"input": tiny_input})["logits"])
    assert b.inputs[0].dims == [1, 3, 32, 32]


# CLI flags whose keyword is spelt otherwise in Python (the BuildConfig field's name).
KEYWORD_OF_FLAG = {"disable_pass": "disabled_passes"}


def test_every_build_flag_of_the_cli_is_a_keyword():
    text = subprocess.run([CLI, "build", "--help"], capture_output=True, text=True, check=True).stdout
    flags = set(re.findall(r"^\s+(?:-\w,)?--([a-z0-9-]+)", text, re.M)) - {"help", "output"}
    assert {"shapes", "opt-level", "threads"} <= flags
    keywords = set(ingot._config_fields()) | set(ingot._EXTRA_KEYWORDS)
    missing = {f for f in flags if KEYWORD_OF_FLAG.get(f.replace("-", "_"), f.replace("-", "_")) not in keywords}
    assert not missing, "ingot build flags with no keyword in ingot.build: %s" % sorted(missing)


def test_profile_keywords(tiny_ort):
    engine = ingot.build(TINY, min_shapes={"input": (1, 3, 32, 32)}, opt_shapes={"input": (2, 3, 32, 32)},
                         max_shapes={"input": (4, 3, 32, 32)}, opt_level=0)
    assert engine.profile["input"] == ingot.ShapeRange([1, 3, 32, 32], [2, 3, 32, 32], [4, 3, 32, 32])
    ctx = engine.create_context()
    for batch in (1, 3, 4):
        x = random_input(batch, batch)
        assert rel_err(ctx.run({"input": x})["logits"], tiny_ort.run(None, {"input": x})[0]) <= 1e-4
    with pytest.raises(ingot.Error, match="input 'input'"):
        ctx.run({"input": random_input(0, 5)})  # over the profile's max


def test_save_and_load(tiny_engine, tiny_input, tmp_path):
    path = tmp_path / "tiny.ingot"
    tiny_engine.save(str(path))
    loaded = ingot.load(str(path))
    assert loaded.input_names == ["input"] and loaded.source == tiny_engine.source
    expected = tiny_engine.create_context().run({"input": tiny_input})["logits"]
    assert np.array_equal(loaded.create_context().run({"input": tiny_input})["logits"], expected)


def test_threads_option_sets_this_threads_pool():
    before = ingot.num_threads()
    try:
        ingot.build(TINY, shapes={"input": (1, 3, 32, 32)}, opt_level=0, threads=1)
        assert ingot.num_threads() == 1
    finally:
        ingot.set_num_threads(before)


def test_from_torch_small_module_with_dynamic_batch():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(8 * 8 * 8, 5))
    module.train()  # from_torch exports in eval mode and leaves the module's mode as it was
    engine = ingot.from_torch(module, torch.randn(1, 3, 8, 8), dynamic_axes={"input": {0: "n"}}, opt_level=0)
    assert module.training and engine.input_names == ["input"] and engine.output_names == ["output"]
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        expected = module.eval()(x).numpy()
    assert rel_err(engine.create_context().run({"input": x})["output"], expected) <= 1e-4


# ---------------------------------------------------------------------------------------------------
# errors: ingot.Error with the CLI's one-line message
# ---------------------------------------------------------------------------------------------------


def test_error_is_an_exception_class():
    assert issubclass(ingot.Error, Exception)


def test_missing_file_message_is_the_clis(tmp_path):
    missing = tmp_path / "missing.onnx"
    with pytest.raises(ingot.Error) as e:
        ingot.build(missing)
    assert str(missing) in str(e.value) and "\n" not in str(e.value)
    assert str(e.value) == cli_error("build", missing, "-o", tmp_path / "m.ingot")


def test_unknown_pass_message_is_the_clis(tmp_path):
    with pytest.raises(ingot.Error) as e:
        ingot.build(TINY, disabled_passes="no_such_pass")
    assert "no pass named 'no_such_pass'" in str(e.value)
    assert str(e.value) == cli_error("build", TINY, "-o", tmp_path / "m.ingot", "--disable-pass", "no_such_pass")


def test_bad_bytes():
    with pytest.raises(ingot.Error, match="<memory>"):
        ingot.build(b"this is not an onnx model")


def test_engine_file_errors(tmp_path):
    bad = tmp_path / "bad.ingot"
    bad.write_bytes(b"INGOTENG" + b"\0" * 10)
    with pytest.raises(ingot.Error, match="bad.ingot"):
        ingot.load(str(bad))
    with pytest.raises(ingot.Error, match="build options apply when building from ONNX"):
        ingot.inspect(str(bad), opt_level=0)


def test_run_errors(tiny_engine, tiny_input):
    ctx = tiny_engine.create_context()
    with pytest.raises(ingot.Error, match="input 'input' must be float32, got float64"):
        ctx.run({"input": tiny_input.astype(np.float64)})
    with pytest.raises(ingot.Error, match="input"):
        ctx.run({})
    with pytest.raises(ingot.Error, match="input 'input'"):
        ctx.run({"input": np.zeros((1, 3, 16, 16), np.float32)})
    with pytest.raises(TypeError, match="input 'input': expected an array"):
        ctx.run({"input": [1.0, 2.0]})
    with pytest.raises(TypeError):
        ctx.run({0: tiny_input})
    # The context still works after the errors.
    assert ctx.run({"input": tiny_input})["logits"].shape == (1, 10)


def test_option_errors():
    with pytest.raises(TypeError, match="unknown build option.*fp17.*opt_level"):
        ingot.build(TINY, fp17=True)
    with pytest.raises(ingot.Error, match="input 'input': a profile needs both min_shapes and max_shapes"):
        ingot.build(TINY, min_shapes={"input": (1, 3, 32, 32)})
    with pytest.raises(ValueError, match="bad dimensions"):
        ingot.build(TINY, shapes={"input": "1x3xQ"})
    with pytest.raises(TypeError, match="model: expected a path"):
        ingot.build(42)


# ---------------------------------------------------------------------------------------------------
# threads and the GIL
# ---------------------------------------------------------------------------------------------------


def test_contexts_in_several_threads(tiny_engine):
    inputs = [random_input(i) for i in range(8)]
    ref_ctx = tiny_engine.create_context()
    expected = [ref_ctx.run({"input": x})["logits"].copy() for x in inputs]
    shared = tiny_engine.create_context()
    results, errors = {}, []

    def work(t):
        try:
            own = tiny_engine.create_context()
            for rep in range(5):
                for i, x in enumerate(inputs):
                    ctx = shared if (i + t + rep) % 2 else own  # one context shared by all, one each
                    results[(t, rep, i)] = ctx.run({"input": x})["logits"]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len(results) == 4 * 5 * len(inputs)
    for (t, rep, i), out in results.items():
        assert np.array_equal(out, expected[i]), (t, rep, i)


def gil_released_during(call, repeat):
    """True when `call`, made `repeat` times in a second thread, lets this thread run before the last returns.

    With a switch interval of 1000 s the worker keeps the GIL until it blocks or releases it itself, so
    this thread runs again only at a release of the worker's; `done` tells whether that was before the
    end. The repeats give this thread time to wake and wait for the GIL while the calls go on."""
    state = {"done": False}
    started = threading.Event()

    def worker():
        started.set()
        for _ in range(repeat):
            call()
        state["done"] = True

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000)
    try:
        th = threading.Thread(target=worker)
        th.start()
        started.wait()
        released = not state["done"]
    finally:
        sys.setswitchinterval(old)
    th.join()
    return released


def test_gil_released_while_building_and_running(tiny_engine, tiny_input):
    data = TINY.read_bytes()
    assert gil_released_during(lambda: ingot.build(data, opt_level=0), repeat=20)
    ctx = tiny_engine.create_context()
    assert gil_released_during(lambda: ctx.run({"input": tiny_input}), repeat=50)


# ---------------------------------------------------------------------------------------------------
# DLPack and zero copies
# ---------------------------------------------------------------------------------------------------


def test_inputs_are_used_where_they_lie(tiny_input):
    t = torch.from_numpy(tiny_input.copy())
    assert ingot._ingot._input_address(t) == t.data_ptr()
    assert ingot._ingot._input_address(tiny_input) == tiny_input.ctypes.data
    capsule = t.__dlpack__()
    assert ingot._ingot._input_address(capsule) == t.data_ptr()


def test_dlpack_inputs_and_outputs(tiny_engine, tiny_input, tiny_ort):
    ctx = tiny_engine.create_context()
    expected = tiny_ort.run(None, {"input": tiny_input})[0]
    t = torch.from_numpy(tiny_input.copy())
    for feed in (t, torch.utils.dlpack.to_dlpack(t)):
        assert rel_err(ctx.run({"input": feed})["logits"], expected) <= 1e-4
    # A non-contiguous view is copied into C order by its framework first.
    wide = np.ascontiguousarray(np.concatenate([tiny_input, tiny_input], axis=3))
    view = wide[:, :, :, ::2]
    assert not view.flags.c_contiguous
    assert rel_err(ctx.run({"input": view})["logits"], tiny_ort.run(None, {"input": np.ascontiguousarray(view)})[0]) <= 1e-4
    out = ctx.run({"input": tiny_input})["logits"]
    assert out.flags.writeable and out.flags.c_contiguous
    as_torch = torch.from_dlpack(out)
    assert as_torch.data_ptr() == out.ctypes.data and as_torch.shape == (1, 10)
    as_numpy = np.from_dlpack(out)
    assert as_numpy.ctypes.data == out.ctypes.data
    # The output's memory is its own: another run does not change it.
    kept = out.copy()
    ctx.run({"input": random_input(3)})
    assert np.array_equal(out, kept)


# ---------------------------------------------------------------------------------------------------
# inspect and simplify
# ---------------------------------------------------------------------------------------------------


def test_inspect_objects_and_json(tiny_engine, tmp_path):
    info = ingot.inspect(tiny_engine)
    layers = tiny_engine.layers
    assert len(layers) == len(info["layers"]) > 0
    assert all(isinstance(l, ingot.LayerInfo) for l in layers)
    assert any("Relu:" in " ".join(l.fused) for l in layers)  # conv + relu fused
    m = tiny_engine.memory
    assert 0 < m.arena_bytes <= m.naive_bytes and info["memory"]["arena_bytes"] == m.arena_bytes
    path = tmp_path / "tiny.ingot"
    tiny_engine.save(str(path))
    from_file = ingot.inspect(str(path))
    cli = json.loads(subprocess.run([CLI, "inspect", str(path), "--json", "-"], capture_output=True, text=True,
                                    check=True).stdout)
    assert from_file == cli
    assert from_file["layers"] == info["layers"]


def test_simplify_bytes_and_file(tiny_ort, tiny_input, tmp_path):
    data, report = ingot.simplify(TINY)
    assert report["nodes_after"] <= report["nodes_before"] and report["ops_after"]
    import onnxruntime as ort

    sim = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert rel_err(sim.run(None, {"input": tiny_input})[0], tiny_ort.run(None, {"input": tiny_input})[0]) <= 1e-5
    out = tmp_path / "tiny.sim.onnx"
    report2 = ingot.simplify(str(TINY), out, input_shapes={"input": (2, 3, 32, 32)})
    assert report2["nodes_after"] == report["nodes_after"]
    assert [d.dim_value for d in onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim] == [2, 3, 32, 32]
    with pytest.raises(ingot.Error, match="'nope', which is not a model input"):
        ingot.simplify(TINY, input_shapes={"nope": (1,)})


def test_outputs_never_alias_inputs_or_weights():
    from onnx import TensorProto, helper, numpy_helper

    const = np.arange(6, dtype=np.float32).reshape(2, 3)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["same"]),
         helper.make_node("Reshape", ["x", "shape"], ["flat"]),
         helper.make_node("Relu", ["x"], ["relu"])],
        "aliases",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("same", "flat", "relu", "const")],
        initializer=[numpy_helper.from_array(np.array([6], np.int64), "shape"),
                     numpy_helper.from_array(const, "const")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    ctx = ingot.build(model.SerializeToString(), opt_level=0).create_context()
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3)).astype(np.float32)
    x_before = x.copy()
    out = ctx.run({"x": x})
    assert np.array_equal(out["same"], x) and np.array_equal(out["flat"], x.reshape(6))
    assert np.array_equal(out["relu"], np.maximum(x, 0)) and np.array_equal(out["const"], const)
    for name, arr in out.items():
        arr[...] = 42  # the caller's to write
    assert np.array_equal(x, x_before)
    assert np.array_equal(ctx.run({"x": x})["const"], const)
