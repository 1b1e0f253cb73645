import numpy as np
import pytest

from op_harness import check_op

SHAPES = [((2, 3), (2, 3)), ((2, 3, 4), (4,)), ((1, 3, 1), (2, 1, 5)), ((0, 3), (3,)), ((), (2, 2)), ((5,), ())]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-6), (np.float64, 1e-12), (np.float16, 1e-3)])
def test_pow_float(shapes, dtype, rtol):
    rng = np.random.default_rng(0)
    a = (rng.random(shapes[0]) * 3 + 0.1).astype(dtype)
    b = (rng.standard_normal(shapes[1]) * 2).astype(dtype)
    check_op("Pow", {"X": a, "Y": b}, ["Z"], rtol=rtol, atol=0)


@pytest.mark.parametrize("exponent", [2.0, 3.0, 0.5, -1.0, 1.0, 0.0])
def test_pow_scalar_exponent(exponent):
    """Constant scalar exponents as in LayerNorm (x^2) and tanh-GELU (x^3), negative bases included."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 7, 33)).astype(np.float32) * 3
    if exponent == 0.5:
        x = np.abs(x)
    check_op("Pow", {"X": x, "Y": np.array(exponent, np.float32)}, ["Z"], rtol=1e-6, atol=0,
             initializers={"Y": np.array(exponent, np.float32)})


@pytest.mark.parametrize("base", [np.float32, np.float64, np.float16, np.int32, np.int64])
@pytest.mark.parametrize("exp", [np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8, np.uint32,
                                 np.uint64])
def test_pow_mixed_types(base, exp):
    rng = np.random.default_rng(2)
    if np.issubdtype(base, np.integer):
        a = rng.integers(-5, 6, (3, 4)).astype(base)
    else:
        a = (rng.random((3, 4)) * 3 + 0.1).astype(base)
    if np.issubdtype(exp, np.integer):
        b = rng.integers(0, 5, (4,)).astype(exp)
    else:
        b = (rng.random((4,)) * 3).astype(exp)
    if np.issubdtype(base, np.integer) and np.issubdtype(exp, np.floating):
        b = np.round(b).astype(exp)  # integral values: the truncation to int is then exact on both sides
    rtol = 1e-3 if base == np.float16 else 1e-6
    check_op("Pow", {"X": a, "Y": b}, ["Z"], rtol=rtol, atol=0)


def test_pow_int_negative_exponent():
    x = np.array([1, -1, -1, 2, 0, 5], np.int64)
    y = np.array([-3, -3, -2, -1, 2, 3], np.int64)
    check_op("Pow", {"X": x, "Y": y}, ["Z"], expected={"Z": np.array([1, -1, 1, 0, 0, 125], np.int64)})


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                                   np.uint64])
@pytest.mark.parametrize("fmod", [0, 1])
def test_mod_int(shapes, dtype, fmod):
    rng = np.random.default_rng(3)
    lo = 0 if np.issubdtype(dtype, np.unsignedinteger) else -50
    a = rng.integers(lo, 50, shapes[0]).astype(dtype)
    b = rng.integers(lo, 50, shapes[1]).astype(dtype)
    b = np.where(b == 0, 7, b).astype(dtype)
    check_op("Mod", {"A": a, "B": b}, ["C"], attrs={"fmod": fmod})


def test_mod_int_by_zero_is_zero():
    a = np.array([5, -5, 0, np.iinfo(np.int32).min], np.int32)
    b = np.array([0, 0, 0, -1], np.int32)
    check_op("Mod", {"A": a, "B": b}, ["C"], expected={"C": np.zeros(4, np.int32)})


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_mod_float(shapes, dtype):
    rng = np.random.default_rng(4)
    a = (rng.standard_normal(shapes[0]) * 10).astype(dtype)
    b = (rng.standard_normal(shapes[1]) * 3).astype(dtype)
    check_op("Mod", {"A": a, "B": b}, ["C"], attrs={"fmod": 1}, rtol=0, atol=0)


def test_mod_bad_fmod():
    with pytest.raises(RuntimeError, match="fmod"):
        check_op("Mod", {"A": np.ones(2, np.int32) * 3, "B": np.ones(2, np.int32) * 2}, ["C"], attrs={"fmod": 2},
                 expected={"C": np.ones(2, np.int32)})
