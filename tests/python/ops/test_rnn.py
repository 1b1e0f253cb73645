"""RNN, GRU, LSTM against onnx.reference (forward, default activations) and, for what onnx.reference
does not cover (reverse / bidirectional, sequence_lens, clip, activations, peepholes,
input_forget, layout 1), against the numpy implementation of the ONNX equations below."""
import numpy as np
import pytest

from op_harness import check_op

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
DEFAULT_ACTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}


def act(name, alpha=None, beta=None):
    n = name.lower()
    if n == "tanh":
        return np.tanh
    if n == "sigmoid":
        return lambda x: 1 / (1 + np.exp(-x))
    if n == "relu":
        return lambda x: np.maximum(x, 0)
    if n == "leakyrelu":
        a = 0.01 if alpha is None else alpha
        return lambda x: np.where(x < 0, a * x, x)
    if n == "hardsigmoid":
        a, b = (0.2 if alpha is None else alpha), (0.5 if beta is None else beta)
        return lambda x: np.clip(a * x + b, 0, 1)
    if n == "scaledtanh":
        a, b = (1.0 if alpha is None else alpha), (1.0 if beta is None else beta)
        return lambda x: a * np.tanh(b * x)
    if n == "affine":
        a, b = (1.0 if alpha is None else alpha), (0.0 if beta is None else beta)
        return lambda x: a * x + b
    if n == "softsign":
        return lambda x: x / (1 + np.abs(x))
    raise ValueError(name)


def numpy_rnn(op, X, W, R, B=None, seq_lens=None, h0=None, c0=None, P=None, direction="forward", clip=None,
              acts=None, alphas=(), betas=(), input_forget=0, linear_before_reset=0, layout=0):
    X = X.astype(np.float64)
    if layout == 1:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    S, Bt, _ = X.shape
    D = W.shape[0]
    H = R.shape[-1]
    G = GATES[op]
    n_act = len(DEFAULT_ACTS[op])
    names = list(acts or DEFAULT_ACTS[op])
    if len(names) == n_act and D == 2:
        names = names * 2
    ai, bi, fns = 0, 0, []
    for name in names:
        a = b = None
        if name.lower() in ("leakyrelu", "hardsigmoid", "scaledtanh", "affine", "elu", "thresholdedrelu"):
            if ai < len(alphas):
                a, ai = alphas[ai], ai + 1
        if name.lower() in ("hardsigmoid", "scaledtanh", "affine"):
            if bi < len(betas):
                b, bi = betas[bi], bi + 1
        fns.append(act(name, a, b))
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    Y = np.zeros((S, D, Bt, H))
    Yh = np.zeros((D, Bt, H))
    Yc = np.zeros((D, Bt, H))
    lens = seq_lens if seq_lens is not None else np.full(Bt, S)
    for d in range(D):
        f = fns[d * n_act:(d + 1) * n_act]
        w, r = W[d].astype(np.float64), R[d].astype(np.float64)
        wb = B[d, :G * H].astype(np.float64) if B is not None else np.zeros(G * H)
        rb = B[d, G * H:].astype(np.float64) if B is not None else np.zeros(G * H)
        rev = direction == "reverse" or (direction == "bidirectional" and d == 1)
        for b in range(Bt):
            h = h0[d, b].astype(np.float64) if h0 is not None else np.zeros(H)
            c = c0[d, b].astype(np.float64) if c0 is not None else np.zeros(H)
            L = int(lens[b])
            for step in range(L):
                t = L - 1 - step if rev else step
                x = X[t, b]
                if op == "RNN":
                    h = f[0](cl(w @ x + r @ h + wb + rb))
                elif op == "GRU":
                    gx = w @ x + wb
                    z = f[0](cl(gx[:H] + r[:H] @ h + rb[:H]))
                    rr = f[0](cl(gx[H:2 * H] + r[H:2 * H] @ h + rb[H:2 * H]))
                    if linear_before_reset:
                        hh = f[1](cl(gx[2 * H:] + rr * (r[2 * H:] @ h + rb[2 * H:])))
                    else:
                        hh = f[1](cl(gx[2 * H:] + r[2 * H:] @ (rr * h) + rb[2 * H:]))
                    h = (1 - z) * hh + z * h
                else:
                    g = w @ x + r @ h + wb + rb
                    p = P[d].astype(np.float64) if P is not None else np.zeros(3 * H)
                    i = f[0](cl(g[:H] + p[:H] * c))
                    fg = 1 - i if input_forget else f[0](cl(g[2 * H:3 * H] + p[2 * H:] * c))
                    cc = f[1](cl(g[3 * H:]))
                    c = fg * c + i * cc
                    o = f[0](cl(g[H:2 * H] + p[H:2 * H] * c))
                    h = o * f[2](c)
                Y[t, d, b] = h
            Yh[d, b] = h
            Yc[d, b] = c
    if layout == 1:
        Y = Y.transpose(2, 0, 1, 3)
        Yh = Yh.transpose(1, 0, 2)
        Yc = Yc.transpose(1, 0, 2)
    return Y, Yh, Yc


def make_inputs(op, rng, S, Bt, I, H, D, dtype, bias=True, lens=False, h0=False, c0=False, peep=False, layout=0):
    G = GATES[op]
    X = rng.standard_normal((S, Bt, I) if layout == 0 else (Bt, S, I)).astype(dtype)
    ins = {"X": X, "W": (rng.standard_normal((D, G * H, I)) * 0.5).astype(dtype),
           "R": (rng.standard_normal((D, G * H, H)) * 0.5).astype(dtype),
           "B": (rng.standard_normal((D, 2 * G * H)) * 0.3).astype(dtype) if bias else None,
           "sequence_lens": rng.integers(0, S + 1, Bt).astype(np.int32) if lens else None}
    state = (D, Bt, H) if layout == 0 else (Bt, D, H)
    ins["initial_h"] = rng.standard_normal(state).astype(dtype) if h0 else None
    if op == "LSTM":
        ins["initial_c"] = rng.standard_normal(state).astype(dtype) if c0 else None
        ins["P"] = (rng.standard_normal((D, 3 * H)) * 0.5).astype(dtype) if peep else None
    # Trailing omitted optional inputs are dropped rather than passed as "".
    while list(ins.values())[-1] is None:
        ins.popitem()
    return ins


def outputs_for(op):
    return ["Y", "Y_h", "Y_c"] if op == "LSTM" else ["Y", "Y_h"]


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("dims", [(5, 3, 4, 6), (1, 1, 1, 1), (7, 2, 3, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_against_reference(op, dims, dtype):
    rng = np.random.default_rng(0)
    S, Bt, I, H = dims
    ins = make_inputs(op, rng, S, Bt, I, H, 1, dtype, h0=True)
    check_op(op, ins, outputs_for(op)[:2], attrs={"hidden_size": H}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("layout", [0, 1])
def test_directions_lens_layout(op, direction, layout):
    rng = np.random.default_rng(1)
    S, Bt, I, H = 6, 4, 3, 5
    D = 2 if direction == "bidirectional" else 1
    ins = make_inputs(op, rng, S, Bt, I, H, D, np.float32, lens=True, h0=True, c0=True, peep=True, layout=layout)
    ins["sequence_lens"] = np.array([6, 0, 3, 1], np.int32)
    want = numpy_rnn(op, ins["X"], ins["W"], ins["R"], ins["B"], ins["sequence_lens"], ins["initial_h"],
                     ins.get("initial_c"), ins.get("P"), direction=direction, layout=layout)
    outs = outputs_for(op)
    check_op(op, ins, outs, attrs={"hidden_size": H, "direction": direction, "layout": layout},
             expected={o: w.astype(np.float32) for o, w in zip(outs, want)}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["RNN", "GRU", "LSTM"])
def test_clip_and_activations(op):
    rng = np.random.default_rng(2)
    S, Bt, I, H = 4, 3, 5, 4
    ins = make_inputs(op, rng, S, Bt, I, H, 2, np.float32, h0=True)
    acts = {"RNN": ["LeakyRelu", "ScaledTanh"], "GRU": ["HardSigmoid", "Softsign", "Sigmoid", "Affine"],
            "LSTM": ["HardSigmoid", "ScaledTanh", "Tanh", "Sigmoid", "Softsign", "Affine"]}[op]
    alphas, betas = [0.3, 0.8, 0.25, 1.5], [0.4, 1.2, 0.1]
    want = numpy_rnn(op, ins["X"], ins["W"], ins["R"], ins["B"], None, ins["initial_h"], direction="bidirectional",
                     clip=0.7, acts=acts, alphas=alphas, betas=betas)
    outs = outputs_for(op)
    check_op(op, ins, outs, attrs={"hidden_size": H, "direction": "bidirectional", "clip": 0.7,
                                   "activations": acts, "activation_alpha": alphas, "activation_beta": betas},
             expected={o: w.astype(np.float32) for o, w in zip(outs, want)}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("lbr", [0, 1])
def test_gru_linear_before_reset(lbr):
    rng = np.random.default_rng(3)
    ins = make_inputs("GRU", rng, 5, 2, 3, 4, 1, np.float32, h0=True)
    check_op("GRU", ins, ["Y", "Y_h"], attrs={"hidden_size": 4, "linear_before_reset": lbr}, rtol=1e-4, atol=1e-5)


def test_lstm_peepholes_input_forget():
    rng = np.random.default_rng(4)
    ins = make_inputs("LSTM", rng, 5, 3, 4, 3, 1, np.float32, h0=True, c0=True, peep=True)
    want = numpy_rnn("LSTM", ins["X"], ins["W"], ins["R"], ins["B"], None, ins["initial_h"], ins["initial_c"],
                     ins["P"], input_forget=1)
    check_op("LSTM", ins, ["Y", "Y_h", "Y_c"], attrs={"hidden_size": 3, "input_forget": 1},
             expected={o: w.astype(np.float32) for o, w in zip(["Y", "Y_h", "Y_c"], want)}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["GRU", "LSTM"])
def test_float16(op):
    rng = np.random.default_rng(5)
    ins = make_inputs(op, rng, 4, 2, 3, 4, 2, np.float16, h0=True)
    want = numpy_rnn(op, ins["X"], ins["W"], ins["R"], ins["B"], None, ins["initial_h"], direction="bidirectional")
    outs = outputs_for(op)
    check_op(op, ins, outs, attrs={"hidden_size": 4, "direction": "bidirectional"},
             expected={o: w.astype(np.float16) for o, w in zip(outs, want)}, rtol=5e-3, atol=5e-3)


def test_empty_batch():
    rng = np.random.default_rng(6)
    ins = make_inputs("LSTM", rng, 3, 0, 2, 4, 1, np.float32)
    check_op("LSTM", ins, ["Y", "Y_h", "Y_c"], attrs={"hidden_size": 4},
             expected={"Y": np.zeros((3, 1, 0, 4), np.float32), "Y_h": np.zeros((1, 0, 4), np.float32),
                       "Y_c": np.zeros((1, 0, 4), np.float32)})


def test_bad_sequence_lens():
    rng = np.random.default_rng(7)
    ins = make_inputs("RNN", rng, 3, 2, 2, 4, 1, np.float32, lens=True)
    ins["sequence_lens"] = np.array([1, 4], np.int32)
    with pytest.raises(RuntimeError, match="sequence_lens"):
        check_op("RNN", ins, ["Y"], attrs={"hidden_size": 4}, expected={"Y": np.zeros(1)})


def test_bad_weight_shape():
    rng = np.random.default_rng(8)
    ins = make_inputs("GRU", rng, 3, 2, 2, 4, 1, np.float32)
    ins["W"] = ins["W"][:, :5]
    with pytest.raises(RuntimeError, match="W"):
        check_op("GRU", ins, ["Y"], attrs={"hidden_size": 4}, expected={"Y": np.zeros(1)})


def test_unknown_activation():
    rng = np.random.default_rng(9)
    ins = make_inputs("RNN", rng, 3, 2, 2, 4, 1, np.float32)
    with pytest.raises(RuntimeError, match="activation"):
        check_op("RNN", ins, ["Y"], attrs={"hidden_size": 4, "activations": ["Swish"]}, expected={"Y": np.zeros(1)})
