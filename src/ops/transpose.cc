// Transpose: permutes the axes (default: reversed).
#include <algorithm>

#include "kernels/reference/transpose.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status run_transpose(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(auto perm, transpose_perm(ctx.node(), x.rank()));
  Dims out_dims(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out_dims[i] = x.dim(perm[i]);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::transpose(x.data<T>(), x.dims(), perm, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_transpose(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    if (ctx.node().has_attr("perm")) {
      ctx.set_output(0, dt, unknown_shape(ctx.node().attr_ints("perm").size()));
    } else {
      ctx.set_output_rank_unknown(0, dt);
    }
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  INGOT_ASSIGN_OR_RETURN(auto perm, transpose_perm(ctx.node(), static_cast<int64_t>(in.size())));
  ir::SymShape out(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = in[perm[i]];
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

}  // namespace

Expected<std::vector<int64_t>> transpose_perm(const ir::Node& node, int64_t rank) {
  std::vector<int64_t> perm;
  if (node.has_attr("perm")) {
    perm = node.attr_ints("perm");
    if (static_cast<int64_t>(perm.size()) != rank) {
      return invalid_argument(node.describe() + ": perm has " + std::to_string(perm.size()) +
                              " entries for an input of rank " + std::to_string(rank));
    }
    std::vector<bool> seen(rank, false);
    for (int64_t& p : perm) {
      if (p < -rank || p >= rank) {
        return invalid_argument(node.describe() + ": perm value " + std::to_string(p) + " is out of range");
      }
      if (p < 0) p += rank;  // negative perm values are not in the spec but cost nothing to accept
      if (seen[p]) return invalid_argument(node.describe() + ": perm repeats axis " + std::to_string(p));
      seen[p] = true;
    }
  } else {
    for (int64_t i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  return perm;
}

INGOT_REGISTER_OP(Transpose, .infer = infer_transpose, .run = run_transpose);

}  // namespace ingot::ops
