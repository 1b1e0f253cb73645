import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op

DTYPES = [np.float32, np.float16, np.int64, np.int8, np.bool_]


def rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.bool_:
        return rng.random(shape) > 0.5
    return (rng.standard_normal(shape) * 20).astype(dtype)


def rand_idx(shape, lo, hi, dtype=np.int64, seed=1):
    return np.random.default_rng(seed).integers(lo, hi, size=shape).astype(dtype)


GATHER = [((5, 4, 3), (2, 3), 0), ((5, 4, 3), (7,), 1), ((5, 4, 3), (), -1), ((5, 4, 3), (2, 0), 2),
          ((6,), (3, 2), 0), ((2, 9), (4,), -1)]


@pytest.mark.parametrize("shape,ishape,axis", GATHER)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("idtype", [np.int64, np.int32])
def test_gather(shape, ishape, axis, dtype, idtype):
    x = rand(shape, dtype)
    n = shape[axis]
    idx = rand_idx(ishape, -n, n, idtype)  # negative indices wrap
    # onnx.reference mis-shapes empty indices; np.take is the definition.
    want = {"Y": np.take(x, idx, axis=axis)} if idx.size == 0 else None
    check_op("Gather", {"X": x, "I": idx}, ["Y"], attrs={"axis": axis}, expected=want)


def test_gather_constant_indices():
    x = rand((10, 8), np.float32)
    idx = np.array([[9, -10], [0, 3]], np.int64)
    check_op("Gather", {"X": x, "I": idx}, ["Y"], attrs={"axis": 0}, initializers={"I": idx})


GATHER_ELEMENTS = [((4, 5), (4, 3), 1), ((4, 5), (2, 5), 0), ((3, 4, 5), (3, 2, 5), -2), ((3, 4, 5), (3, 4, 7), 2),
                   ((6,), (9,), 0)]


@pytest.mark.parametrize("shape,ishape,axis", GATHER_ELEMENTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_elements(shape, ishape, axis, dtype):
    x = rand(shape, dtype)
    n = shape[axis]
    idx = rand_idx(ishape, -n, n)
    check_op("GatherElements", {"X": x, "I": idx}, ["Y"], attrs={"axis": axis})


def test_gather_elements_indices_smaller_than_data():
    # Outside the axis, indices may be smaller than data (onnxruntime accepts it; onnx.reference does not).
    x = rand((3, 4, 5), np.float32)
    idx = rand_idx((1, 2, 7), -5, 5)
    want = np.take_along_axis(x[:1, :2, :], idx, axis=2)
    check_op("GatherElements", {"X": x, "I": idx}, ["Y"], attrs={"axis": 2}, expected={"Y": want})


def nd_indices(data_shape, batch_shape, k, b, seed=1):
    rng = np.random.default_rng(seed)
    cols = [rng.integers(-data_shape[b + t], data_shape[b + t], size=batch_shape) for t in range(k)]
    return np.stack(cols, axis=-1).astype(np.int64)


GATHER_ND = [((4, 5, 6), (3,), 2, 0), ((4, 5, 6), (2, 3), 1, 0), ((4, 5, 6), (7,), 3, 0),
             ((4, 5, 6), (4, 3), 1, 1), ((4, 5, 6), (4, 2), 2, 1), ((2, 3, 4, 5), (2, 3, 6), 1, 2)]


@pytest.mark.parametrize("shape,bshape,k,b", GATHER_ND)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.bool_])
def test_gather_nd(shape, bshape, k, b, dtype):
    x = rand(shape, dtype)
    idx = nd_indices(shape, bshape, k, b)
    check_op("GatherND", {"X": x, "I": idx}, ["Y"], attrs={"batch_dims": b})


REDUCE = {"none": lambda a, b: b, "add": lambda a, b: a + b, "mul": lambda a, b: a * b,
          "max": lambda a, b: max(a, b), "min": lambda a, b: min(a, b)}


def scatter_elements_ref(x, idx, upd, axis, reduction):
    """The spec's loop (onnx.reference ignores 'mul')."""
    out = x.copy()
    axis = axis % x.ndim
    for pos in np.ndindex(idx.shape):
        dst = list(pos)
        dst[axis] = idx[pos]
        out[tuple(dst)] = REDUCE[reduction](out[tuple(dst)], upd[pos])
    return out


def scatter_nd_ref(x, idx, upd, reduction):
    """The spec's loop (onnx.reference indexes max/min wrongly for tuples of more than one index)."""
    out = x.copy()
    for pos in np.ndindex(idx.shape[:-1]):
        dst = tuple(idx[pos])
        out[dst] = np.vectorize(REDUCE[reduction])(out[dst], upd[pos]) if reduction != "none" else upd[pos]
    return out


SCATTER_ELEMENTS = [((4, 5), (2, 3), 1), ((4, 5), (3, 5), 0), ((3, 4, 5), (2, 2, 2), -1), ((6,), (4,), 0)]


def unique_along(shape, ishape, axis, seed=1):
    """Indices without duplicates along `axis` (so 'none' has one right answer), some negative."""
    rng = np.random.default_rng(seed)
    n = shape[axis]
    idx = np.empty(ishape, np.int64)
    moved = np.moveaxis(idx, axis, -1)
    for pos in np.ndindex(moved.shape[:-1]):
        moved[pos] = rng.permutation(n)[: moved.shape[-1]] - n * rng.integers(0, 2, moved.shape[-1])
    return idx


@pytest.mark.parametrize("shape,ishape,axis", SCATTER_ELEMENTS)
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16])
@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
def test_scatter_elements(shape, ishape, axis, dtype, reduction):
    x = rand(shape, dtype)
    if reduction == "none":
        idx = unique_along(shape, ishape, axis)
    else:
        n = shape[axis]
        idx = rand_idx(ishape, -n, n)  # duplicates accumulate
    upd = rand(ishape, dtype, seed=2)
    tol = {"rtol": 1e-2, "atol": 1e-2} if dtype == np.float16 else {}
    want = {"Y": scatter_elements_ref(x, idx, upd, axis, reduction)}
    check_op("ScatterElements", {"X": x, "I": idx, "U": upd}, ["Y"], attrs={"axis": axis, "reduction": reduction},
             opset=18, expected=want, **tol)
    if reduction in ("none", "add"):
        check_op("ScatterElements", {"X": x, "I": idx, "U": upd}, ["Y"],
                 attrs={"axis": axis, "reduction": reduction}, opset=18, **tol)


def test_scatter_deprecated_alias():
    x = rand((4, 5), np.float32)
    idx = unique_along((4, 5), (4, 2), 1)
    upd = rand((4, 2), np.float32, seed=2)
    want = {"Y": scatter_elements_ref(x, idx, upd, 1, "none")}  # onnx.reference has no Scatter
    check_op("Scatter", {"X": x, "I": idx, "U": upd}, ["Y"], attrs={"axis": 1}, opset=10, expected=want)


def test_scatter_elements_bool():
    x = rand((3, 4), np.bool_)
    idx = unique_along((3, 4), (3, 2), 1)
    upd = rand((3, 2), np.bool_, seed=3)
    check_op("ScatterElements", {"X": x, "I": idx, "U": upd}, ["Y"], attrs={"axis": 1})


SCATTER_ND = [((8,), [[4], [3], [1], [7]]), ((4, 4, 4), [[0], [2]]), ((4, 4, 4), [[0, 1], [3, -1], [2, 2]]),
              ((4, 5), [[1, 2], [-4, 0]])]


@pytest.mark.parametrize("shape,indices", SCATTER_ND)
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("reduction", ["none", "add", "mul", "max", "min"])
def test_scatter_nd(shape, indices, dtype, reduction):
    x = rand(shape, dtype)
    idx = np.array(indices, np.int64)
    k = idx.shape[-1]
    upd = rand(idx.shape[:-1] + shape[k:], dtype, seed=2)
    want = {"Y": scatter_nd_ref(x, idx, upd, reduction)}
    check_op("ScatterND", {"X": x, "I": idx, "U": upd}, ["Y"], attrs={"reduction": reduction}, opset=18, expected=want)


BAD = [
    ("Gather", (5, 3), {"I": np.array([5], np.int64)}, {"axis": 0}),
    ("Gather", (5, 3), {"I": np.array([-6], np.int64)}, {"axis": 0}),
    ("Gather", (5, 3), {"I": np.array([0], np.int64)}, {"axis": 2}),
    ("Gather", (5, 3), {"I": np.array([1 << 40], np.int64)}, {"axis": 1}),
    ("GatherElements", (5, 3), {"I": np.array([[3]], np.int64)}, {"axis": 1}),
    ("GatherElements", (2, 3), {"I": np.zeros((3, 1), np.int64)}, {"axis": 1}),
    ("GatherND", (4, 5), {"I": np.array([[1, 5]], np.int64)}, {}),
    ("GatherND", (4, 5), {"I": np.array([[1, 2, 0]], np.int64)}, {}),
    ("ScatterElements", (4, 5), {"I": np.array([[9]], np.int64), "U": np.ones((1, 1), np.float32)}, {"axis": 1}),
    ("ScatterND", (4, 5), {"I": np.array([[4]], np.int64), "U": np.ones((1, 5), np.float32)}, {}),
    ("ScatterND", (4, 5), {"I": np.array([[1]], np.int64), "U": np.ones((1, 4), np.float32)}, {}),
]


@pytest.mark.parametrize("op,shape,extra,attrs", BAD)
def test_bad_input_fails_cleanly(op, shape, extra, attrs):
    x = rand(shape, np.float32)
    with pytest.raises(RuntimeError, match=op):
        check_op(op, {"X": x, **extra}, ["Y"], attrs=attrs, expected={"Y": x})
