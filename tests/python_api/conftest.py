"""Fixtures of the Python API tests: the installed `ingot` package (scripts/setup.sh runs `pip install .`
into .venv), the example model, and torchvision models from tests/models/export_models.py (random
weights, fixed seed, nothing downloaded)."""

import pathlib
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tests" / "models"))

from api_util import TINY, TINY_INPUT  # noqa: E402


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
