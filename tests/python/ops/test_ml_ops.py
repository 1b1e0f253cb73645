"""ai.onnx.ml Binarizer, ArrayFeatureExtractor and TreeEnsemble against onnx.reference."""
import pathlib
import tempfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from op_harness import check_op, run_ingot

ML = "ai.onnx.ml"


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("threshold", [0.0, 0.7, -2.0])
def test_binarizer(dtype, threshold):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 5)) * 3).astype(dtype)
    check_op("Binarizer", {"X": x}, ["Y"], attrs={"threshold": threshold}, domain=ML)


@pytest.mark.parametrize("xshape,ids", [((3, 5), [0, 4, 2]), ((2, 3, 4), [3]), ((6,), [5, 0, 1]),
                                        ((2, 4), [[1, 1, 3]])])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_array_feature_extractor(xshape, ids, dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(xshape) * 10).astype(dtype)
    check_op("ArrayFeatureExtractor", {"X": x, "Y": np.array(ids, np.int64)}, ["Z"], domain=ML)


def test_array_feature_extractor_out_of_range():
    x = np.zeros((2, 3), np.float32) + 1
    with pytest.raises(RuntimeError, match="index"):
        check_op("ArrayFeatureExtractor", {"X": x, "Y": np.array([3], np.int64)}, ["Z"], domain=ML,
                 expected={"Z": np.zeros(1)})


def tree_model(modes, splits, features, true_ids, false_ids, true_leafs, false_leafs, targets, weights, roots,
               n_targets, aggregate=1, post=0, members=None, missing=None, dtype=TensorProto.FLOAT):
    attrs = dict(nodes_modes=numpy_helper.from_array(np.array(modes, np.uint8)),
                 nodes_splits=numpy_helper.from_array(np.array(splits, np.float32 if dtype == TensorProto.FLOAT
                                                               else np.float64)),
                 nodes_featureids=features, nodes_truenodeids=true_ids, nodes_falsenodeids=false_ids,
                 nodes_trueleafs=true_leafs, nodes_falseleafs=false_leafs, leaf_targetids=targets,
                 leaf_weights=numpy_helper.from_array(np.array(weights, np.float32 if dtype == TensorProto.FLOAT
                                                               else np.float64)),
                 tree_roots=roots, n_targets=n_targets, aggregate_function=aggregate, post_transform=post)
    if members is not None:
        attrs["membership_values"] = numpy_helper.from_array(np.array(members, np.float32))
    if missing is not None:
        attrs["nodes_missing_value_tracks_true"] = missing
    node = helper.make_node("TreeEnsemble", ["X"], ["Y"], domain=ML, **attrs)
    graph = helper.make_graph([node], "trees", [helper.make_tensor_value_info("X", dtype, None)],
                              [helper.make_tensor_value_info("Y", dtype, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid(ML, 5)])
    model.ir_version = 10
    return model


# Two trees over 3 features: tree 0 = node 0 (x0 <= 0.5) -> node 1 (x1 < 0) | leaf 2; tree 1 = node 2
# (x2 in {1, 3}) with leaves 3 / 4. Leaves 0 1 2 go to targets 0 1 0, 3 4 to 1 0.
FOREST = dict(modes=[0, 1, 6], splits=[0.5, 0.0, 0.0], features=[0, 1, 2], true_ids=[1, 0, 3],
              false_ids=[2, 1, 4], true_leafs=[0, 1, 1], false_leafs=[1, 1, 1], targets=[0, 1, 0, 1, 0],
              weights=[1.5, -2.0, 0.25, 4.0, -1.0], roots=[0, 2], n_targets=2, members=[1.0, 3.0, np.nan])


@pytest.mark.parametrize("aggregate", [0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [TensorProto.FLOAT, TensorProto.DOUBLE])
def test_tree_ensemble(aggregate, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((20, 3))
    x[:, 2] = rng.integers(0, 5, 20)
    x = x.astype(np.float32 if dtype == TensorProto.FLOAT else np.float64)
    model = tree_model(**FOREST, aggregate=aggregate, dtype=dtype)
    want = ReferenceEvaluator(model).run(None, {"X": x})[0]
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, {"X": x}, pathlib.Path(d))["Y"]
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("post", [1, 2])
def test_tree_ensemble_post_transform(post):
    """onnx.reference ignores post_transform; the expected values apply it to the raw sums."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((10, 3)).astype(np.float32)
    x[:, 2] = rng.integers(0, 5, 10)
    raw = ReferenceEvaluator(tree_model(**FOREST)).run(None, {"X": x})[0].astype(np.float64)
    if post == 1:
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        want = e / e.sum(axis=1, keepdims=True)
    else:
        want = 1 / (1 + np.exp(-raw))
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(tree_model(**FOREST, post=post), {"X": x}, pathlib.Path(d))["Y"]
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-7)


def test_tree_ensemble_missing_values():
    x = np.array([[np.nan, 1.0, 1.0], [0.2, np.nan, 3.0], [0.9, -1.0, np.nan]], np.float32)
    model = tree_model(**FOREST, missing=[1, 0, 0])
    want = ReferenceEvaluator(model).run(None, {"X": x})[0]
    with tempfile.TemporaryDirectory() as d:
        got = run_ingot(model, {"X": x}, pathlib.Path(d))["Y"]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_tree_ensemble_bad_child():
    forest = dict(FOREST, true_ids=[7, 0, 3])
    x = np.zeros((1, 3), np.float32) + 1
    with tempfile.TemporaryDirectory() as d, pytest.raises(RuntimeError, match="child"):
        run_ingot(tree_model(**forest), {"X": x}, pathlib.Path(d))
