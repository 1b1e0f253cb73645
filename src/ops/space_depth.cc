// DepthToSpace (DCR / CRD) and SpaceToDepth on NCHW tensors.
#include "kernels/reference/space_depth.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Expected<int64_t> blocksize(const ir::Node& node) {
  const int64_t b = node.attr_int("blocksize", 0);
  if (b <= 0) return invalid_argument(node.describe() + ": blocksize must be positive");
  return b;
}

Expected<bool> is_crd(const ir::Node& node) {
  const std::string m = node.attr_string("mode", "DCR");
  if (m != "DCR" && m != "CRD") return invalid_argument(node.describe() + ": unknown mode '" + m + "'");
  return m == "CRD";
}

template <bool kToSpace>
Status run_space_depth(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 4) return ctx.fail("input must be 4-D (NCHW), got " + dims_to_string(x.dims()));
  INGOT_ASSIGN_OR_RETURN(int64_t b, blocksize(ctx.node()));
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  Dims out_dims;
  bool crd = false;
  if constexpr (kToSpace) {
    INGOT_ASSIGN_OR_RETURN(crd, is_crd(ctx.node()));
    if (b > c || c % (b * b) != 0) {
      return ctx.fail("channels " + std::to_string(c) + " are not divisible by blocksize^2");
    }
    out_dims = {n, c / (b * b), h * b, w * b};
  } else {
    if (h % b != 0 || w % b != 0) return ctx.fail("height and width must be divisible by blocksize");
    out_dims = {n, c * b * b, h / b, w / b};
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (kToSpace)
      ref::depth_to_space(x.data<T>(), n, c, h, w, b, crd, y->data<T>());
    else
      ref::space_to_depth(x.data<T>(), n, c, h, w, b, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

template <bool kToSpace>
Status infer_space_depth(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  INGOT_ASSIGN_OR_RETURN(int64_t b, blocksize(ctx.node()));
  if constexpr (kToSpace) INGOT_RETURN_IF_ERROR(is_crd(ctx.node()).status());
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output(0, dt, unknown_shape(4));
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  if (in.size() != 4) return ctx.fail("input must be 4-D (NCHW)");
  auto scale = [](const ir::Dim& d, int64_t mul, int64_t div) -> ir::Dim {
    if (!d.is_static()) return ir::Dim();
    return d.value * mul / div;
  };
  ir::SymShape out;
  if constexpr (kToSpace) {
    if (in[1].is_static() && in[1].value % (b * b) != 0)
      return ctx.fail("channels not divisible by blocksize^2");
    out = {in[0], scale(in[1], 1, b * b), scale(in[2], b, 1), scale(in[3], b, 1)};
  } else {
    if ((in[2].is_static() && in[2].value % b != 0) || (in[3].is_static() && in[3].value % b != 0)) {
      return ctx.fail("height and width must be divisible by blocksize");
    }
    out = {in[0], scale(in[1], b * b, 1), scale(in[2], 1, b), scale(in[3], 1, b)};
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(DepthToSpace, .infer = infer_space_depth<true>, .run = run_space_depth<true>);
INGOT_REGISTER_OP(SpaceToDepth, .infer = infer_space_depth<false>, .run = run_space_depth<false>);

}  // namespace ingot::ops
