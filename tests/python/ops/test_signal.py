"""DFT, STFT, the window generators and MelWeightMatrix against onnx.reference (and numpy's FFT)."""
import numpy as np
import pytest
from onnx import TensorProto

from op_harness import check_op


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("shape,axis", [((2, 8, 1), 1), ((3, 7, 2), 1), ((2, 5, 6, 2), 2), ((2, 5, 6, 1), -3),
                                        ((4, 9, 1), -2), ((1, 1, 2), 1)])
@pytest.mark.parametrize("inverse", [0, 1])
@pytest.mark.parametrize("onesided", [0, 1])
def test_dft(opset, shape, axis, inverse, onesided):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    if opset == 17:
        check_op("DFT", {"input": x}, ["output"], attrs={"axis": axis, "inverse": inverse, "onesided": onesided},
                 opset=17, rtol=1e-4, atol=1e-5)
    else:
        check_op("DFT", {"input": x, "dft_length": None, "axis": np.array(axis, np.int64)}, ["output"],
                 attrs={"inverse": inverse, "onesided": onesided}, opset=20, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("length", [4, 8, 13])
def test_dft_length(length):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 8, 2)).astype(np.float64)
    check_op("DFT", {"input": x, "dft_length": np.array(length, np.int64)}, ["output"], opset=20, rtol=1e-9,
             atol=1e-9)
    check_op("DFT", {"input": x, "dft_length": np.array(length, np.int32)}, ["output"],
             attrs={"axis": 1, "inverse": 1}, opset=17, rtol=1e-9, atol=1e-9)


def test_dft_matches_numpy_fft():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 16)).astype(np.float64)
    want = np.fft.rfft(x, axis=1)
    check_op("DFT", {"input": x[..., None]}, ["output"], attrs={"onesided": 1}, opset=20,
             expected={"output": np.stack([want.real, want.imag], -1)}, rtol=1e-9, atol=1e-9)


def test_dft_float16():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 1)).astype(np.float16)
    check_op("DFT", {"input": x}, ["output"], opset=20, rtol=1e-2, atol=1e-2)


def test_dft_bad_axis():
    x = np.random.default_rng(4).standard_normal((2, 6, 1)).astype(np.float32)
    with pytest.raises(RuntimeError, match="axis"):
        check_op("DFT", {"input": x, "dft_length": None, "axis": np.array(2, np.int64)}, ["output"], opset=20,
                 expected={"output": np.zeros(1)})


@pytest.mark.parametrize("signal_shape,step,window_len,onesided",
                         [((1, 128, 1), 8, 16, 1), ((2, 64, 1), 5, 12, 0), ((2, 50, 2), 7, 10, 0),
                          ((1, 16, 1), 16, 16, 1)])
@pytest.mark.parametrize("kind", ["window", "frame_length", "both"])
def test_stft(signal_shape, step, window_len, onesided, kind):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(signal_shape).astype(np.float32)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(window_len) / window_len)).astype(np.float32)
    ins = {"signal": x, "frame_step": np.array(step, np.int64),
           "window": window if kind != "frame_length" else None,
           "frame_length": np.array(window_len, np.int64) if kind != "window" else None}
    if ins["frame_length"] is None:
        del ins["frame_length"]
    check_op("STFT", ins, ["output"], attrs={"onesided": onesided}, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op", ["HannWindow", "HammingWindow", "BlackmanWindow"])
@pytest.mark.parametrize("size", [1, 2, 7, 10, 64])
@pytest.mark.parametrize("periodic", [0, 1])
def test_windows(op, size, periodic):
    if size == 1 and periodic == 0:
        pytest.skip("a one-point symmetric window divides by zero in the reference")
    check_op(op, {"size": np.array(size, np.int64)}, ["y"], attrs={"periodic": periodic}, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [TensorProto.DOUBLE, TensorProto.FLOAT16])
def test_window_output_datatype(dtype):
    # onnx.reference computes in the output type itself (float16 arithmetic); ingot rounds the exact window.
    n = np.arange(9)
    want = (0.5 - 0.5 * np.cos(2 * np.pi * n / 9)).astype(np.float16 if dtype == TensorProto.FLOAT16 else np.float64)
    check_op("HannWindow", {"size": np.array(9, np.int32)}, ["y"], attrs={"output_datatype": dtype},
             expected={"y": want}, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bins,dft,rate,lo,hi", [(8, 16, 8192, 0, 4096), (10, 64, 16000, 20, 8000),
                                                  (4, 31, 22050, 100, 3000)])
def test_mel_weight_matrix(bins, dft, rate, lo, hi):
    check_op("MelWeightMatrix", {"num_mel_bins": np.array(bins, np.int64), "dft_length": np.array(dft, np.int64),
                                 "sample_rate": np.array(rate, np.int64),
                                 "lower_edge_hertz": np.array(lo, np.float32),
                                 "upper_edge_hertz": np.array(hi, np.float32)}, ["y"])
