"""examples/: the C++ program built against an installed ingot (find_package), and the PyTorch script."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import ingot
from api_util import REPO, TINY

BUILD = REPO / "build"


def run(*args, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert proc.returncode == 0, "%s\n%s%s" % (" ".join(map(str, args)), proc.stdout, proc.stderr)
    return proc.stdout


def test_cpp_example_links_the_installed_library(tmp_path):
    if not (BUILD / "cmake_install.cmake").exists():
        pytest.fail("no build folder at %s: run scripts/setup.sh first" % BUILD, pytrace=False)
    prefix = tmp_path / "prefix"
    run("cmake", "--install", BUILD, "--prefix", prefix, "--component", "ingot")
    assert (prefix / "lib" / "cmake" / "ingot" / "ingot-config.cmake").is_file()
    assert (prefix / "include" / "ingot" / "engine.h").is_file()
    run("cmake", "-S", REPO / "examples" / "cpp", "-B", tmp_path / "build", "-G", "Ninja",
        "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_PREFIX_PATH=%s" % prefix)
    run("cmake", "--build", tmp_path / "build")
    engine_file = tmp_path / "tiny.ingot"
    out = run(tmp_path / "build" / "ingot_example", TINY, "--save", engine_file)
    m = re.fullmatch(r"logits float32 \[1x10\]:((?: \S+){10})\n", out)
    assert m, out
    printed = np.array([float(v) for v in m.group(1).split()])
    # The same input through the Python API: ((i % 17) - 8) / 8 over the flat index.
    x = (((np.arange(3 * 32 * 32) % 17) - 8) / 8).astype(np.float32).reshape(1, 3, 32, 32)
    expected = ingot.load(engine_file).create_context().run({"input": x})["logits"][0]
    np.testing.assert_allclose(printed, expected, rtol=1e-7, atol=0)
    # The installed command runs from the prefix too (its RPATH points at the installed library).
    assert "logits" in run(prefix / "bin" / "ingot", "inspect", engine_file)


def test_pytorch_example(tmp_path):
    out = run(sys.executable, REPO / "examples" / "pytorch_to_ingot.py", "--opt-level", "0", "--runs", "1",
              "--out", tmp_path / "resnet18.ingot", cwd=tmp_path)
    err = float(re.search(r"max \|ingot - torch\| / max \|torch\| = (\S+)", out).group(1))
    assert err <= 1e-4, out
    assert (tmp_path / "resnet18.ingot").is_file()
