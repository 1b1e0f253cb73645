"""resnet18 from an ONNX file and mobilenet_v2 through from_torch, against onnxruntime and torch."""

import io

import numpy as np
import onnxruntime as ort
import pytest
import torch

import export_models
import ingot
from api_util import rel_err

TOL = 1e-4


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory):
    model, inputs, _, _, _ = export_models.build_model("resnet18")
    path = export_models.export_model("resnet18", str(tmp_path_factory.mktemp("resnet18")))
    with torch.no_grad():
        expected = model(*inputs).numpy()
    return path, inputs[0], expected


def test_resnet18_from_onnx_file(resnet18, tmp_path):
    path, x, torch_out = resnet18
    engine = ingot.build(path, shapes={"input": (1, 3, 224, 224)})
    assert engine.input_names == ["input"] and engine.output_names == ["output"]
    ctx = engine.create_context()
    out = ctx.run({"input": x.numpy()})["output"]
    assert out.shape == (1, 1000) and out.dtype == np.float32
    ort_out = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    assert rel_err(out, ort_out) <= TOL
    assert rel_err(out, torch_out) <= TOL
    # A torch tensor goes in as it is, and so does an array 4 bytes off any wider alignment.
    assert np.array_equal(ctx.run({"input": x})["output"], out)
    buf = np.empty(x.numel() + 1, np.float32)
    shifted = buf[1:].reshape(x.shape)
    shifted[...] = x.numpy()
    assert shifted.ctypes.data % 8 == 4 and ingot._ingot._input_address(shifted) == shifted.ctypes.data
    assert np.array_equal(ctx.run({"input": shifted})["output"], out)
    # The saved engine gives the same outputs.
    engine.save(tmp_path / "resnet18.ingot")
    loaded = ingot.load(str(tmp_path / "resnet18.ingot"))
    assert np.array_equal(loaded.create_context().run({"input": x})["output"], out)


def test_mobilenet_v2_from_torch():
    model, inputs, _, _, dyn = export_models.build_model("mobilenet_v2")
    engine = ingot.from_torch(model, inputs, dynamic_axes=dyn)
    assert engine.input_names == ["input"] and engine.output_names == ["output"]
    assert engine.inputs[0].dims[0] == -1 and engine.inputs[0].dim_names[0] == "batch"
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 224, 224, generator=g)  # batch 2 through the dynamic axis
    out = engine.create_context().run({"input": x})["output"]
    with torch.no_grad():
        torch_out = model(x).numpy()
    assert rel_err(out, torch_out) <= TOL
    buf = io.BytesIO()
    torch.onnx.export(model, inputs, buf, input_names=["input"], output_names=["output"], dynamic_axes=dyn,
                      opset_version=17)
    ort_out = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"]).run(
        None, {"input": x.numpy()})[0]
    assert rel_err(out, ort_out) <= TOL
