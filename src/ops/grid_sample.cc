// GridSample: samples X [N, C, S...] at the normalized points of grid [N, O..., D]. Canonical form is
// opset 20's (modes nearest / linear / cubic, any number of spatial dims); opset 16's bilinear / bicubic
// are renamed at import.
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/grid_sample.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status normalize_grid_sample(NormalizeContext& ctx) {
  ir::Node& node = ctx.node();
  auto it = node.attrs.find("mode");
  if (it != node.attrs.end() && it->second.kind == ir::Attribute::Kind::kString) {
    if (it->second.s == "bilinear")
      it->second.s = "linear";
    else if (it->second.s == "bicubic")
      it->second.s = "cubic";
  }
  return Status::Ok();
}

struct GridSampleAttrs {
  ref::GridSampleMode mode;
  ref::GridSamplePadding padding;
  bool align_corners;
};

Expected<GridSampleAttrs> read_attrs(const ir::Node& node) {
  GridSampleAttrs a;
  const std::string mode = node.attr_string("mode", "linear");
  if (mode == "nearest")
    a.mode = ref::GridSampleMode::kNearest;
  else if (mode == "linear" || mode == "bilinear")
    a.mode = ref::GridSampleMode::kLinear;
  else if (mode == "cubic" || mode == "bicubic")
    a.mode = ref::GridSampleMode::kCubic;
  else
    return invalid_argument(node.describe() + ": unknown mode '" + mode + "'");
  const std::string pad = node.attr_string("padding_mode", "zeros");
  if (pad == "zeros")
    a.padding = ref::GridSamplePadding::kZeros;
  else if (pad == "border")
    a.padding = ref::GridSamplePadding::kBorder;
  else if (pad == "reflection")
    a.padding = ref::GridSamplePadding::kReflection;
  else
    return invalid_argument(node.describe() + ": unknown padding_mode '" + pad + "'");
  a.align_corners = node.attr_int("align_corners", 0) != 0;
  return a;
}

Status infer_grid_sample(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs 'X' and 'grid'");
  const DType dt = ctx.input_dtype(0);
  if (!dispatch_float(dt, [](auto) {})) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (!dispatch_float(ctx.input_dtype(1), [](auto) {})) return ctx.fail("'grid' must be a float tensor");
  INGOT_RETURN_IF_ERROR(read_attrs(ctx.node()).status());
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& x = ctx.input_shape(0);
  const ir::SymShape& g = ctx.input_shape(1);
  if (x.size() < 3 || g.size() != x.size()) {
    return ctx.fail("'X' must be [N, C, spatial...] and 'grid' [N, spatial_out..., " +
                    std::to_string(x.size() - 2) + "], got " + ir::shape_to_string(x) + " and " +
                    ir::shape_to_string(g));
  }
  if (g.back().is_static() && g.back().value != static_cast<int64_t>(x.size()) - 2) {
    return ctx.fail("the last dim of 'grid' must be " + std::to_string(x.size() - 2));
  }
  ir::SymShape out{x[0].is_static() ? x[0] : g[0], x[1]};
  for (size_t i = 1; i + 1 < g.size(); ++i) out.push_back(g[i]);
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_grid_sample(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& grid = ctx.input(1);
  INGOT_ASSIGN_OR_RETURN(GridSampleAttrs a, read_attrs(ctx.node()));
  if (x.rank() < 3 || grid.rank() != x.rank() || grid.dim(-1) != x.rank() - 2 || grid.dim(0) != x.dim(0)) {
    return ctx.fail("'X' must be [N, C, spatial...] and 'grid' [N, spatial_out..., " +
                    std::to_string(x.rank() - 2) + "], got " + dims_to_string(x.dims()) + " and " +
                    dims_to_string(grid.dims()));
  }
  for (int64_t d = 2; d < x.rank(); ++d)
    if (x.dim(d) == 0 && grid.numel() > 0) return ctx.fail("cannot sample an empty spatial dim");
  std::vector<float> g(grid.numel());
  bool ok = dispatch_float(grid.dtype(), [&](auto tag) {
    using G = typename decltype(tag)::type;
    const G* p = grid.data<G>();
    for (int64_t i = 0; i < grid.numel(); ++i) g[i] = static_cast<float>(p[i]);
  });
  if (!ok) return ctx.fail("'grid' must be a float tensor");
  Dims out{x.dim(0), x.dim(1)};
  for (int64_t i = 1; i + 1 < grid.rank(); ++i) out.push_back(grid.dim(i));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out));
  ok = dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::grid_sample(x.data<T>(), x.dims(), g.data(), grid.dims(), a.mode, a.padding, a.align_corners,
                     y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(GridSample, .infer = infer_grid_sample, .run = run_grid_sample,
                  .normalize = normalize_grid_sample);

}  // namespace ingot::ops
