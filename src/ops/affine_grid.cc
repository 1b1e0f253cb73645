// AffineGrid (opset 20): theta [N, 2, 3] with size (N, C, H, W) gives a grid [N, H, W, 2]; theta [N, 3, 4]
// with size (N, C, D, H, W) gives [N, D, H, W, 3].
#include <string>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/affine_grid.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_affine_grid(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs theta and size");
  const DType dt = ctx.input_dtype(0);
  if (!dtype_is_float(dt)) return ctx.fail(std::string("unsupported theta type ") + dtype_name(dt));
  if (ctx.input_dtype(1) != DType::kI64) return ctx.fail("size must be int64");
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() != 3) {
    return ctx.fail("theta must be [N, 2, 3] or [N, 3, 4], got " + shape_to_string(ctx.input_shape(0)));
  }
  auto size = const_ints(ctx, 1);
  if (!size) {
    // The rank follows from theta's shape [N, k, k + 1] when k is known.
    if (ctx.input_has_shape(0) && ctx.input_shape(0)[1].is_static()) {
      const int64_t k = ctx.input_shape(0)[1].value;
      if (k != 2 && k != 3) return ctx.fail("theta must be [N, 2, 3] or [N, 3, 4]");
      ir::SymShape out(k + 2, ir::Dim());
      out[0] = ctx.input_shape(0)[0];
      out[k + 1] = k;
      ctx.set_output(0, dt, out);
      return Status::Ok();
    }
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  if (size->size() != 4 && size->size() != 5) {
    return ctx.fail("size must have 4 (N, C, H, W) or 5 (N, C, D, H, W) values, got " +
                    std::to_string(size->size()));
  }
  const int64_t k = static_cast<int64_t>(size->size()) - 2;
  for (int64_t v : *size)
    if (v < 0) return ctx.fail("size values must be non-negative");
  if (ctx.input_has_shape(0)) {
    const auto& th = ctx.input_shape(0);
    if ((th[1].is_static() && th[1].value != k) || (th[2].is_static() && th[2].value != k + 1) ||
        (th[0].is_static() && th[0].value != (*size)[0])) {
      return ctx.fail("theta shape " + shape_to_string(th) + " does not match size (expected [" +
                      std::to_string((*size)[0]) + ", " + std::to_string(k) + ", " + std::to_string(k + 1) +
                      "])");
    }
  }
  ir::SymShape out{(*size)[0]};
  for (size_t i = 2; i < size->size(); ++i) out.push_back((*size)[i]);
  out.push_back(k);
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_affine_grid(RunContext& ctx) {
  const Tensor& theta = ctx.input(0);
  const Tensor& size_in = ctx.input(1);
  if (size_in.dtype() != DType::kI64 || size_in.rank() != 1 ||
      (size_in.numel() != 4 && size_in.numel() != 5)) {
    return ctx.fail("size must be a 1-D int64 tensor of 4 (N, C, H, W) or 5 (N, C, D, H, W) values");
  }
  const std::vector<int64_t> size = size_in.to_i64_vector();
  const int64_t k = static_cast<int64_t>(size.size()) - 2;
  for (int64_t v : size)
    if (v < 0) return ctx.fail("size values must be non-negative");
  if (theta.rank() != 3 || theta.dim(0) != size[0] || theta.dim(1) != k || theta.dim(2) != k + 1) {
    return ctx.fail("theta shape " + dims_to_string(theta.dims()) + " does not match size (expected " +
                    std::to_string(size[0]) + "x" + std::to_string(k) + "x" + std::to_string(k + 1) + ")");
  }
  const std::vector<int64_t> spatial(size.begin() + 2, size.end());
  Dims out{size[0]};
  out.insert(out.end(), spatial.begin(), spatial.end());
  out.push_back(k);
  INGOT_ASSIGN_OR_RETURN(Tensor * grid, ctx.alloc_output(0, theta.dtype(), out));
  if (grid->numel() == 0) return Status::Ok();
  const bool align = ctx.node().attr_int("align_corners", 0) != 0;
  bool ok = dispatch_float(theta.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::affine_grid(theta.data<T>(), grid->data<T>(), size[0], spatial, align);
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported theta type ") + dtype_name(theta.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(AffineGrid, .infer = infer_affine_grid, .run = run_affine_grid);

}  // namespace ingot::ops
