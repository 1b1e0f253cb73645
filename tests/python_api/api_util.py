"""Shared pieces of the Python API tests (conftest.py puts this folder on sys.path)."""

import os
import pathlib

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
TINY = REPO / "examples" / "tiny_cnn.onnx"
TINY_INPUT = REPO / "examples" / "tiny_cnn.input.npy"
# The `ingot` command of the same build (scripts/setup.sh), whose messages and JSON the API must match.
CLI = os.environ.get("INGOT_BIN") or str(REPO / "build" / "bin" / "ingot")


def rel_err(actual, expected):
    """max |actual - expected| / max |expected|, as the model tests measure agreement."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-6))
