"""Einsum against onnx.reference (numpy.einsum)."""
import numpy as np
import pytest

from op_harness import check_op

CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),  # implicit output
    ("ji", [(3, 4)]),  # implicit: labels sorted, so a transpose
    ("ij->ji", [(3, 4)]),
    ("ii->i", [(4, 4)]),  # diagonal
    ("ii", [(5, 5)]),  # trace
    ("ij->", [(3, 4)]),
    ("i,i", [(6,), (6,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 5)]),  # ellipsis dims broadcast
    ("...ii->...i", [(3, 4, 4)]),  # batch diagonal
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("...j,j", [(2, 3, 4), (4,)]),  # implicit with ellipsis
    ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)]),
    ("Ab,bC", [(2, 3), (3, 4)]),  # upper case sorts before lower case
    ("iij->ij", [(3, 3, 2)]),
    ("ij,jk->ik", [(0, 4), (4, 5)]),  # empty output
    ("ij,jk->ik", [(3, 0), (0, 5)]),  # empty sum: zeros
    ("i , i -> ", [(4,), (4,)]),  # spaces
]


@pytest.mark.parametrize("eq,shapes", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_einsum(eq, shapes, dtype):
    rng = np.random.default_rng(0)
    inputs = {}
    for i, s in enumerate(shapes):
        v = rng.standard_normal(s) * (10 if np.issubdtype(dtype, np.integer) else 1)
        inputs[f"x{i}"] = v.astype(dtype)
    check_op("Einsum", inputs, ["Y"], attrs={"equation": eq}, rtol=1e-5, atol=1e-5)


def test_einsum_float16():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 8)).astype(np.float16), rng.standard_normal((8, 2)).astype(np.float16)
    want = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float16)
    check_op("Einsum", {"a": a, "b": b}, ["Y"], attrs={"equation": "ij,jk->ik"}, rtol=1e-2, atol=1e-2,
             expected={"Y": want})


@pytest.mark.parametrize("eq,shapes,msg", [
    ("ij,jk->ik", [(3, 4), (5, 6)], "size"),
    ("ij->ik", [(3, 4)], "not in any input"),
    ("ijk", [(3, 4)], "does not match"),
    ("ij,jk", [(3, 4)], "input terms"),
    ("i1", [(3, 4)], "invalid character"),
])
def test_einsum_bad(eq, shapes, msg):
    rng = np.random.default_rng(2)
    inputs = {f"x{i}": rng.standard_normal(s).astype(np.float32) for i, s in enumerate(shapes)}
    with pytest.raises(RuntimeError, match=msg):
        check_op("Einsum", inputs, ["Y"], attrs={"equation": eq}, expected={"Y": np.zeros(1, np.float32)})
