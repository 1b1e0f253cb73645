// RoiAlign: bilinear average (or max) pooling of X [N, C, H, W] over regions rois [R, 4] → [R, C, oh, ow].
// Canonical form: opset 16's, with coordinate_transformation_mode explicit; opset 10 behaved as
// "output_half_pixel".
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/roi_align.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status normalize_roi_align(NormalizeContext& ctx) {
  if (ctx.opset() < 16 && !ctx.node().has_attr("coordinate_transformation_mode")) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = "output_half_pixel";
    ctx.node().attrs["coordinate_transformation_mode"] = a;
  }
  return Status::Ok();
}

Expected<ref::RoiAlignParams> read_params(const ir::Node& node) {
  ref::RoiAlignParams p;
  const std::string coord = node.attr_string("coordinate_transformation_mode", "half_pixel");
  if (coord != "half_pixel" && coord != "output_half_pixel") {
    return invalid_argument(node.describe() + ": unknown coordinate_transformation_mode '" + coord + "'");
  }
  p.half_pixel = coord == "half_pixel";
  const std::string mode = node.attr_string("mode", "avg");
  if (mode != "avg" && mode != "max")
    return invalid_argument(node.describe() + ": unknown mode '" + mode + "'");
  p.max_mode = mode == "max";
  p.out_h = node.attr_int("output_height", 1);
  p.out_w = node.attr_int("output_width", 1);
  if (p.out_h <= 0 || p.out_w <= 0)
    return invalid_argument(node.describe() + ": output size must be positive");
  p.sampling_ratio = node.attr_int("sampling_ratio", 0);
  if (p.sampling_ratio < 0) return invalid_argument(node.describe() + ": sampling_ratio must be >= 0");
  p.spatial_scale = node.attr_float("spatial_scale", 1.0f);
  return p;
}

Status infer_roi_align(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return ctx.fail("expects inputs 'X', 'rois' and 'batch_indices'");
  }
  const DType dt = ctx.input_dtype(0);
  if (!dispatch_float(dt, [](auto) {})) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input_dtype(1) != dt) return ctx.fail("'rois' must have the type of 'X'");
  if (ctx.input_dtype(2) != DType::kI64) return ctx.fail("'batch_indices' must be int64");
  INGOT_ASSIGN_OR_RETURN(ref::RoiAlignParams p, read_params(ctx.node()));
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() != 4) return ctx.fail("'X' must have rank 4");
  ir::Dim rois = ctx.input_has_shape(1) && !ctx.input_shape(1).empty() ? ctx.input_shape(1)[0] : ir::Dim();
  ir::Dim c = ctx.input_has_shape(0) ? ctx.input_shape(0)[1] : ir::Dim();
  ctx.set_output(0, dt, {rois, c, ir::Dim(p.out_h), ir::Dim(p.out_w)});
  return Status::Ok();
}

Status run_roi_align(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& rois = ctx.input(1);
  const Tensor& bi = ctx.input(2);
  INGOT_ASSIGN_OR_RETURN(ref::RoiAlignParams p, read_params(ctx.node()));
  if (x.rank() != 4) return ctx.fail("'X' must have rank 4, got " + dims_to_string(x.dims()));
  if (rois.dtype() != x.dtype() || rois.rank() != 2 || rois.dim(1) != 4) {
    return ctx.fail("'rois' must be [num_rois, 4] of the type of 'X', got " + dims_to_string(rois.dims()));
  }
  if (bi.dtype() != DType::kI64 || bi.rank() != 1 || bi.dim(0) != rois.dim(0)) {
    return ctx.fail("'batch_indices' must be int64 [num_rois]");
  }
  const int64_t* b = bi.data<int64_t>();
  for (int64_t i = 0; i < bi.numel(); ++i) {
    if (b[i] < 0 || b[i] >= x.dim(0)) {
      return ctx.fail("batch index " + std::to_string(b[i]) + " is out of range for batch " +
                      std::to_string(x.dim(0)));
    }
  }
  p.channels = x.dim(1);
  p.height = x.dim(2);
  p.width = x.dim(3);
  if ((p.height == 0 || p.width == 0) && rois.dim(0) * p.channels > 0)
    return ctx.fail("'X' has an empty plane");
  INGOT_ASSIGN_OR_RETURN(Tensor * y,
                         ctx.alloc_output(0, x.dtype(), {rois.dim(0), p.channels, p.out_h, p.out_w}));
  bool ok = dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::roi_align(x.data<T>(), rois.data<T>(), b, rois.dim(0), p, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(RoiAlign, .infer = infer_roi_align, .run = run_roi_align, .normalize = normalize_roi_align);

}  // namespace ingot::ops
