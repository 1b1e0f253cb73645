"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): tiny valid models and .npy files
that reach the importer's, the simplify passes' and the .npy reader's main paths. The files are committed;
run this again only to change the seeds (crash regressions are added beside them by hand).

    .venv/bin/python tests/fuzz/make_corpus.py
"""
import io
import pathlib
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="fuzz")
    m.ir_version = 8
    # Give the outputs the types ONNX infers, so that every seed passes onnx.checker.
    inferred = {o.name: o.type for o in onnx.shape_inference.infer_shapes(m, strict_mode=True).graph.output}
    for o in m.graph.output:
        if not o.type.tensor_type.HasField("shape"):
            o.type.CopyFrom(inferred[o.name])
    return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def onnx_seeds():
    x = vi("x", F, [2, 3])
    y = vi("y", F, None)
    seeds = {}
    seeds["relu"] = model([helper.make_node("Relu", ["x"], ["y"])], [x], [y])
    seeds["add_init"] = model([helper.make_node("Add", ["x", "w"], ["y"])], [x], [y],
                              [const("w", np.arange(6, dtype=np.float32).reshape(2, 3))])
    # Shape -> Gather -> Concat -> Reshape: the chain simplify folds under known shapes.
    seeds["shape_chain"] = model([
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["d0"], axis=0),
        helper.make_node("Unsqueeze", ["d0", "ax"], ["d0u"]),
        helper.make_node("Concat", ["d0u", "m1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ], [vi("x", F, ["batch", 3])], [y], [const("i0", np.int64(0)), const("ax", np.array([0], np.int64)),
                                         const("m1", np.array([-1], np.int64))])
    # Constant folding over integer arithmetic, Cast and a Constant node.
    seeds["int_fold"] = model([
        helper.make_node("Constant", [], ["c"], value=const("cv", np.array([7, -3, 2**62], np.int64))),
        helper.make_node("Mul", ["c", "c"], ["m"]),
        helper.make_node("Sub", ["m", "c"], ["s"]),
        helper.make_node("Neg", ["s"], ["n"]),
        helper.make_node("Abs", ["n"], ["a"]),
        helper.make_node("Cast", ["a"], ["cf"], to=F),
        helper.make_node("Add", ["x3", "cf"], ["y"]),
    ], [vi("x3", F, [3])], [y])
    seeds["conv"] = model([helper.make_node("Conv", ["xc", "wc", "bc"], ["y"], pads=[1, 1, 1, 1])],
                          [vi("xc", F, [1, 1, 4, 4])], [y],
                          [const("wc", np.ones((2, 1, 3, 3), np.float32)), const("bc", np.zeros(2, np.float32))])
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "one"], ["acc_out"]), helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [vi("i", I64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in", F, [1])],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", F, [1])], [const("one", np.ones(1, np.float32))])
    seeds["loop"] = model([helper.make_node("Loop", ["trips", "", "acc0"], ["y"], body=body)],
                          [], [vi("y", F, [1])], [const("trips", np.int64(3)), const("acc0", np.zeros(1, np.float32))])
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [], [vi("t", F, None)])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [], [vi("e", F, None)])
    seeds["if"] = model([helper.make_node("If", ["flag"], ["y"], then_branch=then_g, else_branch=else_g)],
                        [x], [y], [const("flag", np.array(True))])
    seeds["slice_transpose_matmul"] = model([
        helper.make_node("Slice", ["x", "st", "en", "axs"], ["sl"]),
        helper.make_node("Transpose", ["sl"], ["tr"], perm=[1, 0]),
        helper.make_node("MatMul", ["sl", "tr"], ["y"]),
    ], [x], [y], [const("st", np.array([0], np.int64)), const("en", np.array([2], np.int64)),
                  const("axs", np.array([1], np.int64))])
    seeds["reduce_softmax_opset11"] = model([
        helper.make_node("ReduceSum", ["x"], ["r"], axes=[1], keepdims=1),
        helper.make_node("Softmax", ["r"], ["y"], axis=0),
    ], [x], [y], opset=11)
    seeds["concat_split_expand"] = model([
        helper.make_node("Concat", ["x", "x"], ["c"], axis=0),
        helper.make_node("Split", ["c"], ["s0", "s1"], axis=1, num_outputs=2),
        helper.make_node("Expand", ["s0", "es"], ["y"]),
    ], [x], [y], [const("es", np.array([2, 4, 1], np.int64))], opset=18)
    return seeds


def npy_bytes(array, **kw):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, **kw)
    return buf.getvalue()


def npy_seeds():
    rng = np.random.default_rng(0)
    seeds = {
        "f32_2x3": np.arange(6, dtype=np.float32).reshape(2, 3),
        "f16": rng.standard_normal(5).astype(np.float16),
        "f64_scalar": np.float64(3.5),
        "i8": np.array([-128, 0, 127], np.int8),
        "i64_big_endian": np.array([1, -2, 3], ">i8"),
        "u16": np.array([0, 65535], np.uint16),
        "bool": np.array([True, False, True]),
        "c64": np.array([1 + 2j], np.complex64),
        "unicode": np.array(["ab", "\u00e9\u4e2d"]),
        "bytes": np.array([b"x", b"yz"]),
        "fortran_2x3": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        "empty_0x4": np.zeros((0, 4), np.float32),
    }
    out = {name: npy_bytes(a) for name, a in seeds.items()}
    out["v2_header"] = npy_bytes(np.arange(3, dtype=np.uint32), version=(2, 0))
    return out


def main():
    d = HERE / "corpus" / "fuzz_onnx_import"
    d.mkdir(parents=True, exist_ok=True)
    for name, m in onnx_seeds().items():
        (d / f"{name}.onnx").write_bytes(m.SerializeToString())
    d = HERE / "corpus" / "fuzz_npy"
    d.mkdir(parents=True, exist_ok=True)
    for name, b in npy_seeds().items():
        (d / f"{name}.npy").write_bytes(b)
    # Engine seeds: the model seeds that build, built by this checkout's ingot (rebuild them when the
    # engine format changes; the fuzz target skips the platform and checksum checks).
    d = HERE / "corpus" / "fuzz_engine_load"
    d.mkdir(parents=True, exist_ok=True)
    ingot = HERE.parents[1] / "build" / "bin" / "ingot"
    for f in sorted((HERE / "corpus" / "fuzz_onnx_import").glob("*.onnx")):
        subprocess.run([str(ingot), "build", str(f), "-o", str(d / (f.stem + ".ingot"))], capture_output=True)


if __name__ == "__main__":
    main()
