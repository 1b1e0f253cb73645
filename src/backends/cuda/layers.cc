// CUDA tactics on ingot's own kernels (kernels.cu): views, element-wise ops, pooling, reductions,
// softmax, layer norm and the data movement ops (transpose, concat, split, slice, gather).
#include <algorithm>
#include <cstring>
#include <set>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernels.h"

namespace ingot::backends::cuda {
namespace {

using kernels::BinOp;
using kernels::Fn;
using kernels::FnParams;
using kernels::Strided;

bool is_float(DType t) { return t == DType::kF32 || t == DType::kF16; }
int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t x : d) n *= x;
  return n;
}
std::vector<int64_t> strides_of(const Dims& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * d[i + 1];
  return s;
}
int64_t norm_axis(int64_t axis, size_t rank) { return axis < 0 ? axis + static_cast<int64_t>(rank) : axis; }
std::vector<int64_t> weight_ints(const engine::PlanTensor& t) { return t.weight.to_i64_vector(); }

// Inputs [from, to) must be float tensors and the output too; "-" when the op is not this tactic's.
std::string float_io(const LayerBuild& b, size_t n_in) {
  for (size_t i = 0; i < n_in; ++i)
    if (!b.has_in(i) || !is_float(b.in(i).dtype))
      return "input " + std::to_string(i) + " is not a float tensor";
  if (b.layer.outputs.empty() || b.layer.outputs[0] < 0 || !is_float(b.out(0).dtype))
    return "output is not float";
  return "";
}

// ---- views: Reshape, Flatten, Squeeze, Unsqueeze, Identity ----

const std::set<std::string> kViewOps = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};

class ViewLayer : public CudaLayer {
 public:
  Status enqueue(const Launch& l) const override {
    if (l.out[0].ptr == l.in[0].ptr) return Status::Ok();  // the plan made it an alias
    const size_t bytes = static_cast<size_t>(l.out[0].numel()) * dtype_size(l.out[0].dtype);
    INGOT_CUDA_OK(cudaMemcpyAsync(l.out[0].ptr, l.in[0].ptr, bytes, cudaMemcpyDeviceToDevice, l.stream));
    return Status::Ok();
  }
};

INGOT_REGISTER_CUDA_TACTIC(
    view, "cuda.ingot.view",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || !kViewOps.count(b.layer.op_type)) return "-";
      return b.has_in(0) ? "" : "no data input";
    },
    [](LayerBuild&) -> Expected<std::unique_ptr<CudaLayer>> { return make_layer<ViewLayer>(); });

// ---- unary element-wise ----

const std::map<std::string, Fn> kUnary = {{"Relu", Fn::kRelu},
                                          {"LeakyRelu", Fn::kLeakyRelu},
                                          {"Clip", Fn::kClip},
                                          {"Sigmoid", Fn::kSigmoid},
                                          {"HardSigmoid", Fn::kHardSigmoid},
                                          {"HardSwish", Fn::kHardSwish},
                                          {"Gelu", Fn::kGelu},
                                          {"Tanh", Fn::kTanh},
                                          {"Exp", Fn::kExp},
                                          {"Log", Fn::kLog},
                                          {"Sqrt", Fn::kSqrt},
                                          {"Neg", Fn::kNeg},
                                          {"Abs", Fn::kAbs},
                                          {"Erf", Fn::kErf},
                                          {"Reciprocal", Fn::kReciprocal}};

class UnaryLayer : public CudaLayer {
 public:
  explicit UnaryLayer(FnParams f) : f_(f) {}
  Status enqueue(const Launch& l) const override {
    kernels::epilogue(l.out[0].half(), l.out[0].ptr, l.in[0].ptr, nullptr, nullptr, l.out[0].numel(), 1, 1,
                      f_, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }

 private:
  FnParams f_;
};

INGOT_REGISTER_CUDA_TACTIC(
    unary, "cuda.ingot.unary",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || !kUnary.count(b.layer.op_type)) return "-";
      if (b.layer.op_type == "Clip")
        for (size_t i = 1; i < 3; ++i)
          if (b.has_in(i) && !b.is_weight(i)) return "min/max are not constants";
      return float_io(b, 1);
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      FnParams f;
      f.fn = kUnary.at(b.layer.op_type);
      const std::string& op = b.layer.op_type;
      if (op == "LeakyRelu") f.alpha = b.attr_float("alpha", 0.01f);
      if (op == "HardSigmoid") {
        f.alpha = b.attr_float("alpha", 0.2f);
        f.beta = b.attr_float("beta", 0.5f);
      }
      if (op == "Gelu" && b.attr_string("approximate", "none") == "tanh") f.fn = Fn::kGeluTanh;
      if (op == "Clip") {
        f.alpha = b.has_in(1) ? static_cast<float>(b.in(1).weight.get_f64(0)) : b.attr_float("min", -3.4e38f);
        f.beta = b.has_in(2) ? static_cast<float>(b.in(2).weight.get_f64(0)) : b.attr_float("max", 3.4e38f);
      }
      return make_layer<UnaryLayer>(f);
    });

// ---- binary element-wise with broadcasting ----

const std::map<std::string, BinOp> kBinary = {
    {"Add", BinOp::kAdd}, {"Sub", BinOp::kSub}, {"Mul", BinOp::kMul}, {"Div", BinOp::kDiv},
    {"Pow", BinOp::kPow}, {"Max", BinOp::kMax}, {"Min", BinOp::kMin}};

Strided broadcast_map(const Dims& in, const Dims& out) {
  Strided m;
  m.rank = static_cast<int>(out.size());
  const auto s = strides_of(in);
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < out.size(); ++d) {
    m.dims[d] = out[d];
    m.strides[d] = d < lead || in[d - lead] == 1 ? 0 : s[d - lead];
  }
  return m;
}

class BinaryLayer : public CudaLayer {
 public:
  BinaryLayer(BinOp op, Strided a, Strided b) : op_(op), a_(a), b_(b) {}
  Status enqueue(const Launch& l) const override {
    kernels::binary(l.out[0].half(), op_, l.out[0].ptr, l.in[0].ptr, a_, l.in[1].ptr, b_, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }

 private:
  BinOp op_;
  Strided a_, b_;
};

INGOT_REGISTER_CUDA_TACTIC(
    binary, "cuda.ingot.binary",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || !kBinary.count(b.layer.op_type) || b.layer.inputs.size() != 2)
        return "-";
      if (b.out(0).dims.size() > kernels::kMaxRank) return "rank over 8";
      return float_io(b, 2);
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      const Dims& out = b.out(0).dims;
      return make_layer<BinaryLayer>(kBinary.at(b.layer.op_type), broadcast_map(b.in(0).dims, out),
                                     broadcast_map(b.in(1).dims, out));
    });

// ---- pooling ----

class PoolLayer : public CudaLayer {
 public:
  bool max = false, include_pad = false, nhwc = false;
  float y_scale = 1;  // an s8 output's scale (engine::kQuantYScaleAttr)
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  Status enqueue(const Launch& l) const override {
    const Dims& x = l.in[0].dims;
    const Dims& y = l.out[0].dims;
    auto i = [](int64_t v) { return static_cast<int>(v); };
    // An int8 plan's kept tensors (keep_int8_activations): max pooling, NHWC, from s8 or FP16 into s8.
    if (l.in[0].dtype == DType::kI8) {
      kernels::maxpool_nhwc_s8(l.out[0].ptr, l.in[0].ptr, i(x[0]), i(x[1]), i(x[2]), i(x[3]), i(y[2]),
                               i(y[3]), kh, kw, sh, sw, ph, pw, dh, dw, l.stream);
      INGOT_CUDA_LAUNCHED();
      return Status::Ok();
    }
    if (l.out[0].dtype == DType::kI8) {
      kernels::maxpool_nhwc_f16_s8(l.out[0].ptr, l.in[0].ptr, i(x[0]), i(x[1]), i(x[2]), i(x[3]), i(y[2]),
                                   i(y[3]), kh, kw, sh, sw, ph, pw, dh, dw, y_scale, l.stream);
      INGOT_CUDA_LAUNCHED();
      return Status::Ok();
    }
    kernels::pool2d(l.out[0].half(), max, l.out[0].ptr, l.in[0].ptr, x[0] * x[1], static_cast<int>(x[2]),
                    static_cast<int>(x[3]), static_cast<int>(y[2]), static_cast<int>(y[3]), kh, kw, sh, sw,
                    ph, pw, dh, dw, include_pad, nhwc ? x[1] : 0, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }
};

class ReduceLayer : public CudaLayer {
 public:
  ReduceLayer(kernels::ReduceOp op, int64_t outer, int64_t r, int64_t inner)
      : op_(op), o_(outer), r_(r), i_(inner) {}
  Status enqueue(const Launch& l) const override {
    kernels::reduce(l.out[0].half(), op_, l.out[0].ptr, l.in[0].ptr, o_, r_, i_, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }

 private:
  kernels::ReduceOp op_;
  int64_t o_, r_, i_;
};

INGOT_REGISTER_CUDA_TACTIC(
    pool, "cuda.ingot.pool2d",
    [](const LayerBuild& b) -> std::string {
      const std::string& op = b.layer.op_type;
      if (!b.layer.domain.empty() || (op != "MaxPool" && op != "AveragePool")) return "-";
      if (b.in(0).dims.size() != 4) return "only 2-D pooling (NCHW)";
      if (b.layer.outputs.size() > 1 && b.layer.outputs[1] >= 0) return "MaxPool's Indices output";
      if (b.attr_string("auto_pad", "NOTSET") != "NOTSET") return "auto_pad";
      const auto pads = b.attr_ints("pads");
      if (pads.size() == 4 && (pads[0] != pads[2] || pads[1] != pads[3])) return "asymmetric pads";
      if (b.in(0).dtype == DType::kI8 || b.out(0).dtype == DType::kI8) {
        if (op != "MaxPool" || b.out(0).dtype != DType::kI8) return "int8 pooling is max pooling into int8";
        if (b.in(0).dtype != DType::kI8 && !(b.fp16 && b.in(0).dtype == DType::kF32))
          return "int8 pooling reads int8 or FP16";
        if (b.in(0).dtype != DType::kI8 && !(b.attr_float(engine::kQuantYScaleAttr, 0.f) > 0.f))
          return "no scale for the int8 output";
        if (!b.nhwc_in(0) || !b.nhwc_out(0)) return "int8 pooling is channels-last";
        return "";
      }
      return float_io(b, 1);
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      auto p = std::make_unique<PoolLayer>();
      p->max = b.layer.op_type == "MaxPool";
      p->include_pad = b.attr_int("count_include_pad", 0) != 0;
      p->y_scale = b.attr_float(engine::kQuantYScaleAttr, 1.f);
      p->nhwc = b.nhwc_in(0);
      const auto k = b.attr_ints("kernel_shape"), s = b.attr_ints("strides"), pads = b.attr_ints("pads"),
                 d = b.attr_ints("dilations");
      if (k.size() != 2) return invalid_argument("kernel_shape must have 2 values");
      p->kh = static_cast<int>(k[0]);
      p->kw = static_cast<int>(k[1]);
      if (s.size() == 2) p->sh = static_cast<int>(s[0]), p->sw = static_cast<int>(s[1]);
      if (pads.size() == 4) p->ph = static_cast<int>(pads[0]), p->pw = static_cast<int>(pads[1]);
      if (d.size() == 2) p->dh = static_cast<int>(d[0]), p->dw = static_cast<int>(d[1]);
      return std::unique_ptr<CudaLayer>(std::move(p));
    });

const std::map<std::string, kernels::ReduceOp> kReduce = {
    {"GlobalAveragePool", kernels::ReduceOp::kMean}, {"GlobalMaxPool", kernels::ReduceOp::kMax},
    {"ReduceMean", kernels::ReduceOp::kMean},        {"ReduceSum", kernels::ReduceOp::kSum},
    {"ReduceMax", kernels::ReduceOp::kMax},          {"ReduceMin", kernels::ReduceOp::kMin}};

// The reduced axes (sorted, non-negative), or an error when they are not given as constants.
Expected<std::vector<int64_t>> reduce_axes(const LayerBuild& b) {
  const size_t rank = b.in(0).dims.size();
  std::vector<int64_t> axes;
  if (b.layer.op_type.rfind("Global", 0) == 0) {
    for (size_t d = 2; d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
    return axes;
  }
  if (b.has_in(1)) {
    if (!b.is_weight(1)) return unsupported("axes are not constant");
    axes = weight_ints(b.in(1));
  } else {
    axes = b.attr_ints("axes");
  }
  if (axes.empty()) {
    if (b.attr_int("noop_with_empty_axes", 0)) return unsupported("noop_with_empty_axes");
    for (size_t d = 0; d < rank; ++d) axes.push_back(static_cast<int64_t>(d));
  }
  for (int64_t& a : axes) a = norm_axis(a, rank);
  std::sort(axes.begin(), axes.end());
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] != axes[i - 1] + 1) return unsupported("reduced axes are not adjacent");
  return axes;
}

INGOT_REGISTER_CUDA_TACTIC(
    reduce, "cuda.ingot.reduce",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || !kReduce.count(b.layer.op_type)) return "-";
      auto axes = reduce_axes(b);
      if (!axes.ok()) return axes.status().message();
      return float_io(b, 1);
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      INGOT_ASSIGN_OR_RETURN(auto axes, reduce_axes(b));
      const Dims& x = b.in(0).dims;
      if (b.nhwc_in(0))  // global pooling of a channels-last input: [N, H*W, C] reduced over H*W
        return make_layer<ReduceLayer>(kReduce.at(b.layer.op_type), x[0], x[2] * x[3], x[1]);
      int64_t outer = 1, r = 1, inner = 1;
      for (size_t d = 0; d < x.size(); ++d) {
        const auto a = static_cast<int64_t>(d);
        (a < axes.front() ? outer : a > axes.back() ? inner : r) *= x[d];
      }
      return make_layer<ReduceLayer>(kReduce.at(b.layer.op_type), outer, r, inner);
    });

// ---- softmax and layer norm ----

class SoftmaxLayer : public CudaLayer {
 public:
  SoftmaxLayer(bool log, int64_t outer, int64_t r, int64_t inner) : log_(log), o_(outer), r_(r), i_(inner) {}
  Status enqueue(const Launch& l) const override {
    kernels::softmax(l.out[0].half(), log_, l.out[0].ptr, l.in[0].ptr, o_, r_, i_, 1.f, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }

 private:
  bool log_;
  int64_t o_, r_, i_;
};

INGOT_REGISTER_CUDA_TACTIC(
    softmax, "cuda.ingot.softmax",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || (b.layer.op_type != "Softmax" && b.layer.op_type != "LogSoftmax"))
        return "-";
      return float_io(b, 1);
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      const Dims& x = b.in(0).dims;
      const bool legacy = b.layer.opset < 13;
      const int64_t axis = norm_axis(b.attr_int("axis", legacy ? 1 : -1), x.size());
      int64_t outer = 1, r = 1, inner = 1;
      for (size_t d = 0; d < x.size(); ++d) {
        const auto a = static_cast<int64_t>(d);
        if (a < axis)
          outer *= x[d];
        else if (a == axis || legacy)
          r *= x[d];
        else
          inner *= x[d];
      }
      return make_layer<SoftmaxLayer>(b.layer.op_type == "LogSoftmax", outer, r, inner);
    });

class LayerNormLayer : public CudaLayer {
 public:
  LayerNormLayer(int64_t rows, int64_t r, float eps) : rows_(rows), r_(r), eps_(eps) {}
  Status enqueue(const Launch& l) const override {
    kernels::layer_norm(l.out[0].half(), l.out[0].ptr, l.in[0].ptr, l.in[1].ptr,
                        l.in.size() > 2 ? l.in[2].ptr : nullptr, rows_, r_, eps_, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }

 private:
  int64_t rows_, r_;
  float eps_;
};

INGOT_REGISTER_CUDA_TACTIC(
    layer_norm, "cuda.ingot.layernorm",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || b.layer.op_type != "LayerNormalization") return "-";
      for (size_t o = 1; o < b.layer.outputs.size(); ++o)
        if (b.layer.outputs[o] >= 0) return "Mean / InvStdDev outputs";
      const Dims& x = b.in(0).dims;
      const int64_t axis = norm_axis(b.attr_int("axis", -1), x.size());
      int64_t r = 1;
      for (size_t d = axis; d < x.size(); ++d) r *= x[d];
      if (numel(b.in(1).dims) != r || (b.has_in(2) && numel(b.in(2).dims) != r))
        return "scale / bias broadcast over the normalized dims";
      return float_io(b, 2);
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      const Dims& x = b.in(0).dims;
      const int64_t axis = norm_axis(b.attr_int("axis", -1), x.size());
      int64_t rows = 1, r = 1;
      for (size_t d = 0; d < x.size(); ++d) (static_cast<int64_t>(d) < axis ? rows : r) *= x[d];
      return make_layer<LayerNormLayer>(rows, r, b.attr_float("epsilon", 1e-5f));
    });

// ---- data movement ----

class StridedCopyLayer : public CudaLayer {
 public:
  explicit StridedCopyLayer(Strided m) : m_(m) {}
  Status enqueue(const Launch& l) const override {
    kernels::strided_copy(dtype_size(l.out[0].dtype), l.out[0].ptr, l.in[0].ptr, m_, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }

 private:
  Strided m_;
};

std::string movable(const LayerBuild& b) {
  if (!b.has_in(0)) return "no data input";
  const size_t e = dtype_size(b.in(0).dtype);
  if (e != 1 && e != 2 && e != 4 && e != 8) return "element size";
  if (b.in(0).dims.size() > kernels::kMaxRank || b.out(0).dims.size() > kernels::kMaxRank)
    return "rank over 8";
  return "";
}

INGOT_REGISTER_CUDA_TACTIC(
    transpose, "cuda.ingot.transpose",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || b.layer.op_type != "Transpose") return "-";
      return movable(b);
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      const Dims& x = b.in(0).dims;
      auto perm = b.attr_ints("perm");
      if (perm.empty())
        for (size_t d = 0; d < x.size(); ++d) perm.insert(perm.begin(), static_cast<int64_t>(d));
      const auto s = strides_of(x);
      Strided m;
      m.rank = static_cast<int>(x.size());
      for (size_t d = 0; d < x.size(); ++d) {
        m.dims[d] = x[perm[d]];
        m.strides[d] = s[perm[d]];
      }
      return make_layer<StridedCopyLayer>(m);
    });

// Slice with constant starts/ends/axes/steps.
Expected<Strided> slice_map(const LayerBuild& b) {
  const Dims& x = b.in(0).dims;
  const Dims& y = b.out(0).dims;
  for (size_t i = 1; i < b.layer.inputs.size(); ++i)
    if (b.has_in(i) && !b.is_weight(i)) return unsupported("starts/ends/axes/steps are not constants");
  std::vector<int64_t> starts = b.has_in(1) ? weight_ints(b.in(1)) : b.attr_ints("starts");
  std::vector<int64_t> axes = b.has_in(3) ? weight_ints(b.in(3)) : b.attr_ints("axes");
  std::vector<int64_t> steps = b.has_in(4) ? weight_ints(b.in(4)) : std::vector<int64_t>{};
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  const auto s = strides_of(x);
  Strided m;
  m.rank = static_cast<int>(x.size());
  for (size_t d = 0; d < x.size(); ++d) {
    m.dims[d] = y[d];
    m.strides[d] = s[d];
  }
  for (size_t i = 0; i < axes.size() && i < starts.size(); ++i) {
    const int64_t a = norm_axis(axes[i], x.size());
    const int64_t step = i < steps.size() ? steps[i] : 1;
    if (step == 0) return invalid_argument("Slice step 0");
    int64_t st = starts[i];
    if (st < 0) st += x[a];
    st = step > 0 ? std::clamp<int64_t>(st, 0, x[a]) : std::clamp<int64_t>(st, 0, x[a] - 1);
    m.offset += st * s[a];
    m.strides[a] = s[a] * step;
  }
  return m;
}

INGOT_REGISTER_CUDA_TACTIC(
    slice, "cuda.ingot.slice",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || b.layer.op_type != "Slice") return "-";
      auto m = slice_map(b);
      return m.ok() ? movable(b) : m.status().message();
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      INGOT_ASSIGN_OR_RETURN(Strided m, slice_map(b));
      return make_layer<StridedCopyLayer>(m);
    });

// Concat and Split: 2-D copies of [outer, part * inner] blocks.
class BlocksLayer : public CudaLayer {
 public:
  bool concat = true;
  int64_t outer = 1, inner = 1, total = 0;
  std::vector<int64_t> parts;
  Status enqueue(const Launch& l) const override {
    const size_t e = dtype_size(concat ? l.out[0].dtype : l.in[0].dtype);
    char* base = static_cast<char*>(concat ? l.out[0].ptr : l.in[0].ptr);
    int64_t at = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      const size_t width = static_cast<size_t>(parts[i] * inner) * e,
                   pitch = static_cast<size_t>(total * inner) * e;
      char* big = base + static_cast<size_t>(at * inner) * e;
      void* small = concat ? l.in[i].ptr : l.out[i].ptr;
      if (width && outer) {
        if (concat)
          INGOT_CUDA_OK(
              cudaMemcpy2DAsync(big, pitch, small, width, width, outer, cudaMemcpyDeviceToDevice, l.stream));
        else
          INGOT_CUDA_OK(
              cudaMemcpy2DAsync(small, width, big, pitch, width, outer, cudaMemcpyDeviceToDevice, l.stream));
      }
      at += parts[i];
    }
    return Status::Ok();
  }
};

INGOT_REGISTER_CUDA_TACTIC(
    concat, "cuda.ingot.concat",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || (b.layer.op_type != "Concat" && b.layer.op_type != "Split")) return "-";
      for (size_t i = 0; i < b.layer.inputs.size(); ++i)
        if (!b.has_in(i) && b.layer.op_type == "Concat") return "omitted input";
      for (int32_t o : b.layer.outputs)
        if (o < 0) return "omitted output";
      return "";
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      auto p = std::make_unique<BlocksLayer>();
      p->concat = b.layer.op_type == "Concat";
      const Dims& whole = p->concat ? b.out(0).dims : b.in(0).dims;
      const int64_t axis = norm_axis(b.attr_int("axis", 0), whole.size());
      for (size_t d = 0; d < whole.size(); ++d) {
        if (static_cast<int64_t>(d) < axis) p->outer *= whole[d];
        if (static_cast<int64_t>(d) > axis) p->inner *= whole[d];
      }
      p->total = whole[axis];
      const size_t n = p->concat ? b.layer.inputs.size() : b.layer.outputs.size();
      for (size_t i = 0; i < n; ++i) p->parts.push_back(p->concat ? b.in(i).dims[axis] : b.out(i).dims[axis]);
      return std::unique_ptr<CudaLayer>(std::move(p));
    });

class GatherLayer : public CudaLayer {
 public:
  std::unique_ptr<void, void (*)(void*)> indices{nullptr, [](void* p) { cudaFree(p); }};
  int64_t outer = 1, axis = 1, n_idx = 1, inner = 1;
  Status enqueue(const Launch& l) const override {
    kernels::gather(dtype_size(l.out[0].dtype), l.out[0].ptr, l.in[0].ptr,
                    static_cast<const int64_t*>(indices.get()), outer, axis, n_idx, inner, l.stream);
    INGOT_CUDA_LAUNCHED();
    return Status::Ok();
  }
};

INGOT_REGISTER_CUDA_TACTIC(
    gather, "cuda.ingot.gather",
    [](const LayerBuild& b) -> std::string {
      if (!b.layer.domain.empty() || b.layer.op_type != "Gather") return "-";
      if (!b.is_weight(1)) return "indices are not constant";
      const size_t e = dtype_size(b.in(0).dtype);
      if (e != 2 && e != 4 && e != 8) return "element size";
      const Dims& x = b.in(0).dims;
      const int64_t axis = norm_axis(b.attr_int("axis", 0), x.size());
      for (int64_t k : weight_ints(b.in(1)))
        if (k < -x[axis] || k >= x[axis]) return "an index is out of range";
      return "";
    },
    [](LayerBuild& b) -> Expected<std::unique_ptr<CudaLayer>> {
      auto p = std::make_unique<GatherLayer>();
      const Dims& x = b.in(0).dims;
      const int64_t axis = norm_axis(b.attr_int("axis", 0), x.size());
      for (size_t d = 0; d < x.size(); ++d) {
        if (static_cast<int64_t>(d) < axis) p->outer *= x[d];
        if (static_cast<int64_t>(d) > axis) p->inner *= x[d];
      }
      p->axis = x[axis];
      const std::vector<int64_t> idx = weight_ints(b.in(1));
      p->n_idx = static_cast<int64_t>(idx.size());
      void* d = nullptr;
      INGOT_CUDA_OK(cudaMalloc(&d, std::max<size_t>(1, idx.size() * 8)));
      p->indices.reset(d);
      INGOT_CUDA_OK(cudaMemcpy(d, idx.data(), idx.size() * 8, cudaMemcpyHostToDevice));
      return std::unique_ptr<CudaLayer>(std::move(p));
    });

}  // namespace

Expected<FnParams> fused_activation(const LayerBuild& b) {
  static const std::pair<const char*, Fn> kNames[] = {{"", Fn::kNone},
                                                      {"Relu", Fn::kRelu},
                                                      {"LeakyRelu", Fn::kLeakyRelu},
                                                      {"Clip", Fn::kClip},
                                                      {"Sigmoid", Fn::kSigmoid},
                                                      {"HardSigmoid", Fn::kHardSigmoid},
                                                      {"HardSwish", Fn::kHardSwish},
                                                      {"Silu", Fn::kSilu},
                                                      {"Gelu", Fn::kGelu},
                                                      {"GeluTanh", Fn::kGeluTanh},
                                                      {"Tanh", Fn::kTanh}};
  const std::string name = b.attr_string("activation", "");
  for (const auto& [n, f] : kNames)
    if (name == n)
      return FnParams{f, b.attr_float("activation_alpha", 0), b.attr_float("activation_beta", 0)};
  return unsupported("activation '" + name + "'");
}

}  // namespace ingot::backends::cuda
