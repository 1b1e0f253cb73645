import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import numpy as np
import pytest

from op_harness import check_op


def random_boxes(rng, batches, n, center):
    if center:
        xy = rng.uniform(0, 10, size=(batches, n, 2))
        wh = rng.uniform(1, 5, size=(batches, n, 2))
        return np.concatenate([xy, wh], axis=-1).astype(np.float32)
    a = rng.uniform(0, 10, size=(batches, n, 2))
    b = a + rng.uniform(-5, 5, size=(batches, n, 2))  # corners in either order
    return np.concatenate([a, b], axis=-1)[..., [0, 1, 2, 3]].astype(np.float32)


@pytest.mark.parametrize("batches,classes,n", [(1, 1, 6), (2, 3, 10), (1, 2, 1), (2, 1, 0)])
@pytest.mark.parametrize("center", [0, 1])
@pytest.mark.parametrize("max_out,iou,score", [(3, 0.5, None), (10, 0.3, 0.4), (2, 0.0, 0.0), (0, 0.5, None)])
def test_nms(batches, classes, n, center, max_out, iou, score):
    rng = np.random.default_rng(n + classes)
    boxes = random_boxes(rng, batches, n, center)
    scores = rng.uniform(0, 1, size=(batches, classes, n)).astype(np.float32)
    if n > 3:
        scores[..., 1] = scores[..., 2]  # a tie: lower box index first
    inputs = {"boxes": boxes, "scores": scores, "max_output_boxes_per_class": np.array([max_out], dtype=np.int64),
              "iou_threshold": np.array([iou], dtype=np.float32),
              "score_threshold": None if score is None else np.array([score], dtype=np.float32)}
    check_op("NonMaxSuppression", inputs, ["selected_indices"], attrs={"center_point_box": center})


def test_nms_no_max_output_selects_nothing():
    # max_output_boxes_per_class defaults to 0 (onnx.reference fails on the omitted input).
    rng = np.random.default_rng(0)
    check_op("NonMaxSuppression", {"boxes": random_boxes(rng, 1, 4, 0),
                                   "scores": rng.uniform(size=(1, 1, 4)).astype(np.float32)}, ["selected_indices"],
             expected={"selected_indices": np.zeros((0, 3), np.int64)})


def test_nms_bad_scores_shape():
    rng = np.random.default_rng(0)
    with pytest.raises(RuntimeError, match="'scores' must be"):
        check_op("NonMaxSuppression", {"boxes": random_boxes(rng, 1, 4, 0),
                                       "scores": rng.uniform(size=(1, 1, 5)).astype(np.float32)},
                 ["selected_indices"], expected={"selected_indices": np.zeros((0, 3), np.int64)})
