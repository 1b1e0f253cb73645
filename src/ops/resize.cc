// Resize (and the deprecated Upsample, normalized onto Resize's canonical form and sharing its code).
// Canonical form: inputs (X, roi?, scales?, sizes?) as Resize-13+, every attribute of Resize-19 with its
// default. Resize-10 and Upsample (scales as input 1, or as an attribute before opset 9) are rewritten to
// it with the semantics they had: asymmetric coordinates and floor for nearest.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/resize.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

void set_string_attr(ir::Node& node, const std::string& name, const std::string& value) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = value;
  node.attrs[name] = a;
}

// Upsample-7/9 and Resize-10: (X, scales) or X with a `scales` attribute → (X, roi = none, scales).
Status normalize_legacy_scales(NormalizeContext& ctx) {
  ir::Node& node = ctx.node();
  if (node.has_attr("scales")) {
    ctx.move_attr_to_input("scales", 2, DType::kF32);
  } else if (node.inputs.size() >= 2) {
    node.inputs.resize(3, nullptr);
    node.inputs[2] = node.inputs[1];
    node.inputs[1] = nullptr;
  }
  std::string mode = node.attr_string("mode", "nearest");
  if (mode == "bilinear" || mode == "trilinear") set_string_attr(node, "mode", "linear");
  set_string_attr(node, "coordinate_transformation_mode", "asymmetric");
  set_string_attr(node, "nearest_mode", "floor");
  return Status::Ok();
}

Status normalize_resize(NormalizeContext& ctx) {
  if (ctx.opset() < 11) return normalize_legacy_scales(ctx);
  return Status::Ok();
}

Status normalize_upsample(NormalizeContext& ctx) { return normalize_legacy_scales(ctx); }

Expected<ref::ResizeOptions> read_options(const ir::Node& node) {
  ref::ResizeOptions o;
  const std::string mode = node.attr_string("mode", "nearest");
  if (mode == "nearest")
    o.mode = ref::ResizeMode::kNearest;
  else if (mode == "linear")
    o.mode = ref::ResizeMode::kLinear;
  else if (mode == "cubic")
    o.mode = ref::ResizeMode::kCubic;
  else
    return invalid_argument(node.describe() + ": unknown mode '" + mode + "'");
  static const std::map<std::string, ref::ResizeCoordMode> kCoord = {
      {"half_pixel", ref::ResizeCoordMode::kHalfPixel},
      {"half_pixel_symmetric", ref::ResizeCoordMode::kHalfPixelSymmetric},
      {"pytorch_half_pixel", ref::ResizeCoordMode::kPytorchHalfPixel},
      {"align_corners", ref::ResizeCoordMode::kAlignCorners},
      {"asymmetric", ref::ResizeCoordMode::kAsymmetric},
      {"tf_crop_and_resize", ref::ResizeCoordMode::kTfCropAndResize},
      {"tf_half_pixel_for_nn", ref::ResizeCoordMode::kTfHalfPixelForNn}};
  const std::string coord = node.attr_string("coordinate_transformation_mode", "half_pixel");
  auto c = kCoord.find(coord);
  if (c == kCoord.end())
    return invalid_argument(node.describe() + ": unknown coordinate_transformation_mode '" + coord + "'");
  o.coord = c->second;
  static const std::map<std::string, ref::ResizeNearestMode> kNearest = {
      {"round_prefer_floor", ref::ResizeNearestMode::kRoundPreferFloor},
      {"round_prefer_ceil", ref::ResizeNearestMode::kRoundPreferCeil},
      {"floor", ref::ResizeNearestMode::kFloor},
      {"ceil", ref::ResizeNearestMode::kCeil}};
  const std::string nearest = node.attr_string("nearest_mode", "round_prefer_floor");
  auto n = kNearest.find(nearest);
  if (n == kNearest.end())
    return invalid_argument(node.describe() + ": unknown nearest_mode '" + nearest + "'");
  o.nearest = n->second;
  o.cubic_a = node.attr_float("cubic_coeff_a", -0.75f);
  o.exclude_outside = node.attr_int("exclude_outside", 0) != 0;
  o.antialias = node.attr_int("antialias", 0) != 0;
  if (o.antialias && o.mode == ref::ResizeMode::kNearest) {
    return invalid_argument(node.describe() + ": antialias is not defined for mode 'nearest'");
  }
  o.extrapolation_value = node.attr_float("extrapolation_value", 0.0f);
  return o;
}

// Output size and scale of every axis; dims of -1 (unknown at build time) give unknown outputs.
struct ResizePlan {
  std::vector<bool> resized;  // axes named by `axes` (all by default)
  std::vector<double> scale;
  Dims out;
  std::vector<double> roi_start, roi_end;
};

Expected<ResizePlan> make_plan(const ir::Node& node, const Dims& in, const std::vector<float>* scales,
                               const std::vector<int64_t>* sizes, const std::vector<double>& roi) {
  const int64_t r = static_cast<int64_t>(in.size());
  const std::string where = node.describe() + ": ";
  std::vector<int64_t> axes = node.attr_ints("axes");
  if (!node.has_attr("axes")) {
    for (int64_t d = 0; d < r; ++d) axes.push_back(d);
  }
  ResizePlan p;
  p.resized.assign(r, false);
  for (int64_t& a : axes) {
    INGOT_ASSIGN_OR_RETURN(a, normalize_axis(a, r, node));
    if (p.resized[a]) return invalid_argument(where + "axis " + std::to_string(a) + " is repeated in 'axes'");
    p.resized[a] = true;
  }
  const size_t na = axes.size();
  p.scale.assign(r, 1.0);
  p.out = in;
  p.roi_start.assign(r, 0.0);
  p.roi_end.assign(r, 1.0);
  if (!roi.empty()) {
    if (roi.size() != 2 * na) {
      return invalid_argument(where + "'roi' has " + std::to_string(roi.size()) + " values, expected " +
                              std::to_string(2 * na));
    }
    for (size_t i = 0; i < na; ++i) {
      p.roi_start[axes[i]] = roi[i];
      p.roi_end[axes[i]] = roi[na + i];
    }
  }
  if ((scales != nullptr) == (sizes != nullptr)) {
    return invalid_argument(where + "exactly one of 'scales' and 'sizes' must be given");
  }
  if (scales) {
    if (scales->size() != na) {
      return invalid_argument(where + "'scales' has " + std::to_string(scales->size()) +
                              " values, expected " + std::to_string(na));
    }
    for (size_t i = 0; i < na; ++i) {
      const double s = (*scales)[i];
      if (!(s > 0) || !std::isfinite(s))
        return invalid_argument(where + "scales must be positive and finite");
      p.scale[axes[i]] = s;
      const int64_t d = in[axes[i]];
      if (d < 0) {
        p.out[axes[i]] = -1;
        continue;
      }
      const double o = std::floor(s * static_cast<double>(d));
      if (o > 1e15) return invalid_argument(where + "output size overflows");
      p.out[axes[i]] = static_cast<int64_t>(o);
    }
    return p;
  }
  if (sizes->size() != na) {
    return invalid_argument(where + "'sizes' has " + std::to_string(sizes->size()) + " values, expected " +
                            std::to_string(na));
  }
  for (size_t i = 0; i < na; ++i) {
    if ((*sizes)[i] < 0) return invalid_argument(where + "'sizes' must be non-negative");
    const int64_t d = in[axes[i]];
    p.out[axes[i]] = (*sizes)[i];
    p.scale[axes[i]] = d > 0 ? static_cast<double>((*sizes)[i]) / static_cast<double>(d) : 1.0;
  }
  const std::string policy = node.attr_string("keep_aspect_ratio_policy", "stretch");
  if (policy == "stretch") return p;
  if (policy != "not_larger" && policy != "not_smaller") {
    return invalid_argument(where + "unknown keep_aspect_ratio_policy '" + policy + "'");
  }
  double s = policy == "not_larger" ? INFINITY : -INFINITY;
  bool known = true;
  for (int64_t a : axes) {
    if (in[a] < 0) known = false;
    s = policy == "not_larger" ? std::min(s, p.scale[a]) : std::max(s, p.scale[a]);
  }
  for (int64_t a : axes) {
    p.scale[a] = s;
    p.out[a] = known ? static_cast<int64_t>(s * static_cast<double>(in[a]) + 0.5) : -1;
  }
  return p;
}

// The non-empty optional inputs: an empty tensor means "not given".
const Tensor* given(const Tensor* t) { return t && t->numel() > 0 ? t : nullptr; }

std::vector<float> to_floats(const Tensor& t) {
  std::vector<float> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = static_cast<float>(t.get_f64(i));
  return v;
}
std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = t.get_f64(i);
  return v;
}

Status infer_resize(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'X'");
  const DType dt = ctx.input_dtype(0);
  if (!dispatch_arith(dt, [](auto) {})) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  INGOT_RETURN_IF_ERROR(read_options(ctx.node()).status());
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  const bool scales_known = !ctx.has_input(2) || ctx.input_const(2);
  const bool sizes_known = !ctx.has_input(3) || ctx.input_const(3);
  const bool roi_known = !ctx.has_input(1) || ctx.input_const(1);
  if (!scales_known || !sizes_known || !roi_known) {
    ctx.set_output(0, dt, ir::SymShape(in.size()));
    return Status::Ok();
  }
  const Tensor* sc = ctx.has_input(2) ? given(ctx.input_const(2)) : nullptr;
  const Tensor* sz = ctx.has_input(3) ? given(ctx.input_const(3)) : nullptr;
  const Tensor* roi_t = ctx.has_input(1) ? given(ctx.input_const(1)) : nullptr;
  std::vector<float> scales = sc ? to_floats(*sc) : std::vector<float>();
  std::vector<int64_t> sizes = sz ? sz->to_i64_vector() : std::vector<int64_t>();
  Dims in_dims;
  for (const ir::Dim& d : in) in_dims.push_back(d.is_static() ? d.value : -1);
  INGOT_ASSIGN_OR_RETURN(ResizePlan p,
                         make_plan(ctx.node(), in_dims, sc ? &scales : nullptr, sz ? &sizes : nullptr,
                                   roi_t ? to_doubles(*roi_t) : std::vector<double>()));
  ir::SymShape out = in;
  for (size_t d = 0; d < in.size(); ++d)
    if (p.resized[d]) out[d] = p.out[d] >= 0 ? ir::Dim(p.out[d]) : ir::Dim();
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_resize(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(ref::ResizeOptions opt, read_options(ctx.node()));
  const Tensor* sc = ctx.has_input(2) ? given(&ctx.input(2)) : nullptr;
  const Tensor* sz = ctx.has_input(3) ? given(&ctx.input(3)) : nullptr;
  const Tensor* roi_t = ctx.has_input(1) ? given(&ctx.input(1)) : nullptr;
  std::vector<float> scales = sc ? to_floats(*sc) : std::vector<float>();
  std::vector<int64_t> sizes = sz ? sz->to_i64_vector() : std::vector<int64_t>();
  INGOT_ASSIGN_OR_RETURN(ResizePlan p,
                         make_plan(ctx.node(), x.dims(), sc ? &scales : nullptr, sz ? &sizes : nullptr,
                                   roi_t ? to_doubles(*roi_t) : std::vector<double>()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), p.out));
  std::vector<ref::ResizeAxisTaps> taps;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (!p.resized[d]) {
      taps.push_back(ref::resize_identity_taps(x.dim(d)));
    } else {
      if (x.dim(d) == 0 && p.out[d] > 0) return ctx.fail("cannot resize an empty axis to a non-empty one");
      taps.push_back(
          ref::resize_axis_taps(x.dim(d), p.out[d], p.scale[d], p.roi_start[d], p.roi_end[d], opt));
    }
  }
  bool ok = dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::resize(x.data<T>(), taps, opt.mode == ref::ResizeMode::kNearest, opt.extrapolation_value,
                y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(Resize, .infer = infer_resize, .run = run_resize, .normalize = normalize_resize);
INGOT_REGISTER_OP(Upsample, .infer = infer_resize, .run = run_resize, .normalize = normalize_upsample);

}  // namespace ingot::ops
