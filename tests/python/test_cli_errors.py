"""Bad input to `ingot run`: one clear line on stderr, exit code 1 (2 for usage), nothing half-written."""
import os
import pathlib
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from op_harness import INGOT


def run(*args, cwd=None):
    return subprocess.run([INGOT, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd)


def assert_error(proc, *fragments, code=1):
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, proc.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


def relu_model(extra_nodes=(), inputs=None, initializers=()):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")] + list(extra_nodes)
    g = helper.make_graph(nodes, "g", inputs or [x], [y], list(initializers))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


@pytest.fixture
def good(tmp_path):
    p = tmp_path / "good.onnx"
    onnx.save(relu_model(), p)
    x = tmp_path / "x.npy"
    np.save(x, np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32))
    return p, x


def test_good_model_runs(good, tmp_path):
    p, x = good
    proc = run("run", p, "--input", f"x={x}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "y.npy"), np.maximum(np.load(x), 0))


def test_missing_file(tmp_path):
    assert_error(run("run", tmp_path / "nope.onnx"), "nope.onnx", "no such file")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.onnx"
    p.write_bytes(b"")
    assert_error(run("run", p), "empty.onnx", "empty")


def test_random_bytes(tmp_path):
    p = tmp_path / "random.onnx"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert_error(run("run", p), "random.onnx")


def test_truncated_model(good, tmp_path):
    p, _ = good
    data = p.read_bytes()
    t = tmp_path / "truncated.onnx"
    t.write_bytes(data[: len(data) // 2])
    assert_error(run("run", t), "truncated.onnx")


def test_unsupported_ops_are_all_listed(tmp_path):
    m = relu_model([helper.make_node("FancyOpA", ["y"], ["z1"], name="first_bad", domain="my.domain"),
                    helper.make_node("FancyOpB", ["z1"], ["z2"], name="second_bad", domain="my.domain")])
    m.opset_import.append(helper.make_opsetid("my.domain", 1))
    p = tmp_path / "unsupported.onnx"
    onnx.save(m, p)
    proc = run("run", p)
    assert_error(proc, "FancyOpA", "first_bad", "FancyOpB", "second_bad")
    assert not (tmp_path / "y.npy").exists()


def test_cycle(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("b", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="n1"), helper.make_node("Relu", ["a"], ["b"], name="n2")]
    m = helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])
    p = tmp_path / "cycle.onnx"
    onnx.save(m, p)
    assert_error(run("run", p), "cycle")


def test_initializer_shorter_than_dims(tmp_path):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 4], raw_data=np.ones(3, np.float32).tobytes())
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [w])
    p = tmp_path / "short.onnx"
    # Written as raw bytes: onnx.save itself refuses such a model, ingot must too.
    p.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    assert_error(run("run", p), "short.onnx", "'w'", "needs 64 bytes")


def test_dims_product_overflows(tmp_path):
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 40, 1 << 40], raw_data=b"")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [w])
    p = tmp_path / "overflow.onnx"
    p.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    assert_error(run("run", p), "overflow.onnx", "'w'")


def test_missing_input_file(good, tmp_path):
    p, _ = good
    assert_error(run("run", p, "--input", f"x={tmp_path / 'absent.npy'}"), "absent.npy")


def test_wrong_shape(good, tmp_path):
    p, _ = good
    x = tmp_path / "bad.npy"
    np.save(x, np.ones((3, 2), np.float32))
    proc = run("run", p, "--input", f"x={x}", "--output-dir", tmp_path / "out")
    assert_error(proc, "'x'", "3x2", "fixed to 2")
    assert not (tmp_path / "out" / "y.npy").exists()


def test_wrong_dtype(good, tmp_path):
    p, _ = good
    x = tmp_path / "bad.npy"
    np.save(x, np.ones((2, 3), np.int32))
    assert_error(run("run", p, "--input", f"x={x}"), "'x'", "float32", "int32")


def test_unknown_input_name(good, tmp_path):
    p, x = good
    assert_error(run("run", p, "--input", f"nosuch={x}"), "nosuch")


def test_malformed_npy(good, tmp_path):
    p, _ = good
    x = tmp_path / "bad.npy"
    x.write_bytes(b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (2,")
    assert_error(run("run", p, "--input", f"x={x}"), "bad.npy")


def test_usage_error_exit_code(good):
    p, _ = good
    assert run("run", p, "--no-such-flag").returncode == 2
    assert run().returncode == 2
    assert_error(run("run", p, "--shapes", "x:2xq"), "--shapes", code=2)
    assert_error(run("run", p, "--input", "just_a_name"), "--input", code=2)


def external_model(tmp_path, location):
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w")
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("raw_data")
    for k, v in (("location", location), ("offset", "0"), ("length", "24")):
        e = w.external_data.add()
        e.key, e.value = k, v
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g", [x], [y], [w])
    d = tmp_path / "model_dir"
    d.mkdir(exist_ok=True)
    p = d / "ext.onnx"
    with open(p, "wb") as f:
        f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return p


def test_external_data_inside_folder_works(tmp_path):
    p = external_model(tmp_path, "weights.bin")
    (p.parent / "weights.bin").write_bytes(np.arange(6, dtype=np.float32).tobytes())
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 3), np.float32))
    proc = run("run", p, "--input", f"x={x}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "y.npy"), np.arange(6).reshape(2, 3) + 1)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_external_data_outside_folder_is_refused(tmp_path, kind):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(6, dtype=np.float32).tobytes())
    if kind == "dotdot":
        p = external_model(tmp_path, "../secret.bin")
    elif kind == "absolute":
        p = external_model(tmp_path, str(secret))
    else:
        p = external_model(tmp_path, "link.bin")
        os.symlink(secret, p.parent / "link.bin")
    assert_error(run("run", p), "'w'", "folder")


def write_raw_model(path, nodes, inputs, outputs, initializers=()):
    """Serialized without onnx.save's checks: the files here are bad on purpose."""
    g = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    path.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def test_tensor_over_the_cap(tmp_path):
    # 2^40 floats (4 TiB): the product fits int64, the size is over the 16 GiB default cap.
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20], raw_data=b"")
    p = write_raw_model(tmp_path / "huge.onnx", [helper.make_node("Add", ["x", "w"], ["y"])],
                        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    assert_error(run("run", p), "huge.onnx", "'w'", "tensor cap")


def test_short_initializer_is_refused_before_allocating(tmp_path):
    # 16 GiB of float32 (just at the cap) promised by a 100-byte file: refused from the sizes alone,
    # without allocating and zeroing 16 GiB first.
    n = (16 << 30) // 4
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[n], raw_data=b"abc")
    p = write_raw_model(tmp_path / "liar.onnx", [helper.make_node("Add", ["x", "w"], ["y"])],
                        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    proc = subprocess.run([INGOT, "run", str(p)], capture_output=True, text=True, timeout=20)
    assert_error(proc, "liar.onnx", "'w'", f"needs {n * 4} bytes", "has 3")


def test_typed_field_shorter_than_dims(tmp_path):
    w = helper.make_tensor("w", TensorProto.INT64, [3], [1, 2])  # int64_data with 2 values for 3
    p = write_raw_model(tmp_path / "short_typed.onnx", [helper.make_node("Add", ["x", "w"], ["y"])],
                        [helper.make_tensor_value_info("x", TensorProto.INT64, [3])],
                        [helper.make_tensor_value_info("y", TensorProto.INT64, None)], [w])
    assert_error(run("run", p), "short_typed.onnx", "'w'", "needs 3 values", "has 2")


def loop_model(path, trips):
    """A Loop with trip count `trips` and no condition, adding 1 to x each iteration."""
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "one"], ["acc_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1])],
        [numpy_helper.from_array(np.ones(1, np.float32), "one")])
    return write_raw_model(path, [helper.make_node("Loop", ["M", "", "x"], ["y"], body=body, name="loop")],
                           [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                           [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                           [numpy_helper.from_array(np.array(trips, np.int64), "M")])


def test_loop_trip_count_over_the_limit(tmp_path):
    x = tmp_path / "x.npy"
    np.save(x, np.zeros(1, np.float32))
    ok = run("run", loop_model(tmp_path / "loop5.onnx", 5), "--input", f"x={x}", "--output-dir", tmp_path / "out")
    assert ok.returncode == 0, ok.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "y.npy"), [5])
    # 10^12 iterations: refused up front (the default limit is 10^7), not run until the limit.
    proc = subprocess.run([INGOT, "run", str(loop_model(tmp_path / "loop_huge.onnx", 10**12)), "--input", f"x={x}"],
                          capture_output=True, text=True, timeout=20)
    assert_error(proc, "'loop'", "trip count 1000000000000", "limit")


def test_simplify_failure_keeps_the_existing_output(good, tmp_path):
    p, _ = good
    out = tmp_path / "out.onnx"
    out.write_bytes(b"precious")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x01garbage")
    assert_error(run("simplify", bad, out), "bad.onnx")
    assert out.read_bytes() == b"precious"
    # Onto a folder: the rename fails, nothing is left behind.
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    assert_error(run("simplify", p, folder), "folder.onnx")
    # Into a missing folder.
    assert_error(run("simplify", p, tmp_path / "missing" / "o.onnx"), "o.onnx")
    assert sorted(f.name for f in tmp_path.iterdir()) == ["bad.onnx", "folder.onnx", "good.onnx", "out.onnx", "x.npy"]
    assert list(folder.iterdir()) == []
    # A good run replaces it with a complete model.
    ok = run("simplify", p, out)
    assert ok.returncode == 0, ok.stderr
    onnx.checker.check_model(onnx.load(out))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["bad.onnx", "folder.onnx", "good.onnx", "out.onnx", "x.npy"]


@pytest.mark.parametrize("case,fragments", [
    ("undefined_input", ["'relu'", "reads 'nowhere'", "defines"]),
    ("defined_twice", ["'y' is defined twice"]),
    ("output_never_computed", ["graph output 'ghost' is never computed"]),
])
def test_graph_structure_errors(tmp_path, case, fragments):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    if case == "undefined_input":
        nodes, outs = [helper.make_node("Relu", ["nowhere"], ["y"], name="relu")], [y]
    elif case == "defined_twice":
        nodes, outs = [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Neg", ["x"], ["y"])], [y]
    else:
        nodes, outs = [helper.make_node("Relu", ["x"], ["y"])], [helper.make_tensor_value_info("ghost", TensorProto.FLOAT, None)]
    p = write_raw_model(tmp_path / f"{case}.onnx", nodes, [x], outs)
    assert_error(run("run", p), f"{case}.onnx", *fragments)


def test_unknown_element_type(tmp_path):
    w = TensorProto(name="w", data_type=99, dims=[1], raw_data=b"\0")
    p = write_raw_model(tmp_path / "dtype.onnx", [helper.make_node("Add", ["x", "w"], ["y"])],
                        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    assert_error(run("run", p), "dtype.onnx", "'w'", "data type 99", "does not know")


def test_external_data_file_missing(tmp_path):
    p = external_model(tmp_path, "absent.bin")
    assert_error(run("run", p), "'w'", "'absent.bin' not found")


def test_external_data_too_short(tmp_path):
    p = external_model(tmp_path, "short.bin")
    (p.parent / "short.bin").write_bytes(b"\0" * 10)
    assert_error(run("run", p), "'w'", "'short.bin' holds 10 bytes", "needed 24")


def test_input_of_unknown_rank_needs_a_shape(tmp_path):
    p = write_raw_model(tmp_path / "norank.onnx", [helper.make_node("Relu", ["x"], ["y"])],
                        [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)],
                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    assert_error(run("run", p), "input 'x'", "no known rank", "--shapes")


def test_unwritable_output(good, tmp_path):
    p, x = good
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"")
    assert_error(run("run", p, "--input", f"x={x}", "--output-dir", not_a_dir), "--output-dir")
    # The output's own path is a folder: the rename fails, no temporary file is left.
    out = tmp_path / "out"
    (out / "y.npy").mkdir(parents=True)
    assert_error(run("run", p, "--input", f"x={x}", "--output-dir", out), "y.npy", "cannot rename")
    assert [f.name for f in out.iterdir()] == ["y.npy"]


def test_engine_for_another_gpu_is_refused(good, tmp_path):
    """An engine whose fingerprint names another GPU is refused with the recorded and the local platform."""
    onnx_path, _ = good
    eng = tmp_path / "m.ingot"
    assert run("build", onnx_path, "-o", eng).returncode == 0
    data = bytearray(eng.read_bytes())
    at = data.index(b"cpu; ", 0, 512)
    other = b"cuda; NVIDIA Imaginary GPU; sm_75; driver 1; cudnn 1; cublasLt 1"
    end = data.index(b"\0", at)  # the fingerprint field is zero-padded far past either text
    assert all(b == 0 for b in data[end:at + len(other) + 1])
    data[at:at + len(other) + 1] = other + b"\0"
    eng.write_bytes(bytes(data))
    assert_error(run("run", eng), "engine built for 'cuda; NVIDIA Imaginary GPU; sm_75", "rebuild the engine")


def test_cuda_without_gpu_says_so(good, tmp_path):
    """--device cuda on a machine without a GPU (or an ingot without the backend) fails in one clear line."""
    onnx_path, _ = good
    proc = run("run", onnx_path, "--device", "cuda", "--output-dir", tmp_path)
    if proc.returncode == 0:
        pytest.skip("this machine has a CUDA GPU")
    assert_error(proc, "cuda")
    assert "no CUDA GPU" in proc.stderr or "built without that backend" in proc.stderr


@pytest.mark.parametrize("attr,value,message", [
    (None, None, None),  # the good views run
    ("q_view", [1, 2, 3, 4, 60, 24, 4, 8], "q_view: the view reaches past its source"),
    ("k_view", [1, 2, 3, 4, 0, 24, 4], "k_view must hold 6 or 8 values"),
    ("y_view", [1, 2, 3, 4, 0, 24, 4, -8], "y_view: a stride of the view is out of range"),
])
def test_attention_bad_views(tmp_path, attr, value, message):
    # ingot.Attention reading (1, 3, 24) through views (fold_attention_views' form) whose attribute is bad.
    views = {"q_view": [1, 2, 3, 4, 0, 24, 4, 24], "k_view": [1, 2, 3, 4, 8, 24, 4, 24],
             "v_view": [1, 2, 3, 4, 16, 24, 4, 24], "y_view": [1, 2, 3, 4, 0, 24, 4, 8]}
    if attr:
        views[attr] = value
    node = helper.make_node("Attention", ["p", "p", "p"], ["y"], name="att", domain="ingot", scale=0.5, k_transposed=0,
                            y_shape=[1, 3, 8], **views)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 3, 24])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ingot", 1)])
    m.ir_version = 8
    onnx.save(m, tmp_path / "m.onnx")
    proc = run("run", tmp_path / "m.onnx", "--output-dir", tmp_path / "out")
    if not attr:
        assert proc.returncode == 0, proc.stderr
        assert np.load(tmp_path / "out" / "y.npy").shape == (1, 3, 8)
        return
    assert_error(proc, "att", message)
    assert not (tmp_path / "out" / "y.npy").exists()
