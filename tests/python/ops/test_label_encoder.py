"""ai.onnx.ml LabelEncoder, opsets 2 and 4, against onnx.reference: string/int/float keys and values from
the list attributes and (opset 4) from tensors, explicit and implicit defaults, NaN keys, repeated keys."""
import pathlib
import tempfile

import numpy as np
import pytest
from onnx import helper
from onnx.reference import ReferenceEvaluator

from op_harness import make_model, run_ingot


def check(x, attrs, ml_opset=4, expected=None):
    model = make_model("LabelEncoder", {"X": x}, ["Y"], attrs=attrs, domain="ai.onnx.ml")
    for o in model.opset_import:
        if o.domain == "ai.onnx.ml":
            o.version = ml_opset
    if expected is None:
        expected = ReferenceEvaluator(model).run(None, {"X": x})[0]
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, {"X": x}, pathlib.Path(d))["Y"]
    want = np.asarray(expected)
    assert got.shape == want.shape
    if want.dtype.kind in "OU":
        assert [str(v) for v in got.reshape(-1)] == [str(v) for v in want.reshape(-1)]
    else:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


WORDS = np.array(["a", "b", "c", "zz", "", "b", "q"], dtype=np.str_)


@pytest.mark.parametrize("ml_opset", [2, 4])
@pytest.mark.parametrize("shape", [(7,), (2, 5), (0,)])
def test_string_to_int(ml_opset, shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.choice(WORDS, size=shape).astype(np.str_)
    check(x, {"keys_strings": ["a", "b", "c", ""], "values_int64s": [5, 6, 7, 8], "default_int64": 42}, ml_opset)
    check(x, {"keys_strings": ["a", "b", "c"], "values_int64s": [5, 6, 7]}, ml_opset)  # default -1


@pytest.mark.parametrize("ml_opset", [2, 4])
def test_int_to_string_and_float(ml_opset):
    x = np.random.default_rng(1).integers(-3, 6, size=(3, 4)).astype(np.int64)
    check(x, {"keys_int64s": [0, 1, 2, -3], "values_strings": ["zero", "one", "two", "m3"]}, ml_opset)
    check(x, {"keys_int64s": [0, 1, 2], "values_strings": ["zero", "one", "two"], "default_string": "?"}, ml_opset)
    check(x, {"keys_int64s": [0, 1, 5], "values_floats": [0.5, -1.25, 3.0], "default_float": 9.5}, ml_opset)


@pytest.mark.parametrize("ml_opset", [2, 4])
def test_float_keys(ml_opset):
    x = np.array([0.5, 1.5, np.nan, -2.0, 7.0, 1.5], dtype=np.float32)
    check(x, {"keys_floats": [0.5, 1.5, -2.0], "values_int64s": [1, 2, 3]}, ml_opset)
    # A NaN key matches NaN inputs; the reference's dict lookup does not, so the expectation is written out.
    check(x, {"keys_floats": [0.5, float("nan")], "values_int64s": [1, 9]}, ml_opset,
          expected=np.array([1, -1, 9, -1, -1, -1], dtype=np.int64))


def test_repeated_key_last_wins():
    x = np.array(["a", "b", "a"], dtype=np.str_)
    check(x, {"keys_strings": ["a", "b", "a"], "values_int64s": [1, 2, 3]})


@pytest.mark.parametrize("kdt,vdt", [(np.int32, np.int16), (np.int16, np.float64), (np.float64, np.int32),
                                     ("str", np.int32), (np.int64, "str")])
def test_tensor_mapping(kdt, vdt):
    rng = np.random.default_rng(2)
    keys = np.arange(5) * 3 - 4
    values = rng.integers(-50, 50, size=5)

    def arr(v, dt):
        return np.array([f"s{i}" for i in v], dtype=np.str_) if dt == "str" else np.asarray(v).astype(dt)

    default = arr([77], vdt)
    attrs = {"keys_tensor": helper.make_tensor("k", *_tensor_args(arr(keys, kdt))),
             "values_tensor": helper.make_tensor("v", *_tensor_args(arr(values, vdt))),
             "default_tensor": helper.make_tensor("d", *_tensor_args(default))}
    x = arr(rng.choice(np.concatenate([keys, [100, -100]]), size=(3, 3)), kdt)
    check(x, attrs)


def _tensor_args(a):
    if a.dtype.kind == "U":
        return helper.TensorProto.STRING, a.shape, [s.encode() for s in a]
    return helper.np_dtype_to_tensor_dtype(a.dtype), a.shape, a.tolist()


def test_key_type_mismatch():
    x = np.array([1, 2], dtype=np.int64)
    with pytest.raises(RuntimeError, match="differs from the keys' type"):
        check(x, {"keys_strings": ["a"], "values_int64s": [1]}, expected=x)
