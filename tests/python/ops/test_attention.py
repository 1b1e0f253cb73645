"""Attention (opset 23) and RotaryEmbedding against onnx.reference."""
import numpy as np
import pytest

from onnx.reference import ReferenceEvaluator

from op_harness import check_op, make_model


def qkv(rng, B, Hq, Hkv, Sq, Skv, D, Dv, three_d, dtype=np.float32):
    if three_d:
        return (rng.standard_normal((B, Sq, Hq * D)).astype(dtype), rng.standard_normal((B, Skv, Hkv * D)).astype(dtype),
                rng.standard_normal((B, Skv, Hkv * Dv)).astype(dtype))
    return (rng.standard_normal((B, Hq, Sq, D)).astype(dtype), rng.standard_normal((B, Hkv, Skv, D)).astype(dtype),
            rng.standard_normal((B, Hkv, Skv, Dv)).astype(dtype))


@pytest.mark.parametrize("three_d", [False, True])
@pytest.mark.parametrize("heads", [(2, 2), (4, 2), (3, 1)])
@pytest.mark.parametrize("lens", [(3, 3), (2, 5), (4, 1)])
@pytest.mark.parametrize("attrs", [{}, {"is_causal": 1}, {"scale": 0.3}, {"softcap": 2.0}])
def test_attention(three_d, heads, lens, attrs):
    rng = np.random.default_rng(0)
    Hq, Hkv = heads
    Sq, Skv = lens
    q, k, v = qkv(rng, 2, Hq, Hkv, Sq, Skv, 4, 5, three_d)
    a = dict(attrs)
    if three_d:
        a.update(q_num_heads=Hq, kv_num_heads=Hkv)
    check_op("Attention", {"Q": q, "K": k, "V": v}, ["Y"], attrs=a, opset=23, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mask_shape", [(3, 5), (2, 1, 3, 5), (1, 2, 3, 5), (3, 4), (2, 2, 3, 3)])
@pytest.mark.parametrize("mask_type", [np.float32, np.bool_])
@pytest.mark.parametrize("causal", [0, 1])
def test_attention_mask_and_cache(mask_shape, mask_type, causal):
    rng = np.random.default_rng(1)
    B, H, Sq, Skv, P, D = 2, 2, 3, 3, 2, 4
    q, k, v = qkv(rng, B, H, H, Sq, Skv, D, D, False)
    pk = rng.standard_normal((B, H, P, D)).astype(np.float32)
    pv = rng.standard_normal((B, H, P, D)).astype(np.float32)
    if mask_type == np.bool_:
        mask = rng.random(mask_shape) > 0.3
        mask[..., 0] = True  # every row keeps one key, so no softmax is over nothing
    else:
        mask = rng.standard_normal(mask_shape).astype(np.float32)
    ins = {"Q": q, "K": k, "V": v, "attn_mask": mask, "past_key": pk, "past_value": pv}
    outs = ["Y", "present_key", "present_value"]
    expected = None
    if mask_type == np.bool_ and causal:
        # onnx.reference turns a boolean mask into 0 * -inf = NaN on the causal path; the same mask as
        # 0 / -inf floats is what it means.
        fmask = np.where(mask, 0, -np.inf).astype(np.float32)
        model = make_model("Attention", {**ins, "attn_mask": fmask}, outs, attrs={"is_causal": causal}, opset=23)
        expected = dict(zip(outs, ReferenceEvaluator(model).run(None, {**ins, "attn_mask": fmask})))
    check_op("Attention", ins, outs, attrs={"is_causal": causal}, opset=23, expected=expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
@pytest.mark.parametrize("softcap", [None, 1.5])
def test_attention_qk_output(mode, softcap):
    rng = np.random.default_rng(2)
    q, k, v = qkv(rng, 1, 2, 2, 3, 4, 4, 3, False)
    mask = rng.standard_normal((3, 4)).astype(np.float32)
    attrs = {"qk_matmul_output_mode": mode}
    if softcap is not None:
        attrs["softcap"] = softcap
    check_op("Attention", {"Q": q, "K": k, "V": v, "attn_mask": mask}, ["Y", "pk", "pv", "qk"], attrs=attrs,
             opset=23, rtol=1e-4, atol=1e-5)


def test_attention_float16():
    rng = np.random.default_rng(3)
    q, k, v = qkv(rng, 2, 4, 2, 3, 5, 8, 8, False, np.float16)
    check_op("Attention", {"Q": q, "K": k, "V": v}, ["Y"], opset=23, rtol=5e-3, atol=5e-3)


def test_attention_bad_heads():
    rng = np.random.default_rng(4)
    q, k, v = qkv(rng, 1, 3, 2, 2, 2, 4, 4, False)
    with pytest.raises(RuntimeError, match="multiple"):
        check_op("Attention", {"Q": q, "K": k, "V": v}, ["Y"], opset=23, expected={"Y": np.zeros(1)})


@pytest.mark.parametrize("four_d", [False, True])
@pytest.mark.parametrize("interleaved", [0, 1])
@pytest.mark.parametrize("rot", [0, 4])
@pytest.mark.parametrize("with_pos", [False, True])
def test_rotary_embedding(four_d, interleaved, rot, with_pos):
    rng = np.random.default_rng(5)
    B, S, H, D = 2, 3, 2, 8
    x = rng.standard_normal((B, H, S, D) if four_d else (B, S, H * D)).astype(np.float32)
    half = (rot or D) // 2
    if with_pos:
        cos = rng.standard_normal((10, half)).astype(np.float32)
        sin = rng.standard_normal((10, half)).astype(np.float32)
        pos = rng.integers(0, 10, (B, S)).astype(np.int64)
    else:
        cos = rng.standard_normal((B, S, half)).astype(np.float32)
        sin = rng.standard_normal((B, S, half)).astype(np.float32)
        pos = None
    attrs = {"interleaved": interleaved, "rotary_embedding_dim": rot}
    if not four_d:
        attrs["num_heads"] = H
    ins = {"X": x, "cos_cache": cos, "sin_cache": sin}
    if pos is not None:
        ins["position_ids"] = pos
    check_op("RotaryEmbedding", ins, ["Y"], attrs=attrs, opset=23, rtol=1e-5, atol=1e-6)


def test_rotary_bad_position():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 2, 2, 4)).astype(np.float32)
    cos = rng.standard_normal((3, 2)).astype(np.float32)
    with pytest.raises(RuntimeError, match="position"):
        check_op("RotaryEmbedding", {"X": x, "cos_cache": cos, "sin_cache": cos,
                                     "position_ids": np.array([[0, 5]], np.int64)}, ["Y"], opset=23,
                 expected={"Y": np.zeros(1)})
