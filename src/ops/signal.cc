// DFT (opset 17: axis attribute, default 1; opset 20: axis input, default -2), STFT, the Hann,
// Hamming and Blackman windows and MelWeightMatrix. Complex values are a trailing dim of 2 (real,
// imaginary), as ONNX writes them; real inputs have a trailing dim of 1. The axis stays where each
// opset put it (read here, not normalized) because the opset-17 form has no input to move it to.
#include <cmath>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/signal.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  dispatch_float(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

// Writes doubles into a tensor of any numeric type (rounding floats, truncating integers as a cast).
bool store_doubles(const std::vector<double>& v, Tensor* t) {
  return dispatch_arith(t->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (size_t i = 0; i < v.size(); ++i) {
      if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>)
        p[i] = T(static_cast<float>(v[i]));
      else
        p[i] = static_cast<T>(v[i]);
    }
  });
}

// A scalar (or one-element) integer input, known at build time or at run time.
Expected<int64_t> scalar_int(const Tensor& t, const ir::Node& node, const char* what) {
  if (t.numel() != 1 || !dtype_is_integer(t.dtype())) {
    return invalid_argument(node.describe() + ": " + what + " must be an integer scalar");
  }
  return t.get_i64(0);
}

// ---- DFT ----

// The DFT axis of the node (before normalization against the rank).
Expected<std::optional<int64_t>> dft_axis(const ir::Node& node, int opset, const Tensor* axis_input,
                                          bool has_axis) {
  if (opset < 20) return std::optional<int64_t>(node.attr_int("axis", 1));
  if (!has_axis) return std::optional<int64_t>(-2);
  if (!axis_input) return std::optional<int64_t>();  // unknown until run time
  INGOT_ASSIGN_OR_RETURN(int64_t a, scalar_int(*axis_input, node, "axis"));
  return std::optional<int64_t>(a);
}

// Checks the axis against rank r: the signal axes are [0, r - 2]; the last dim is the complex pair.
Expected<int64_t> check_dft_axis(int64_t axis, int64_t rank, const ir::Node& node) {
  INGOT_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axis, rank, node));
  if (a == rank - 1) return invalid_argument(node.describe() + ": axis cannot be the last (complex) dim");
  return a;
}

Status infer_dft(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("expects input");
  const DType dt = ctx.input_dtype(0);
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& x = ctx.input_shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  if (rank < 2) return ctx.fail("input must have rank >= 2, got " + ir::shape_to_string(x));
  if (x.back().is_static() && x.back().value != 1 && x.back().value != 2) {
    return ctx.fail("the last dim must be 1 (real) or 2 (complex), got " + ir::shape_to_string(x));
  }
  INGOT_ASSIGN_OR_RETURN(auto axis, dft_axis(ctx.node(), ctx.opset(), ctx.input_const(2), ctx.has_input(2)));
  ir::SymShape out = x;
  out.back() = ir::Dim(2);
  if (!axis) {
    for (int64_t d = 0; d + 1 < rank; ++d) out[d] = ir::Dim();
    ctx.set_output(0, dt, out);
    return Status::Ok();
  }
  INGOT_ASSIGN_OR_RETURN(int64_t a, check_dft_axis(*axis, rank, ctx.node()));
  ir::Dim n = x[a];
  if (ctx.has_input(1)) {
    n = ir::Dim();
    if (const Tensor* len = ctx.input_const(1)) {
      INGOT_ASSIGN_OR_RETURN(int64_t v, scalar_int(*len, ctx.node(), "dft_length"));
      if (v < 1) return ctx.fail("dft_length must be positive, got " + std::to_string(v));
      n = ir::Dim(v);
    }
  }
  const bool onesided = ctx.node().attr_int("onesided", 0) != 0;
  out[a] = n.is_static() && onesided ? ir::Dim(n.value / 2 + 1) : (onesided ? ir::Dim() : n);
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_dft(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!is_float_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  const int64_t rank = x.rank();
  if (rank < 2 || (x.dim(-1) != 1 && x.dim(-1) != 2)) {
    return ctx.fail("input must be [..., 1] (real) or [..., 2] (complex), got " + dims_to_string(x.dims()));
  }
  INGOT_ASSIGN_OR_RETURN(auto axis, dft_axis(ctx.node(), ctx.opset(),
                                             ctx.has_input(2) ? &ctx.input(2) : nullptr, ctx.has_input(2)));
  INGOT_ASSIGN_OR_RETURN(int64_t a, check_dft_axis(axis.value_or(-2), rank, ctx.node()));
  int64_t n = x.dim(a);
  if (ctx.has_input(1)) {
    INGOT_ASSIGN_OR_RETURN(n, scalar_int(ctx.input(1), ctx.node(), "dft_length"));
    if (n < 1) return ctx.fail("dft_length must be positive, got " + std::to_string(n));
  }
  const bool onesided = ctx.node().attr_int("onesided", 0) != 0;
  const bool inverse = ctx.node().attr_int("inverse", 0) != 0;
  const int64_t out_len = onesided ? n / 2 + 1 : n;
  Dims out = x.dims();
  out[a] = out_len;
  out.back() = 2;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < a; ++d) outer *= x.dim(d);
  for (int64_t d = a + 1; d + 1 < rank; ++d) inner *= x.dim(d);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out));
  const std::vector<double> xv = to_doubles(x);
  std::vector<double> yv(static_cast<size_t>(y->numel()));
  if (y->numel() > 0) {
    ref::dft(xv.data(), outer, x.dim(a), inner, static_cast<int>(x.dim(-1)), n, out_len, inverse, yv.data());
  }
  store_doubles(yv, y);
  return Status::Ok();
}

// ---- STFT ----

Status infer_stft(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs signal and frame_step");
  const DType dt = ctx.input_dtype(0);
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.has_input(2) && ctx.input_dtype(2) != dt) return ctx.fail("window type differs from signal type");
  ir::SymShape out{ir::Dim(), ir::Dim(), ir::Dim(), ir::Dim(2)};
  if (!ctx.input_has_shape(0)) {
    ctx.set_output(0, dt, out);
    return Status::Ok();
  }
  const ir::SymShape& x = ctx.input_shape(0);
  if (x.size() != 3) return ctx.fail("signal must be [batch, length, 1 or 2], got " + ir::shape_to_string(x));
  out[0] = x[0];
  std::optional<int64_t> frame_len, step;
  if (const Tensor* fl = ctx.input_const(3)) {
    INGOT_ASSIGN_OR_RETURN(int64_t v, scalar_int(*fl, ctx.node(), "frame_length"));
    frame_len = v;
  } else if (!ctx.has_input(3) && ctx.input_has_shape(2) && ctx.input_shape(2).size() == 1 &&
             ctx.input_shape(2)[0].is_static()) {
    frame_len = ctx.input_shape(2)[0].value;
  }
  if (const Tensor* fs = ctx.input_const(1)) {
    INGOT_ASSIGN_OR_RETURN(int64_t v, scalar_int(*fs, ctx.node(), "frame_step"));
    step = v;
  }
  if (frame_len) {
    if (*frame_len < 1) return ctx.fail("frame_length must be positive");
    const bool onesided = ctx.node().attr_int("onesided", 1) != 0;
    out[2] = ir::Dim(onesided ? *frame_len / 2 + 1 : *frame_len);
    if (step && x[1].is_static()) {
      if (*step < 1) return ctx.fail("frame_step must be positive");
      if (x[1].value < *frame_len) return ctx.fail("the signal is shorter than one frame");
      out[1] = ir::Dim(1 + (x[1].value - *frame_len) / *step);
    }
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_stft(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!is_float_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  if (x.rank() != 3 || (x.dim(2) != 1 && x.dim(2) != 2)) {
    return ctx.fail("signal must be [batch, length, 1 or 2], got " + dims_to_string(x.dims()));
  }
  INGOT_ASSIGN_OR_RETURN(int64_t step, scalar_int(ctx.input(1), ctx.node(), "frame_step"));
  const Tensor* win = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (win && (win->rank() != 1 || win->dtype() != x.dtype())) {
    return ctx.fail("window must be 1-D of the signal's type");
  }
  int64_t frame_len = win ? win->dim(0) : x.dim(1);
  if (ctx.has_input(3)) {
    INGOT_ASSIGN_OR_RETURN(frame_len, scalar_int(ctx.input(3), ctx.node(), "frame_length"));
  }
  if (step < 1) return ctx.fail("frame_step must be positive, got " + std::to_string(step));
  if (frame_len < 1) return ctx.fail("frame_length must be positive, got " + std::to_string(frame_len));
  const int64_t B = x.dim(0), L = x.dim(1), comps = x.dim(2);
  if (L < frame_len) {
    return ctx.fail("the signal (" + std::to_string(L) + " samples) is shorter than one frame (" +
                    std::to_string(frame_len) + ")");
  }
  const int64_t frames = 1 + (L - frame_len) / step;
  const int64_t W = win ? win->dim(0) : frame_len;
  const bool onesided = ctx.node().attr_int("onesided", 1) != 0;
  const int64_t bins = onesided ? frame_len / 2 + 1 : frame_len;
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), {B, frames, bins, 2}));
  const std::vector<double> xv = to_doubles(x);
  const std::vector<double> wv = win ? to_doubles(*win) : std::vector<double>(static_cast<size_t>(W), 1.0);
  // Frames of W samples (zero past the signal's end), weighted, one DFT of frame_len over each.
  std::vector<double> framed(static_cast<size_t>(B * frames * W * comps), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t f = 0; f < frames; ++f)
      for (int64_t s = 0; s < W; ++s) {
        const int64_t t = f * step + s;
        if (t >= L) continue;
        for (int64_t c = 0; c < comps; ++c)
          framed[((b * frames + f) * W + s) * comps + c] = xv[(b * L + t) * comps + c] * wv[s];
      }
  std::vector<double> yv(static_cast<size_t>(y->numel()));
  if (y->numel() > 0) {
    ref::dft(framed.data(), B * frames, W, 1, static_cast<int>(comps), frame_len, bins, false, yv.data());
  }
  store_doubles(yv, y);
  return Status::Ok();
}

// ---- Windows ----

bool is_output_datatype(int64_t t) {
  return dtype_is_valid(static_cast<int32_t>(t)) &&
         (is_float_type(static_cast<DType>(t)) || dtype_is_integer(static_cast<DType>(t)));
}

Expected<DType> output_datatype(const ir::Node& node) {
  const int64_t t = node.attr_int("output_datatype", static_cast<int64_t>(DType::kF32));
  if (!is_output_datatype(t)) {
    return invalid_argument(node.describe() + ": unsupported output_datatype " + std::to_string(t));
  }
  return static_cast<DType>(t);
}

Status infer_window(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("expects input size");
  if (!dtype_is_integer(ctx.input_dtype(0))) return ctx.fail("size must be an integer");
  INGOT_ASSIGN_OR_RETURN(DType dt, output_datatype(ctx.node()));
  ir::Dim n;
  if (const Tensor* s = ctx.input_const(0)) {
    INGOT_ASSIGN_OR_RETURN(int64_t v, scalar_int(*s, ctx.node(), "size"));
    if (v < 0) return ctx.fail("size must be non-negative, got " + std::to_string(v));
    n = ir::Dim(v);
  }
  ctx.set_output(0, dt, {n});
  return Status::Ok();
}

template <ref::WindowKind kKind>
Status run_window(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(int64_t size, scalar_int(ctx.input(0), ctx.node(), "size"));
  if (size < 0) return ctx.fail("size must be non-negative, got " + std::to_string(size));
  INGOT_ASSIGN_OR_RETURN(DType dt, output_datatype(ctx.node()));
  const bool periodic = ctx.node().attr_int("periodic", 1) != 0;
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, dt, {size}));
  store_doubles(ref::window(kKind, size, periodic), y);
  return Status::Ok();
}

// ---- MelWeightMatrix ----

Status infer_mel(InferContext& ctx) {
  for (size_t i = 0; i < 5; ++i) {
    if (!ctx.has_input(i)) return ctx.fail("expects 5 inputs");
  }
  for (size_t i = 0; i < 3; ++i) {
    if (!dtype_is_integer(ctx.input_dtype(i)))
      return ctx.fail("num_mel_bins, dft_length and sample_rate must be integers");
  }
  INGOT_ASSIGN_OR_RETURN(DType dt, output_datatype(ctx.node()));
  ir::Dim rows, cols;
  if (const Tensor* t = ctx.input_const(1)) {
    INGOT_ASSIGN_OR_RETURN(int64_t v, scalar_int(*t, ctx.node(), "dft_length"));
    rows = ir::Dim(v / 2 + 1);
  }
  if (const Tensor* t = ctx.input_const(0)) {
    INGOT_ASSIGN_OR_RETURN(int64_t v, scalar_int(*t, ctx.node(), "num_mel_bins"));
    cols = ir::Dim(v);
  }
  ctx.set_output(0, dt, {rows, cols});
  return Status::Ok();
}

Status run_mel(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(int64_t bins, scalar_int(ctx.input(0), ctx.node(), "num_mel_bins"));
  INGOT_ASSIGN_OR_RETURN(int64_t dft_len, scalar_int(ctx.input(1), ctx.node(), "dft_length"));
  INGOT_ASSIGN_OR_RETURN(int64_t rate, scalar_int(ctx.input(2), ctx.node(), "sample_rate"));
  if (bins < 1 || dft_len < 1 || rate < 1)
    return ctx.fail("num_mel_bins, dft_length and sample_rate must be positive");
  const Tensor& lo = ctx.input(3);
  const Tensor& hi = ctx.input(4);
  if (lo.numel() != 1 || hi.numel() != 1) return ctx.fail("the edge frequencies must be scalars");
  const double lo_hz = lo.get_f64(0), hi_hz = hi.get_f64(0);
  if (lo_hz < 0 || hi_hz <= lo_hz) return ctx.fail("expects 0 <= lower_edge_hertz < upper_edge_hertz");
  INGOT_ASSIGN_OR_RETURN(DType dt, output_datatype(ctx.node()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, dt, {dft_len / 2 + 1, bins}));
  store_doubles(ref::mel_weight_matrix(bins, dft_len, rate, lo_hz, hi_hz), y);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(DFT, .infer = infer_dft, .run = run_dft);
INGOT_REGISTER_OP(STFT, .infer = infer_stft, .run = run_stft);
INGOT_REGISTER_OP(HannWindow, .infer = infer_window, .run = run_window<ref::WindowKind::kHann>);
INGOT_REGISTER_OP(HammingWindow, .infer = infer_window, .run = run_window<ref::WindowKind::kHamming>);
INGOT_REGISTER_OP(BlackmanWindow, .infer = infer_window, .run = run_window<ref::WindowKind::kBlackman>);
INGOT_REGISTER_OP(MelWeightMatrix, .infer = infer_mel, .run = run_mel);

}  // namespace ingot::ops
