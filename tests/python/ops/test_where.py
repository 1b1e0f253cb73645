import numpy as np
import pytest

from op_harness import check_op

# (condition, X, Y) shapes: same, broadcast each way, scalars, empty, BERT-style attention masks.
SHAPES = [
    ((2, 3), (2, 3), (2, 3)),
    ((3, 1), (1, 4), (3, 4)),
    ((2, 1, 5), (5,), ()),
    ((), (2, 3), (1, 3)),
    ((4,), (3, 1), (2, 1, 1)),
    ((0, 3), (3,), (1, 3)),
    ((2, 1, 1, 7), (2, 3, 7, 7), ()),
    ((7,), (), ()),
]


def rand(rng, shape, dtype):
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype == np.str_:
        words = np.array(["a", "bc", "", "déf", "ghij"])
        return words[rng.integers(0, len(words), shape)]
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), shape, endpoint=True).astype(dtype)
    return (rng.standard_normal(shape) * 10).astype(dtype)


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64, np.int64, np.int32, np.int8, np.uint8,
                                   np.uint16, np.bool_])
def test_where(shapes, dtype):
    rng = np.random.default_rng(1)
    c = rng.random(shapes[0]) < 0.5
    check_op("Where", {"C": c, "X": rand(rng, shapes[1], dtype), "Y": rand(rng, shapes[2], dtype)}, ["Z"])


@pytest.mark.parametrize("shapes", SHAPES[:5])
def test_where_strings(shapes):
    rng = np.random.default_rng(2)
    c = rng.random(shapes[0]) < 0.5
    x, y = rand(rng, shapes[1], np.str_), rand(rng, shapes[2], np.str_)
    # Re-inferred so the width is the longest string present, as ingot writes it (np.where keeps the inputs').
    expected = np.array(np.where(c, x, y).tolist(), dtype=np.str_)
    got = check_op("Where", {"C": c, "X": x, "Y": y}, ["Z"], expected={"Z": expected})
    assert got["Z"].tolist() == expected.tolist()


def test_where_bad_shapes():
    rng = np.random.default_rng(3)
    with pytest.raises(RuntimeError, match="broadcast"):
        check_op("Where", {"C": rng.random((2, 3)) < 0.5, "X": rand(rng, (4,), np.float32),
                           "Y": rand(rng, (2, 3), np.float32)}, ["Z"], expected={"Z": np.zeros((2, 3))})


def test_where_non_bool_condition():
    rng = np.random.default_rng(4)
    with pytest.raises(RuntimeError, match="condition"):
        check_op("Where", {"C": rand(rng, (2, 3), np.float32), "X": rand(rng, (2, 3), np.float32),
                           "Y": rand(rng, (2, 3), np.float32)}, ["Z"], expected={"Z": np.zeros((2, 3))})
