"""Col2Im against onnx.reference."""
import numpy as np
import pytest

from op_harness import check_op


def n_blocks(image, block, strides, dilations, pads):
    r = len(image)
    return [(image[d] + pads[d] + pads[r + d] - dilations[d] * (block[d] - 1) - 1) // strides[d] + 1
            for d in range(r)]


@pytest.mark.parametrize("image,block,attrs", [
    ((5, 5), (1, 5), {}),
    ((5, 6), (2, 3), {}),
    ((6, 7), (2, 2), {"strides": [2, 3]}),
    ((5, 5), (2, 2), {"dilations": [2, 1]}),
    ((4, 5), (3, 3), {"pads": [1, 0, 1, 2]}),
    ((3, 4, 5), (2, 2, 2), {"strides": [1, 2, 1], "pads": [0, 1, 0, 1, 0, 1]}),
    ((9,), (3,), {"strides": [2]}),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_col2im(image, block, attrs, dtype):
    rng = np.random.default_rng(0)
    r = len(image)
    strides = attrs.get("strides", [1] * r)
    dilations = attrs.get("dilations", [1] * r)
    pads = attrs.get("pads", [0] * 2 * r)
    L = int(np.prod(n_blocks(image, block, strides, dilations, pads)))
    x = rng.standard_normal((2, 3 * int(np.prod(block)), L)).astype(dtype)
    check_op("Col2Im", {"input": x, "image_shape": np.array(image, np.int64), "block_shape": np.array(block, np.int64)},
             ["output"], attrs=attrs, rtol=1e-5, atol=1e-6)


def test_col2im_wrong_block_count():
    x = np.random.default_rng(1).standard_normal((1, 4, 7)).astype(np.float32)
    with pytest.raises(RuntimeError, match="blocks"):
        check_op("Col2Im", {"input": x, "image_shape": np.array([3, 3], np.int64),
                            "block_shape": np.array([2, 2], np.int64)}, ["output"], expected={"output": np.zeros(1)})
