"""TfIdfVectorizer against onnx.reference: int32/int64/string tokens, 1-D and 2-D inputs, n-gram ranges,
skips, TF/IDF/TFIDF with and without weights."""
import numpy as np
import pytest

from onnx.reference import ReferenceEvaluator

from op_harness import check_op, make_model

# Unigrams 2, 3, 5, 4, 6 then bigrams (5,6), (7,8), (6,7), (2,3).
POOL = [2, 3, 5, 4, 6, 5, 6, 7, 8, 6, 7, 2, 3]
COUNTS = [0, 5]
INDEXES = [0, 1, 2, 3, 4, 5, 6, 7, 8]


def attrs(mode, min_gram, max_gram, skip, weights=None, strings=False, indexes=INDEXES):
    a = {"mode": mode, "min_gram_length": min_gram, "max_gram_length": max_gram, "max_skip_count": skip,
         "ngram_counts": COUNTS, "ngram_indexes": indexes}
    if strings:
        a["pool_strings"] = [f"w{v}" for v in POOL]
    else:
        a["pool_int64s"] = POOL
    if weights is not None:
        a["weights"] = weights
    return a


def check(x, a):
    """onnx.reference fails on IDF/TFIDF without weights; those equal weights of ones, so that run is the
    expectation."""
    expected = None
    if "weights" not in a and a["mode"] != "TF":
        ones = dict(a, weights=[1.0] * (max(a["ngram_indexes"]) + 1))
        expected = {"Y": ReferenceEvaluator(make_model("TfIdfVectorizer", {"X": x}, ["Y"], ones)).run(None, {"X": x})[0]}
    check_op("TfIdfVectorizer", {"X": x}, ["Y"], attrs=a, expected=expected)


@pytest.mark.parametrize("shape", [(12,), (2, 6), (3, 7), (1, 1)])
@pytest.mark.parametrize("mode", ["TF", "IDF", "TFIDF"])
@pytest.mark.parametrize("grams", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("skip", [0, 1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_tfidf_int(shape, mode, grams, skip, weighted):
    rng = np.random.default_rng(sum(shape) + skip)
    x = rng.integers(2, 9, size=shape).astype(np.int32)
    weights = list(rng.random(9).astype(np.float32) + 0.5) if weighted else None
    check(x, attrs(mode, grams[0], grams[1], skip, weights))


@pytest.mark.parametrize("dtype", [np.int64, "str"])
def test_tfidf_types(dtype):
    rng = np.random.default_rng(1)
    tokens = rng.integers(2, 9, size=(3, 8))
    if dtype == "str":
        x = np.array([[f"w{v}" for v in row] for row in tokens], dtype=np.str_)
        check(x, attrs("TFIDF", 1, 2, 2, strings=True))
    else:
        check_op("TfIdfVectorizer", {"X": tokens.astype(dtype)}, ["Y"], attrs=attrs("TF", 1, 2, 2))


def test_tfidf_shared_and_sparse_indexes():
    # Two n-grams counted in one column, and columns no n-gram maps to.
    x = np.random.default_rng(2).integers(2, 9, size=(2, 10)).astype(np.int64)
    check_op("TfIdfVectorizer", {"X": x}, ["Y"], attrs=attrs("TF", 1, 2, 1, indexes=[0, 0, 3, 5, 6, 11, 2, 9, 10]))


def test_bad_mode():
    x = np.array([2, 3], dtype=np.int64)
    with pytest.raises(RuntimeError, match="mode must be"):
        check_op("TfIdfVectorizer", {"X": x}, ["Y"], attrs=attrs("BM25", 1, 2, 0), expected={"Y": x})
