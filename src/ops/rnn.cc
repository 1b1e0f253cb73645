// RNN, GRU, LSTM: forward / reverse / bidirectional, activation lists with alpha / beta, clip,
// sequence_lens, initial states, LSTM peepholes and input_forget, GRU linear_before_reset, layout 0
// (time-major) and 1 (batch-major). The kernel works time-major in float (double for double inputs),
// so layout 1 is transposed on the way in and out here.
#include <algorithm>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/rnn.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

using ref::RnnCell;

// Inputs: X W R B sequence_lens initial_h [initial_c P]; outputs Y Y_h [Y_c].
constexpr size_t kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kH0 = 5, kC0 = 6, kP = 7;

int activation_count(RnnCell cell) { return cell == RnnCell::kRnn ? 1 : cell == RnnCell::kGru ? 2 : 3; }

bool is_rnn_dtype(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
}

Expected<int64_t> num_directions(const ir::Node& node, bool* reverse) {
  const std::string dir = node.attr_string("direction", "forward");
  *reverse = dir == "reverse";
  if (dir == "forward" || dir == "reverse") return 1;
  if (dir == "bidirectional") return 2;
  return invalid_argument(node.describe() + ": unknown direction '" + dir + "'");
}

// The attributes every form shares, checked once for infer and run.
struct RnnAttrs {
  ref::RnnParams p;
  int64_t layout = 0;
  int64_t hidden_attr = -1;  // hidden_size when given
};

Expected<RnnAttrs> read_attrs(const ir::Node& node, RnnCell cell) {
  RnnAttrs a;
  a.p.cell = cell;
  INGOT_ASSIGN_OR_RETURN(a.p.num_directions, num_directions(node, &a.p.reverse));
  a.layout = node.attr_int("layout", 0);
  if (a.layout != 0 && a.layout != 1) {
    return invalid_argument(node.describe() + ": layout must be 0 or 1, got " + std::to_string(a.layout));
  }
  if (node.has_attr("hidden_size")) {
    a.hidden_attr = node.attr_int("hidden_size", 0);
    if (a.hidden_attr <= 0) return invalid_argument(node.describe() + ": hidden_size must be positive");
  }
  a.p.clip = node.attr_float("clip", 0.0f);
  if (node.has_attr("clip") && !(a.p.clip > 0))
    return invalid_argument(node.describe() + ": clip must be positive");
  a.p.input_forget = node.attr_int("input_forget", 0) != 0;
  a.p.linear_before_reset = node.attr_int("linear_before_reset", 0) != 0;

  // Activations: n per direction, the same list reused for both directions when only n are given.
  // alpha / beta entries are consumed in order by the functions that take them.
  const int n = activation_count(cell);
  std::vector<std::string> names = node.attr_strings("activations");
  if (names.empty()) {
    if (cell == RnnCell::kRnn)
      names = {"Tanh"};
    else if (cell == RnnCell::kGru)
      names = {"Sigmoid", "Tanh"};
    else
      names = {"Sigmoid", "Tanh", "Tanh"};
  }
  const size_t D = static_cast<size_t>(a.p.num_directions);
  if (names.size() == static_cast<size_t>(n) && D == 2) {
    const std::vector<std::string> once = names;  // inserting a vector's own range into it is undefined
    names.insert(names.end(), once.begin(), once.end());
  }
  if (names.size() != static_cast<size_t>(n) * D) {
    return invalid_argument(node.describe() + ": expected " + std::to_string(n * D) + " activations, got " +
                            std::to_string(names.size()));
  }
  const std::vector<float> alphas = node.attr_floats("activation_alpha");
  const std::vector<float> betas = node.attr_floats("activation_beta");
  size_t ai = 0, bi = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    ref::RnnActivationFn fn;
    bool ua = false, ub = false;
    if (!ref::parse_rnn_activation(names[k], &fn, &ua, &ub)) {
      return invalid_argument(node.describe() + ": unsupported activation '" + names[k] + "'");
    }
    if (ua && ai < alphas.size()) fn.alpha = alphas[ai++];
    if (ub && bi < betas.size()) fn.beta = betas[bi++];
    a.p.act[k / n][k % n] = fn;
  }
  return a;
}

template <RnnCell kCell>
Status infer_rnn(InferContext& ctx) {
  if (!ctx.has_input(kX) || !ctx.has_input(kW) || !ctx.has_input(kR))
    return ctx.fail("expects inputs X, W and R");
  const DType dt = ctx.input_dtype(kX);
  if (!is_rnn_dtype(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  for (size_t i : {kW, kR, kB, kH0, kC0, kP}) {
    if (ctx.has_input(i) && ctx.input_dtype(i) != dt) {
      return ctx.fail(std::string("input types differ: ") + dtype_name(dt) + " and " +
                      dtype_name(ctx.input_dtype(i)));
    }
  }
  INGOT_ASSIGN_OR_RETURN(RnnAttrs a, read_attrs(ctx.node(), kCell));
  const int64_t D = a.p.num_directions;
  const int64_t G = ref::rnn_gate_count(kCell);
  ir::Dim hidden = a.hidden_attr > 0 ? ir::Dim(a.hidden_attr) : ir::Dim();
  if (!hidden.is_static() && ctx.input_has_shape(kR) && ctx.input_shape(kR).size() == 3) {
    hidden = ctx.input_shape(kR)[2];
  }
  if (ctx.input_has_shape(kW)) {
    const auto& w = ctx.input_shape(kW);
    if (w.size() != 3) return ctx.fail("W must be 3-D, got " + ir::shape_to_string(w));
    if (w[0].is_static() && w[0].value != D) return ctx.fail("W's first dim must be num_directions");
    if (w[1].is_static() && hidden.is_static() && w[1].value != G * hidden.value) {
      return ctx.fail("W has shape " + ir::shape_to_string(w) + ", expected " + std::to_string(G) +
                      " * hidden_size rows");
    }
  }
  ir::Dim seq, batch;
  if (ctx.input_has_shape(kX)) {
    const auto& x = ctx.input_shape(kX);
    if (x.size() != 3) return ctx.fail("X must be 3-D, got " + ir::shape_to_string(x));
    seq = a.layout == 0 ? x[0] : x[1];
    batch = a.layout == 0 ? x[1] : x[0];
  }
  if (a.layout == 0) {
    ctx.set_output(0, dt, {seq, ir::Dim(D), batch, hidden});
    for (size_t o = 1; o < ctx.num_outputs(); ++o) ctx.set_output(o, dt, {ir::Dim(D), batch, hidden});
  } else {
    ctx.set_output(0, dt, {batch, seq, ir::Dim(D), hidden});
    for (size_t o = 1; o < ctx.num_outputs(); ++o) ctx.set_output(o, dt, {batch, ir::Dim(D), hidden});
  }
  return Status::Ok();
}

// Copies a tensor into A, swapping its first two dims when `swap01` (layout 1 -> layout 0).
template <typename T, typename A>
std::vector<A> load(const Tensor& t, bool swap01) {
  std::vector<A> out(static_cast<size_t>(t.numel()));
  const T* src = t.data<T>();
  if (!swap01 || t.rank() < 2) {
    for (int64_t i = 0; i < t.numel(); ++i) out[i] = static_cast<A>(src[i]);
    return out;
  }
  const int64_t d0 = t.dim(0), d1 = t.dim(1), inner = t.numel() / std::max<int64_t>(1, d0 * d1);
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j)
      for (int64_t k = 0; k < inner; ++k)
        out[(j * d0 + i) * inner + k] = static_cast<A>(src[(i * d1 + j) * inner + k]);
  return out;
}

// Writes A values of layout-0 dims `d` into `t`, moving dim `from` to the front when layout is 1
// (Y [S, D, B, H] -> [B, S, D, H] is from = 2; Y_h [D, B, H] -> [B, D, H] is from = 1).
template <typename T, typename A>
void store(const std::vector<A>& v, const Dims& d, int from, Tensor* t) {
  T* dst = t->data<T>();
  if (from == 0) {
    for (size_t i = 0; i < v.size(); ++i) dst[i] = static_cast<T>(v[i]);
    return;
  }
  int64_t outer = 1, inner = 1;
  for (int k = 0; k < from; ++k) outer *= d[k];
  for (size_t k = from + 1; k < d.size(); ++k) inner *= d[k];
  const int64_t mid = d[from];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t m = 0; m < mid; ++m)
      for (int64_t i = 0; i < inner; ++i)
        dst[(m * outer + o) * inner + i] = static_cast<T>(v[(o * mid + m) * inner + i]);
}

Status check_dims(const RunContext& ctx, size_t i, const char* name, const Dims& want) {
  if (!ctx.has_input(i)) return Status::Ok();
  if (ctx.input(i).dims() != want) {
    return ctx.fail(std::string(name) + " has shape " + dims_to_string(ctx.input(i).dims()) + ", expected " +
                    dims_to_string(want));
  }
  return Status::Ok();
}

template <RnnCell kCell>
Status run_rnn(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(RnnAttrs a, read_attrs(ctx.node(), kCell));
  ref::RnnParams& p = a.p;
  const Tensor& x = ctx.input(kX);
  const Tensor& w = ctx.input(kW);
  const Tensor& r = ctx.input(kR);
  const DType dt = x.dtype();
  if (!is_rnn_dtype(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  for (size_t i : {kW, kR, kB, kH0, kC0, kP}) {
    if (ctx.has_input(i) && ctx.input(i).dtype() != dt) return ctx.fail("input types differ");
  }
  if (x.rank() != 3) return ctx.fail("X must be 3-D, got " + dims_to_string(x.dims()));
  if (w.rank() != 3 || r.rank() != 3) {
    return ctx.fail("W and R must be 3-D, got " + dims_to_string(w.dims()) + " and " +
                    dims_to_string(r.dims()));
  }
  const bool l1 = a.layout == 1;
  const int64_t D = p.num_directions, G = ref::rnn_gate_count(kCell);
  p.seq_length = l1 ? x.dim(1) : x.dim(0);
  p.batch = l1 ? x.dim(0) : x.dim(1);
  p.input_size = x.dim(2);
  p.hidden = a.hidden_attr > 0 ? a.hidden_attr : r.dim(2);
  const int64_t H = p.hidden, B = p.batch, S = p.seq_length;
  INGOT_RETURN_IF_ERROR(check_dims(ctx, kW, "W", {D, G * H, p.input_size}));
  INGOT_RETURN_IF_ERROR(check_dims(ctx, kR, "R", {D, G * H, H}));
  INGOT_RETURN_IF_ERROR(check_dims(ctx, kB, "B", {D, 2 * G * H}));
  INGOT_RETURN_IF_ERROR(check_dims(ctx, kSeqLens, "sequence_lens", {B}));
  const Dims state = l1 ? Dims{B, D, H} : Dims{D, B, H};
  INGOT_RETURN_IF_ERROR(check_dims(ctx, kH0, "initial_h", state));
  if (kCell == RnnCell::kLstm) {
    INGOT_RETURN_IF_ERROR(check_dims(ctx, kC0, "initial_c", state));
    INGOT_RETURN_IF_ERROR(check_dims(ctx, kP, "P", {D, 3 * H}));
  }
  std::vector<int32_t> lens;
  if (ctx.has_input(kSeqLens)) {
    const Tensor& sl = ctx.input(kSeqLens);
    if (!dtype_is_integer(sl.dtype())) return ctx.fail("sequence_lens must be int32");
    for (int64_t v : sl.to_i64_vector()) {
      if (v < 0 || v > S) {
        return ctx.fail("sequence_lens value " + std::to_string(v) + " is outside [0, " + std::to_string(S) +
                        "]");
      }
      lens.push_back(static_cast<int32_t>(v));
    }
  }

  const Dims y_dims = {S, D, B, H}, s_dims = {D, B, H};
  Tensor *y = nullptr, *yh = nullptr, *yc = nullptr;
  if (ctx.has_output(0)) {
    INGOT_ASSIGN_OR_RETURN(y, ctx.alloc_output(0, dt, l1 ? Dims{B, S, D, H} : y_dims));
  }
  if (ctx.has_output(1)) {
    INGOT_ASSIGN_OR_RETURN(yh, ctx.alloc_output(1, dt, state));
  }
  if (kCell == RnnCell::kLstm && ctx.has_output(2)) {
    INGOT_ASSIGN_OR_RETURN(yc, ctx.alloc_output(2, dt, state));
  }

  dispatch_float(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = std::conditional_t<std::is_same_v<T, double>, double, float>;
    auto opt = [&](size_t i, bool swap) {
      return ctx.has_input(i) && (kCell == RnnCell::kLstm || i < kC0) ? load<T, A>(ctx.input(i), swap)
                                                                      : std::vector<A>{};
    };
    const std::vector<A> xv = load<T, A>(x, l1), wv = load<T, A>(w, false), rv = load<T, A>(r, false);
    const std::vector<A> bv = opt(kB, false), h0 = opt(kH0, l1), c0 = opt(kC0, l1), pv = opt(kP, false);
    std::vector<A> yv(y ? static_cast<size_t>(S * D * B * H) : 0), yhv(static_cast<size_t>(D * B * H)),
        ycv(static_cast<size_t>(D * B * H));
    auto ptr = [](const std::vector<A>& v) { return v.empty() ? nullptr : v.data(); };
    ref::rnn<A>(p, xv.data(), wv.data(), rv.data(), ptr(bv), lens.empty() ? nullptr : lens.data(), ptr(h0),
                ptr(c0), ptr(pv), y ? yv.data() : nullptr, yhv.data(), ycv.data());
    if (y) store<T, A>(yv, y_dims, l1 ? 2 : 0, y);
    if (yh) store<T, A>(yhv, s_dims, l1 ? 1 : 0, yh);
    if (yc) store<T, A>(ycv, s_dims, l1 ? 1 : 0, yc);
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(RNN, .infer = infer_rnn<RnnCell::kRnn>, .run = run_rnn<RnnCell::kRnn>);
INGOT_REGISTER_OP(GRU, .infer = infer_rnn<RnnCell::kGru>, .run = run_rnn<RnnCell::kGru>);
INGOT_REGISTER_OP(LSTM, .infer = infer_rnn<RnnCell::kLstm>, .run = run_rnn<RnnCell::kLstm>);

}  // namespace ingot::ops
