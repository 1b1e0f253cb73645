// Concat and Split along one axis.
#include <numeric>

#include "kernels/reference/concat_split.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

int64_t product(const Dims& d, size_t b, size_t e) {
  int64_t p = 1;
  for (size_t i = b; i < e; ++i) p *= d[i];
  return p;
}

// ---- Concat ----

int64_t concat_axis_attr(const ir::Node& node) {
  // Concat-1 defaulted the axis to 1; later opsets require it.
  return node.attr_int("axis", node.opset < 4 ? 1 : INT64_MIN);
}

Status run_concat(RunContext& ctx) {
  std::vector<const Tensor*> ins;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) ins.push_back(&ctx.input(i));
  if (ins.empty()) return ctx.fail("needs at least one input");
  const Tensor& first = *ins[0];
  const int64_t raw_axis = concat_axis_attr(ctx.node());
  if (raw_axis == INT64_MIN) return ctx.fail("missing attribute 'axis'");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(raw_axis, first.rank(), ctx.node()));
  if (first.rank() == 0) return ctx.fail("cannot concatenate scalars");
  Dims out_dims = first.dims();
  out_dims[axis] = 0;
  std::vector<int64_t> sizes;
  for (const Tensor* t : ins) {
    if (t->dtype() != first.dtype()) return ctx.fail("inputs have different types");
    if (t->rank() != first.rank()) {
      return ctx.fail("inputs have different ranks: " + dims_to_string(first.dims()) + " and " +
                      dims_to_string(t->dims()));
    }
    for (int64_t d = 0; d < first.rank(); ++d) {
      if (d != axis && t->dim(d) != first.dim(d)) {
        return ctx.fail("input shapes " + dims_to_string(first.dims()) + " and " + dims_to_string(t->dims()) +
                        " differ outside axis " + std::to_string(axis));
      }
    }
    sizes.push_back(t->dim(axis));
    out_dims[axis] += t->dim(axis);
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, first.dtype(), out_dims));
  const int64_t outer = product(out_dims, 0, axis);
  const int64_t inner = product(out_dims, axis + 1, out_dims.size());
  bool ok = dispatch_by_size(first.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<const T*> ptrs;
    for (const Tensor* t : ins) ptrs.push_back(t->data<T>());
    ref::concat(ptrs, sizes, outer, inner, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(first.dtype()));
}

Status infer_concat(InferContext& ctx) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i)) idx.push_back(i);
  if (idx.empty()) return ctx.fail("needs at least one input");
  const DType dt = ctx.input_dtype(idx[0]);
  for (size_t i : idx)
    if (ctx.input_dtype(i) != dt) return ctx.fail("inputs have different types");
  const int64_t raw_axis = concat_axis_attr(ctx.node());
  if (raw_axis == INT64_MIN) return ctx.fail("missing attribute 'axis'");
  int64_t rank = -1;
  for (size_t i : idx) {
    if (!ctx.input_has_shape(i)) continue;
    const int64_t r = static_cast<int64_t>(ctx.input_shape(i).size());
    if (rank >= 0 && r != rank) return ctx.fail("inputs have different ranks");
    rank = r;
  }
  if (rank < 0) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  if (rank == 0) return ctx.fail("cannot concatenate scalars");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(raw_axis, rank, ctx.node()));
  ir::SymShape out(rank);
  int64_t axis_sum = 0;
  bool axis_known = true;
  for (size_t i : idx) {
    if (!ctx.input_has_shape(i)) {
      axis_known = false;
      continue;
    }
    const ir::SymShape& s = ctx.input_shape(i);
    for (int64_t d = 0; d < rank; ++d) {
      if (d == axis) {
        if (s[d].is_static())
          axis_sum += s[d].value;
        else
          axis_known = false;
        continue;
      }
      if (s[d].is_static()) {
        if (out[d].is_static() && out[d].value != s[d].value) {
          return ctx.fail("input shapes differ outside axis " + std::to_string(axis) + " (" +
                          std::to_string(out[d].value) + " vs " + std::to_string(s[d].value) + " at dim " +
                          std::to_string(d) + ")");
        }
        out[d] = s[d];
      } else if (!out[d].is_static() && out[d].symbol.empty()) {
        out[d] = s[d];
      }
    }
  }
  if (axis_known) out[axis] = axis_sum;
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

// ---- Split ----

Status normalize_split(NormalizeContext& ctx) {
  if (ctx.opset() < 13) ctx.move_attr_to_input("split", 1, DType::kI64);
  return Status::Ok();
}

// Chunk sizes along an axis of `dim`: the explicit list, or num_outputs (attr, else output count)
// chunks of ceil(dim / n) with a smaller last one.
Expected<std::vector<int64_t>> split_sizes(const ir::Node& node, const std::vector<int64_t>* explicit_split,
                                           int64_t dim, size_t num_outputs) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (explicit_split && !explicit_split->empty()) {
    if (explicit_split->size() != num_outputs) {
      return fail("split has " + std::to_string(explicit_split->size()) + " entries for " +
                  std::to_string(num_outputs) + " outputs");
    }
    int64_t sum = 0;
    for (int64_t s : *explicit_split) {
      if (s < 0) return fail("split has a negative size " + std::to_string(s));
      if (__builtin_add_overflow(sum, s, &sum)) return fail("split sizes overflow int64");
    }
    if (dim >= 0 && sum != dim) {
      return fail("split sizes sum to " + std::to_string(sum) + " but the axis has size " +
                  std::to_string(dim));
    }
    return *explicit_split;
  }
  int64_t n = static_cast<int64_t>(num_outputs);
  if (node.has_attr("num_outputs")) {
    n = node.attr_int("num_outputs", 0);
    if (n != static_cast<int64_t>(num_outputs)) {
      return fail("num_outputs is " + std::to_string(n) + " but the node has " + std::to_string(num_outputs) +
                  " outputs");
    }
  }
  if (n <= 0) return fail("needs at least one output");
  if (dim < 0) return std::vector<int64_t>{};
  const int64_t chunk = (dim + n - 1) / n;
  std::vector<int64_t> sizes(n);
  int64_t left = dim;
  for (int64_t i = 0; i < n; ++i) {
    sizes[i] = std::min(chunk, left);
    left -= sizes[i];
  }
  return sizes;
}

Status run_split(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
  if (x.rank() == 0) return ctx.fail("cannot split a scalar");
  std::vector<int64_t> explicit_split;
  const bool has_split = ctx.has_input(1);
  if (has_split) {
    INGOT_ASSIGN_OR_RETURN(explicit_split, int_input(ctx, 1, "split"));
  }
  INGOT_ASSIGN_OR_RETURN(auto sizes, split_sizes(ctx.node(), has_split ? &explicit_split : nullptr,
                                                 x.dim(axis), ctx.num_outputs()));
  std::vector<Tensor*> outs;
  for (size_t k = 0; k < sizes.size(); ++k) {
    Dims d = x.dims();
    d[axis] = sizes[k];
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(k, x.dtype(), d));
    outs.push_back(y);
  }
  const int64_t outer = product(x.dims(), 0, axis);
  const int64_t inner = product(x.dims(), axis + 1, x.dims().size());
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<T*> ptrs;
    for (Tensor* t : outs) ptrs.push_back(t->data<T>());
    ref::split(x.data<T>(), outer, inner, sizes, ptrs);
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_split(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const DType dt = ctx.input_dtype(0);
  const size_t n = ctx.num_outputs();
  if (!ctx.input_has_shape(0)) {
    for (size_t k = 0; k < n; ++k) ctx.set_output_rank_unknown(k, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  if (in.empty()) return ctx.fail("cannot split a scalar");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0),
                                                      static_cast<int64_t>(in.size()), ctx.node()));
  auto explicit_split = const_ints(ctx, 1);
  std::vector<int64_t> sizes;
  if (!ctx.has_input(1) || explicit_split) {
    INGOT_ASSIGN_OR_RETURN(sizes, split_sizes(ctx.node(), explicit_split ? &*explicit_split : nullptr,
                                              in[axis].is_static() ? in[axis].value : -1, n));
  }
  for (size_t k = 0; k < n; ++k) {
    ir::SymShape s = in;
    s[axis] = k < sizes.size() ? ir::Dim(sizes[k]) : ir::Dim();
    ctx.set_output(k, dt, s);
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Concat, .infer = infer_concat, .run = run_concat);
INGOT_REGISTER_OP(Split, .infer = infer_split, .run = run_split, .normalize = normalize_split);

}  // namespace ingot::ops
