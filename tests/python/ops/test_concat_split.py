import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

DTYPES = [np.float32, np.float16, np.int64, np.uint8, np.bool_]


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 20).astype(dtype)


CONCAT = [
    ([(2, 3), (2, 5)], 1),
    ([(2, 3), (2, 5)], -1),
    ([(2, 3), (4, 3), (1, 3)], 0),
    ([(2, 3, 4), (2, 1, 4), (2, 0, 4)], 1),
    ([(3,), (0,), (2,)], 0),
    ([(1, 2, 3, 4)], 2),
    ([(2, 2, 1), (2, 2, 3)], -1),
]


@pytest.mark.parametrize("shapes,axis", CONCAT)
@pytest.mark.parametrize("dtype", DTYPES)
def test_concat(shapes, axis, dtype):
    inputs = {f"X{i}": rand(s, dtype, seed=i) for i, s in enumerate(shapes)}
    check_op("Concat", inputs, ["Y"], attrs={"axis": axis})


def test_concat_with_constant_input():
    a = rand((2, 3), np.float32)
    b = rand((2, 4), np.float32, seed=1)
    check_op("Concat", {"A": a, "B": b}, ["Y"], attrs={"axis": 1}, initializers={"B": b})


SPLIT = [
    ((6,), 0, [2, 4]),
    ((6,), 0, None),
    ((2, 6), 1, [1, 2, 3]),
    ((2, 6), -1, None),
    ((5, 3), 0, [2, 0, 3]),
    ((4, 3, 2), 1, [3]),
]


@pytest.mark.parametrize("shape,axis,split", SPLIT)
@pytest.mark.parametrize("dtype", DTYPES)
def test_split(shape, axis, split, dtype):
    x = rand(shape, dtype)
    n = len(split) if split else 3 if shape[axis] % 3 == 0 else 2
    outs = [f"Y{i}" for i in range(n)]
    if split is None:
        check_op("Split", {"X": x}, outs, attrs={"axis": axis})
        check_op("Split", {"X": x}, outs, attrs={"axis": axis}, opset=11)
    else:
        s = np.array(split, dtype=np.int64)
        check_op("Split", {"X": x, "S": s}, outs, attrs={"axis": axis}, initializers={"S": s})
        check_op("Split", {"X": x, "S": s}, outs, attrs={"axis": axis})  # split known only at run time
        check_op("Split", {"X": x}, outs, attrs={"axis": axis, "split": split}, opset=11)


@pytest.mark.parametrize("dim,n", [(7, 3), (5, 2), (4, 4), (10, 3), (2, 3)])
def test_split_num_outputs_uneven(dim, n):
    x = rand((2, dim), np.float32)
    check_op("Split", {"X": x}, [f"Y{i}" for i in range(n)], attrs={"axis": 1, "num_outputs": n}, opset=18)


BAD = [
    ("Concat", {"A": ((2, 3), np.float32), "B": ((3, 3), np.float32)}, {"axis": 1}, 1),
    ("Concat", {"A": ((2, 3), np.float32), "B": ((2,), np.float32)}, {"axis": 0}, 1),
    ("Concat", {"A": ((2, 3), np.float32)}, {"axis": 2}, 1),
    ("Split", {"X": ((2, 6), np.float32), "S": np.array([2, 2], dtype=np.int64)}, {"axis": 1}, 2),
    ("Split", {"X": ((2, 6), np.float32), "S": np.array([-1, 7], dtype=np.int64)}, {"axis": 1}, 2),
    ("Split", {"X": ((2, 6), np.float32), "S": np.array([6], dtype=np.int64)}, {"axis": 1}, 2),
]


@pytest.mark.parametrize("op,inputs,attrs,nout", BAD)
def test_bad_input_fails_cleanly(op, inputs, attrs, nout):
    feeds = {k: (v if isinstance(v, np.ndarray) else rand(*v)) for k, v in inputs.items()}
    outs = [f"Y{i}" for i in range(nout)]
    with pytest.raises(RuntimeError, match=op):
        check_op(op, feeds, outs, attrs=attrs, expected={o: np.zeros(1) for o in outs})
