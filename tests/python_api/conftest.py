"""Fixtures of the Python API tests: the installed `ingot` package (scripts/setup.sh runs `pip install .`
into .venv), the example model, and torchvision models from tests/models/export_models.py (random
weights, fixed seed, nothing downloaded)."""

import pathlib
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "models"))

TINY = REPO / "examples" / "tiny_cnn.onnx"
TINY_INPUT = REPO / "examples" / "tiny_cnn.input.npy"


def rel_err(actual, expected):
    """max |actual - expected| / max |expected|, as the model tests measure agreement."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-6))


@pytest.fixture(scope="session")
def tiny_engine():
    import ingot

    return ingot.build(TINY, shapes={"input": (1, 3, 32, 32)}, opt_level=0)


@pytest.fixture(scope="session")
def tiny_input():
    return np.load(TINY_INPUT)


@pytest.fixture(scope="session")
def tiny_ort():
    import onnxruntime as ort

    return ort.InferenceSession(str(TINY), providers=["CPUExecutionProvider"])
