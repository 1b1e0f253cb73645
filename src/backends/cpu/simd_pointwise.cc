// Row-wise and element-wise layers on ingot's SIMD kernels, rows split over the pool:
//   cpu.ingot.softmax.*    Softmax over the last axis (opset >= 13) or the trailing dims from `axis` (< 13)
//   cpu.ingot.layernorm.*  LayerNormalization with Y only, scale / B of the normalized shape
//   cpu.ingot.gelu.*       Gelu (opset 20, approximate = "none")
//   cpu.ingot.channel_scale.*  Mul of an [N, C, H, W] tensor by one value per channel ([N or 1, C, 1, 1]):
//                          the squeeze-and-excitation scaling of efficientnet and mobilenet_v3
//   cpu.ingot.global_avg_pool.*  GlobalAveragePool over the spatial dims of a plain [N, C, ...] tensor
#include <algorithm>
#include <limits>

#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"
#include "core/threading.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

// Rows per thread below which splitting is not worth it: about 16K floats of work per thread.
int64_t row_grain(int64_t n) { return std::max<int64_t>(1, (16 << 10) / std::max<int64_t>(n, 1)); }

std::string single_f32_output(const LayerDesc& d) {
  for (size_t i = 1; i < d.layer.outputs.size(); ++i)
    if (d.layer.outputs[i] >= 0) return "more than one output";
  return check_f32(d.output(0), "the output");
}

// Normalized axis of `node` for rank r, or -1 when out of range.
int64_t axis_of(const ir::Node& node, int64_t dflt, int64_t r) {
  int64_t a = node.attr_int("axis", dflt);
  if (a < 0) a += r;
  return a >= 0 && a < r ? a : -1;
}

// ---- Softmax

int64_t softmax_default_axis(int opset) { return opset >= 13 ? -1 : 1; }

std::string softmax_supports(const LayerDesc& d) {
  if (!d.layer.domain.empty() || d.layer.op_type != "Softmax") return "not a Softmax";
  std::string why = check_f32(d.input(0), "X");
  if (why.empty()) why = single_f32_output(d);
  if (!why.empty()) return why;
  const LayerNode ln(d.layer, d.tensors);
  const int64_t r = static_cast<int64_t>(d.input(0)->dims.size());
  if (r == 0) return "scalar input";
  const int64_t axis = axis_of(ln.node, softmax_default_axis(d.layer.opset), r);
  if (axis < 0) return "axis out of range";
  if (d.layer.opset >= 13 && axis != r - 1) return "axis is not the last";
  return "";
}

class SoftmaxKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit SoftmaxKernel(const SimdKernels& k) : k_(k) {}
  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kF32) return ctx.fail("X must be float32");
    const int64_t axis = axis_of(ctx.node(), softmax_default_axis(ctx.opset()), x.rank());
    if (axis < 0 || (ctx.opset() >= 13 && axis != x.rank() - 1)) return ctx.fail("axis is not the last");
    int64_t rows = 1, n = 1;
    for (int64_t i = 0; i < x.rank(); ++i) (i < axis ? rows : n) *= x.dim(i);
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, x.dims()));
    if (y->numel() == 0) return Status::Ok();
    const float* xp = x.data<float>();
    float* yp = y->data<float>();
    parallel_for(rows, row_grain(n), [&](int64_t b, int64_t e) {
      k_.softmax_rows(xp + b * n, n, nullptr, yp + b * n, n, e - b, n);
    });
    return Status::Ok();
  }

 private:
  const SimdKernels& k_;
};

// ---- LayerNormalization

// True when t (scale or B) holds one value per normalized element in order: its dims, leading 1s
// dropped, are the normalized dims with leading ones dropped too.
bool matches_row(const Dims& t, const Dims& norm) {
  auto strip = [](const Dims& d) {
    size_t i = 0;
    while (i < d.size() && d[i] == 1) ++i;
    return Dims(d.begin() + static_cast<std::ptrdiff_t>(i), d.end());
  };
  return strip(t) == strip(norm);
}

std::string layer_norm_supports(const LayerDesc& d) {
  if (!d.layer.domain.empty() || d.layer.op_type != "LayerNormalization") return "not a LayerNormalization";
  std::string why = check_f32(d.input(0), "X");
  if (why.empty()) why = check_f32(d.input(1), "scale");
  if (why.empty() && d.input(2)) why = check_f32(d.input(2), "B");
  if (why.empty()) why = single_f32_output(d);
  if (!why.empty()) return why;
  const LayerNode ln(d.layer, d.tensors);
  const Dims& x = d.input(0)->dims;
  const int64_t axis = axis_of(ln.node, -1, static_cast<int64_t>(x.size()));
  if (axis < 0) return "axis out of range";
  const Dims norm(x.begin() + axis, x.end());
  if (!dims_static(norm)) return "normalized dims not known at build time";
  for (const PlanTensor* t : {d.input(1), d.input(2)})
    if (t && (!dims_static(t->dims) || !matches_row(t->dims, norm)))
      return "scale or B does not have the normalized shape " + dims_to_string(norm);
  return "";
}

class LayerNormKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit LayerNormKernel(const SimdKernels& k) : k_(k) {}
  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const Tensor& scale = ctx.input(1);
    const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
    for (const Tensor* t : {&x, &scale, bias})
      if (t && t->dtype() != DType::kF32) return ctx.fail("X, scale and B must be float32");
    const int64_t axis = axis_of(ctx.node(), -1, x.rank());
    if (axis < 0) return ctx.fail("axis out of range");
    const Dims norm(x.dims().begin() + axis, x.dims().end());
    for (const Tensor* t : {&scale, bias})
      if (t && !matches_row(t->dims(), norm))
        return ctx.fail("scale or B " + dims_to_string(t->dims()) + " is not of the normalized shape " +
                        dims_to_string(norm));
    int64_t rows = 1, n = 1;
    for (int64_t i = 0; i < x.rank(); ++i) (i < axis ? rows : n) *= x.dim(i);
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, x.dims()));
    if (y->numel() == 0) return Status::Ok();
    const float eps = ctx.node().attr_float("epsilon", 1e-5f);
    const float* xp = x.data<float>();
    const float* g = scale.data<float>();
    const float* b = bias ? bias->data<float>() : nullptr;
    float* yp = y->data<float>();
    parallel_for(rows, row_grain(n), [&](int64_t r0, int64_t r1) {
      k_.layer_norm_rows(xp + r0 * n, g, b, eps, yp + r0 * n, r1 - r0, n);
    });
    return Status::Ok();
  }

 private:
  const SimdKernels& k_;
};

// ---- Gelu

std::string gelu_supports(const LayerDesc& d) {
  if (!d.layer.domain.empty() || d.layer.op_type != "Gelu") return "not a Gelu";
  std::string why = check_f32(d.input(0), "X");
  if (why.empty()) why = single_f32_output(d);
  if (!why.empty()) return why;
  const LayerNode ln(d.layer, d.tensors);
  if (ln.node.attr_string("approximate", "none") != "none") return "only the exact (erf) GELU";
  return "";
}

class GeluKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit GeluKernel(const SimdKernels& k) : k_(k) {}
  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kF32) return ctx.fail("X must be float32");
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, x.dims()));
    simd_gelu_erf(k_, x.data<float>(), y->data<float>(), x.numel());
    return Status::Ok();
  }

 private:
  const SimdKernels& k_;
};

// ---- Mul by one value per channel

// Which input (0 or 1) is X [N, C, H, W] and which the per-channel S [N or 1, C, 1, 1]; -1 when neither.
int channel_scale_x(const Dims& a, const Dims& b) {
  auto fits = [](const Dims& x, const Dims& s) {
    if (x.size() != 4 || s.size() != 4 || s[2] != 1 || s[3] != 1) return false;
    if (x[2] == 1 && x[3] == 1) return false;                   // both per-channel: not this
    if (s[1] < 1 || (x[1] >= 0 && x[1] != s[1])) return false;  // channels known and equal
    return s[0] == 1 || s[0] < 0 || x[0] < 0 || x[0] == s[0];   // a dynamic batch is checked at run time
  };
  if (fits(a, b)) return 0;
  if (fits(b, a)) return 1;
  return -1;
}

std::string channel_scale_supports(const LayerDesc& d) {
  if (!d.layer.domain.empty() || d.layer.op_type != "Mul") return "not a Mul";
  std::string why = check_f32(d.input(0), "A");
  if (why.empty()) why = check_f32(d.input(1), "B");
  if (why.empty()) why = single_f32_output(d);
  if (!why.empty()) return why;
  if (channel_scale_x(d.input(0)->dims, d.input(1)->dims) < 0)
    return "not [N, C, H, W] times [N or 1, C, 1, 1]";
  return "";
}

class ChannelScaleKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit ChannelScaleKernel(const SimdKernels& k) : k_(k) {}
  Status run(ops::RunContext& ctx) const override {
    const int xi = channel_scale_x(ctx.input(0).dims(), ctx.input(1).dims());
    if (xi < 0) return ctx.fail("inputs are not [N, C, H, W] and [N or 1, C, 1, 1]");
    const Tensor &x = ctx.input(xi), &s = ctx.input(1 - xi);
    if (x.dtype() != DType::kF32 || s.dtype() != DType::kF32) return ctx.fail("inputs must be float32");
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, x.dims()));
    const int64_t C = x.dim(1), hw = x.dim(2) * x.dim(3), rows = x.dim(0) * C;
    const bool per_image = s.dim(0) != 1;
    const float *xp = x.data<float>(), *sp = s.data<float>();
    float* yp = y->data<float>();
    parallel_for(rows, row_grain(hw), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) k_.scale(xp + r * hw, sp[per_image ? r : r % C], yp + r * hw, hw);
    });
    return Status::Ok();
  }

 private:
  const SimdKernels& k_;
};

// ---- GlobalAveragePool

std::string global_avg_pool_supports(const LayerDesc& d) {
  if (!d.layer.domain.empty() || d.layer.op_type != "GlobalAveragePool") return "not a GlobalAveragePool";
  std::string why = check_f32(d.input(0), "X");
  if (why.empty()) why = single_f32_output(d);
  if (!why.empty()) return why;
  if (d.input(0)->dims.size() < 3) return "X has no spatial dims";
  if (d.layer.attrs.count(kSrcLayout)) return "a blocked layout";
  return "";
}

class GlobalAvgPoolKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit GlobalAvgPoolKernel(const SimdKernels& k) : k_(k) {}
  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kF32 || x.rank() < 3) return ctx.fail("X must be float32 with spatial dims");
    Dims yd = x.dims();
    int64_t n = 1;
    for (size_t i = 2; i < yd.size(); ++i) {
      n *= yd[i];
      yd[i] = 1;
    }
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, yd));
    const int64_t rows = x.dim(0) * x.dim(1);
    const float* xp = x.data<float>();
    float* yp = y->data<float>();
    // An empty window averages to NaN (0 / 0), as the reference's mean does.
    const float inv = n > 0 ? 1.f / static_cast<float>(n) : 0.f;
    parallel_for(rows, row_grain(n), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        yp[r] = n > 0 ? k_.sum(xp + r * n, n) * inv : std::numeric_limits<float>::quiet_NaN();
    });
    return Status::Ok();
  }

 private:
  const SimdKernels& k_;
};

}  // namespace

void simd_gelu_erf(const SimdKernels& k, const float* x, float* y, int64_t n) {
  parallel_for((n + 1023) / 1024, 16, [&](int64_t b, int64_t e) {
    const int64_t end = std::min(n, e * 1024);
    k.gelu_erf(x + b * 1024, y + b * 1024, end - b * 1024);
  });
}

INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_softmax, "ingot.softmax", softmax_supports,
                            (prepare_simd_kernel<SoftmaxKernel, softmax_supports>));
INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_layernorm, "ingot.layernorm", layer_norm_supports,
                            (prepare_simd_kernel<LayerNormKernel, layer_norm_supports>));
INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_gelu, "ingot.gelu", gelu_supports,
                            (prepare_simd_kernel<GeluKernel, gelu_supports>));
INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_channel_scale, "ingot.channel_scale", channel_scale_supports,
                            (prepare_simd_kernel<ChannelScaleKernel, channel_scale_supports>));
INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_global_avg_pool, "ingot.global_avg_pool", global_avg_pool_supports,
                            (prepare_simd_kernel<GlobalAvgPoolKernel, global_avg_pool_supports>));

}  // namespace ingot::backends::cpu
