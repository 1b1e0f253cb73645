import itertools
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int32, np.uint16, np.bool_]


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 20).astype(dtype)


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5), (1, 4, 1, 3), (3, 0, 2), (7,), ()])
@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose_all_perms(shape, dtype):
    x = rand(shape, dtype)
    check_op("Transpose", {"X": x}, ["Y"])  # default: reversed
    for perm in itertools.permutations(range(len(shape))):
        if not perm:
            continue  # a scalar has only the default (empty) perm, which onnx.helper cannot write
        check_op("Transpose", {"X": x}, ["Y"], attrs={"perm": list(perm)})


def test_transpose_large_4d():
    x = rand((2, 17, 9, 33), np.float32)
    for perm in [[0, 2, 3, 1], [0, 3, 1, 2], [3, 2, 1, 0], [1, 0, 2, 3]]:
        check_op("Transpose", {"X": x}, ["Y"], attrs={"perm": perm})


@pytest.mark.parametrize("perm", [[0, 0], [0], [0, 2], [0, 1, 2]])
def test_bad_perm_fails_cleanly(perm):
    x = rand((2, 3), np.float32)
    with pytest.raises(RuntimeError, match="Transpose"):
        check_op("Transpose", {"X": x}, ["Y"], attrs={"perm": perm}, expected={"Y": x})


# String tensors move through every data movement op. The harness insists on equal numpy dtypes, and
# ingot writes the narrowest '<U' width, so compare values here.
STRING_CASES = [
    ("Transpose", {"X": (2, 3)}, {}, {"perm": [1, 0]}),
    ("Reshape", {"X": (2, 3)}, {"S": np.array([3, -1], np.int64)}, {}),
    ("Concat", {"X": (2, 3), "Z": (2, 2)}, {}, {"axis": 1}),
    ("Gather", {"X": (4, 3)}, {"I": np.array([3, -4, 1], np.int64)}, {"axis": 0}),
    ("Slice", {"X": (5, 3)}, {"S": np.array([4], np.int64), "E": np.array([0], np.int64),
                              "A": np.array([0], np.int64), "T": np.array([-2], np.int64)}, {}),
    ("Expand", {"X": (3, 1)}, {"S": np.array([2, 3, 4], np.int64)}, {}),
    ("Tile", {"X": (2, 3)}, {"R": np.array([2, 2], np.int64)}, {}),
    ("Pad", {"X": (2, 3)}, {"P": np.array([1, 0, 0, 2], np.int64), "V": np.array("pad", dtype=object)}, {}),
    ("Pad", {"X": (2, 3)}, {"P": np.array([1, 1, 1, 1], np.int64)}, {"mode": "reflect"}),
    ("Squeeze", {"X": (1, 3)}, {}, {}),
    ("GatherElements", {"X": (3, 4)}, {"I": np.array([[3, 0], [1, 1], [2, -1]], np.int64)}, {"axis": 1}),
    ("ScatterND", {"X": (3, 2)}, {"I": np.array([[2], [0]], np.int64), "U": (2, 2)}, {}),
]


def rand_strings(shape, seed):
    rng = np.random.default_rng(seed)
    words = np.array(["", "a", "bb", "ccc", "héllo", "x" * 40], dtype=object)
    return words[rng.integers(0, len(words), size=shape)]


@pytest.mark.parametrize("op,data,consts,attrs", STRING_CASES)
def test_string_data_movement(op, data, consts, attrs, tmp_path):
    from onnx.reference import ReferenceEvaluator

    from op_harness import make_model, run_ingot

    inputs = {k: rand_strings(s, i).astype(str) for i, (k, s) in enumerate(data.items())}
    inits = {k: (rand_strings(v, 9).astype(str) if isinstance(v, tuple) else v) for k, v in consts.items()}
    model = make_model(op, {**inputs, **inits}, ["Y"], attrs, initializers=inits)
    want = ReferenceEvaluator(model).run(None, {k: v.astype(object) for k, v in inputs.items()})[0]
    got = run_ingot(model, inputs, tmp_path)["Y"]
    assert got.shape == want.shape
    assert got.astype(object).tolist() == np.asarray(want).astype(str).astype(object).tolist()
