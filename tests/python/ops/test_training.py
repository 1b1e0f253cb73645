"""ai.onnx.preview.training Adagrad, Adam and Momentum (standard and nesterov) against onnx.reference, for
one and several tensors, first and later steps, float and double."""
import numpy as np
import pytest

from onnx.reference.ops.aionnx_preview_training.op_adam import _apply_adam

from op_harness import check_op

DOMAIN = "ai.onnx.preview.training"


def tensors(rng, shapes, per, dtype):
    """per tensors for each shape, laid out group by group: [X1..Xk, G1..Gk, S1..Sk, ...]."""
    groups = [[(rng.standard_normal(s) * (1 if j < 2 else 0.5) + (0.5 if j >= 2 else 0)).astype(dtype)
               for s in shapes] for j in range(per)]
    if per >= 3:  # accumulated squares are non-negative
        groups[-1] = [np.abs(a) for a in groups[-1]]
    return [a for g in groups for a in g]


def adam_oracle(inputs, k, attrs):
    """onnx.reference casts Adam's outputs to float32 when it updates several tensors; this applies its
    single-tensor step to each group instead, keeping the dtype."""
    r, t, *arrays = inputs.values()
    outs = [_apply_adam(r, t, *arrays[i::k], attrs["norm_coefficient"], attrs["norm_coefficient_post"],
                        attrs["alpha"], attrs["beta"], attrs["epsilon"]) for i in range(k)]
    flat = [np.asarray(o[j]).astype(arrays[0].dtype) for j in range(3) for o in outs]
    return {f"out{i}": a for i, a in enumerate(flat)}


def run(op, shapes, per, n_out, attrs, step, dtype, rtol):
    rng = np.random.default_rng(step + len(shapes))
    arrays = tensors(rng, shapes, per, dtype)
    inputs = {"R": np.array(0.1, dtype=np.float32), "T": np.array(step, dtype=np.int64)}
    inputs.update({f"in{i}": a for i, a in enumerate(arrays)})
    outputs = [f"out{i}" for i in range(n_out * len(shapes))]
    expected = adam_oracle(inputs, len(shapes), attrs) if op == "Adam" and len(shapes) > 1 else None
    check_op(op, inputs, outputs, attrs=attrs, domain=DOMAIN, rtol=rtol, atol=rtol, expected=expected)


SHAPES = [[(3, 4)], [(5,), (2, 3, 2)], [(0, 3), (7,)]]
DTYPES = [(np.float32, 1e-5), (np.float64, 1e-7)]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("step", [0, 3])
@pytest.mark.parametrize("dtype,rtol", DTYPES)
def test_adagrad(shapes, step, dtype, rtol):
    run("Adagrad", shapes, 3, 2, {"decay_factor": 0.1, "epsilon": 1e-5, "norm_coefficient": 0.01}, step, dtype, rtol)


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("step", [0, 3])
@pytest.mark.parametrize("dtype,rtol", DTYPES)
def test_adam(shapes, step, dtype, rtol):
    run("Adam", shapes, 4, 3, {"alpha": 0.85, "beta": 0.95, "epsilon": 1e-4, "norm_coefficient": 0.01,
                               "norm_coefficient_post": 0.02}, step, dtype, rtol)


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("step", [0, 3])
@pytest.mark.parametrize("mode", ["standard", "nesterov"])
@pytest.mark.parametrize("dtype,rtol", DTYPES)
def test_momentum(shapes, step, mode, dtype, rtol):
    run("Momentum", shapes, 3, 2, {"alpha": 0.9, "beta": 0.7, "mode": mode, "norm_coefficient": 0.02}, step, dtype,
        rtol)


def test_momentum_needs_attributes():
    x = np.ones(3, dtype=np.float32) + np.arange(3, dtype=np.float32)
    inputs = {"R": np.array(0.1, dtype=np.float32), "T": np.array(1, dtype=np.int64), "X": x, "G": x, "V": x}
    with pytest.raises(RuntimeError, match="'mode' is required"):
        check_op("Momentum", inputs, ["X_new", "V_new"], attrs={"alpha": 0.9, "beta": 0.1, "norm_coefficient": 0.0},
                 domain=DOMAIN, expected={"X_new": x, "V_new": x})


def test_mismatched_group():
    rng = np.random.default_rng(9)
    inputs = {"R": np.array(0.1, dtype=np.float32), "T": np.array(1, dtype=np.int64),
              "X": rng.standard_normal(3).astype(np.float32), "G": rng.standard_normal(4).astype(np.float32),
              "H": rng.random(3).astype(np.float32)}
    with pytest.raises(RuntimeError, match="does not match X1"):
        check_op("Adagrad", inputs, ["X_new", "H_new"], domain=DOMAIN,
                 expected={"X_new": inputs["X"], "H_new": inputs["H"]})
