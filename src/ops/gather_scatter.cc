// Gather, GatherElements, GatherND, Scatter (deprecated), ScatterElements, ScatterND. Every index is
// checked against its axis here, before any kernel touches memory.
#include "kernels/reference/gather_scatter.h"
#include "core/dispatch.h"
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

std::string unsupported_type(const Tensor& t) {
  return std::string("unsupported type ") + dtype_name(t.dtype());
}

Status check_index_dtype(const InferContext& ctx, size_t i) {
  if (ctx.input_dtype(i) != DType::kI64 && ctx.input_dtype(i) != DType::kI32) {
    return ctx.fail(std::string("indices must be int32 or int64, got ") + dtype_name(ctx.input_dtype(i)));
  }
  return Status::Ok();
}

int64_t index_at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::kI64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
}

// ---- Gather ----

Status run_gather(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  if (x.rank() == 0) return ctx.fail("cannot gather from a scalar");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
  auto idx = checked_indices(ind, x.dim(axis), ctx.node().describe());
  if (!idx.ok()) return idx.status();
  Dims out_dims(x.dims().begin(), x.dims().begin() + axis);
  out_dims.insert(out_dims.end(), ind.dims().begin(), ind.dims().end());
  out_dims.insert(out_dims.end(), x.dims().begin() + axis + 1, x.dims().end());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  const int64_t outer = product(x.dims(), 0, axis), inner = product(x.dims(), axis + 1, x.dims().size());
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::gather(x.data<T>(), outer, x.dim(axis), inner, idx->data(), ind.numel(), y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(unsupported_type(x));
}

Status infer_gather(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs (data, indices)");
  INGOT_RETURN_IF_ERROR(check_index_dtype(ctx, 1));
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& d = ctx.input_shape(0);
  const ir::SymShape& q = ctx.input_shape(1);
  if (d.empty()) return ctx.fail("cannot gather from a scalar");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0),
                                                      static_cast<int64_t>(d.size()), ctx.node()));
  ir::SymShape out(d.begin(), d.begin() + axis);
  out.insert(out.end(), q.begin(), q.end());
  out.insert(out.end(), d.begin() + axis + 1, d.end());
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

// ---- GatherElements / ScatterElements ----

// Indices of the same rank as data, no larger than data outside `axis`, values valid on `axis`.
Expected<std::vector<int64_t>> element_indices(const RunContext& ctx, const Tensor& x, const Tensor& ind,
                                               int64_t axis) {
  if (ind.rank() != x.rank()) {
    return ctx.fail("indices rank " + std::to_string(ind.rank()) + " differs from data rank " +
                    std::to_string(x.rank()));
  }
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d != axis && ind.dim(d) > x.dim(d)) {
      return ctx.fail("indices shape " + dims_to_string(ind.dims()) + " exceeds data shape " +
                      dims_to_string(x.dims()) + " at dim " + std::to_string(d));
    }
  }
  return checked_indices(ind, x.dim(axis), ctx.node().describe());
}

Status run_gather_elements(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  if (x.rank() == 0) return ctx.fail("cannot gather from a scalar");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
  INGOT_ASSIGN_OR_RETURN(auto idx, element_indices(ctx, x, ind, axis));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), ind.dims()));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::gather_elements(x.data<T>(), x.dims(), idx.data(), ind.dims(), axis, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(unsupported_type(x));
}

Status infer_gather_elements(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs (data, indices)");
  INGOT_RETURN_IF_ERROR(check_index_dtype(ctx, 1));
  if (ctx.input_has_shape(0) && ctx.input_has_shape(1) &&
      ctx.input_shape(0).size() != ctx.input_shape(1).size()) {
    return ctx.fail("indices and data have different ranks");
  }
  if (!ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, ctx.input_dtype(0));
  } else {
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(1));
  }
  return Status::Ok();
}

Expected<ref::ScatterReduce> scatter_reduction(const ir::Node& node) {
  const std::string r = node.attr_string("reduction", "none");
  if (r == "none") return ref::ScatterReduce::kNone;
  if (r == "add") return ref::ScatterReduce::kAdd;
  if (r == "mul") return ref::ScatterReduce::kMul;
  if (r == "max") return ref::ScatterReduce::kMax;
  if (r == "min") return ref::ScatterReduce::kMin;
  return invalid_argument(node.describe() + ": unknown reduction '" + r + "'");
}

// Copies data into output 0 and calls `scatter(T*)` with the element type: by size for plain
// assignment, by value type when a reduction needs arithmetic.
template <typename F>
Status scatter_into_copy(RunContext& ctx, ref::ScatterReduce r, F&& scatter) {
  const Tensor& x = ctx.input(0);
  Tensor y = x.clone();
  bool ok;
  if (r == ref::ScatterReduce::kNone) {
    ok = dispatch_by_size(x.dtype(), [&](auto tag) { scatter(tag, y); });
  } else {
    ok = dispatch_numeric(x.dtype(), [&](auto tag) { scatter(tag, y); });
  }
  if (!ok) return ctx.fail(unsupported_type(x));
  ctx.set_output(0, RtValue(std::move(y)));
  return Status::Ok();
}

Status run_scatter_elements(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  if (x.rank() == 0) return ctx.fail("cannot scatter into a scalar");
  if (upd.dtype() != x.dtype()) return ctx.fail("updates and data have different types");
  if (upd.dims() != ind.dims()) {
    return ctx.fail("updates shape " + dims_to_string(upd.dims()) + " differs from indices shape " +
                    dims_to_string(ind.dims()));
  }
  INGOT_ASSIGN_OR_RETURN(auto r, scatter_reduction(ctx.node()));
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
  INGOT_ASSIGN_OR_RETURN(auto idx, element_indices(ctx, x, ind, axis));
  return scatter_into_copy(ctx, r, [&](auto tag, Tensor& y) {
    using T = typename decltype(tag)::type;
    ref::scatter_elements(y.data<T>(), x.dims(), idx.data(), upd.data<T>(), ind.dims(), axis, r);
  });
}

Status infer_scatter(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return ctx.fail("expects 3 inputs (data, indices, updates)");
  }
  INGOT_RETURN_IF_ERROR(check_index_dtype(ctx, 1));
  if (ctx.input_dtype(2) != ctx.input_dtype(0)) return ctx.fail("updates and data have different types");
  INGOT_RETURN_IF_ERROR(scatter_reduction(ctx.node()).status());
  return infer_same_as_input(ctx);
}

// ---- GatherND / ScatterND ----

// Element offsets into data of every index tuple: indices [..., k] address data dims [b, b + k) within
// each of the prod(data[:b]) batches. Validates every tuple entry against its dim.
Expected<std::vector<int64_t>> nd_offsets(const RunContext& ctx, const Tensor& x, const Tensor& ind,
                                          int64_t b) {
  if (ind.dtype() != DType::kI64 && ind.dtype() != DType::kI32) {
    return ctx.fail(std::string("indices must be int32 or int64, got ") + dtype_name(ind.dtype()));
  }
  if (ind.rank() < 1 || x.rank() < 1) return ctx.fail("data and indices must have rank >= 1");
  if (b < 0 || b >= std::min(x.rank(), ind.rank())) {
    return ctx.fail("batch_dims " + std::to_string(b) + " must be in [0, min(data rank, indices rank))");
  }
  for (int64_t d = 0; d < b; ++d) {
    if (x.dim(d) != ind.dim(d)) return ctx.fail("data and indices differ in the batch dims");
  }
  const int64_t k = ind.dim(-1);
  if (k < 0 || k > x.rank() - b) {
    return ctx.fail("indices last dim " + std::to_string(k) + " exceeds data rank " +
                    std::to_string(x.rank()) + " minus batch_dims");
  }
  const int64_t batches = product(x.dims(), 0, b);
  const int64_t per_batch = product(ind.dims(), b, ind.dims().size() - 1);
  const int64_t batch_stride = product(x.dims(), b, x.dims().size());
  std::vector<int64_t> stride(k);
  for (int64_t t = 0; t < k; ++t) stride[t] = product(x.dims(), b + t + 1, x.dims().size());
  std::vector<int64_t> offsets(static_cast<size_t>(batches * per_batch));
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t j = 0; j < per_batch; ++j) {
      const int64_t tuple = (bi * per_batch + j) * k;
      int64_t off = bi * batch_stride;
      for (int64_t t = 0; t < k; ++t) {
        const int64_t dim = x.dim(b + t);
        int64_t v = index_at(ind, tuple + t);
        if (v < -dim || v >= dim) {
          return ctx.fail("index " + std::to_string(v) + " is out of range for data dim " +
                          std::to_string(b + t) + " of size " + std::to_string(dim));
        }
        off += (v < 0 ? v + dim : v) * stride[t];
      }
      offsets[bi * per_batch + j] = off;
    }
  }
  return offsets;
}

Status run_gather_nd(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const int64_t b = ctx.node().attr_int("batch_dims", 0);
  INGOT_ASSIGN_OR_RETURN(auto offsets, nd_offsets(ctx, x, ind, b));
  const int64_t k = ind.dim(-1);
  Dims out_dims(ind.dims().begin(), ind.dims().end() - 1);
  out_dims.insert(out_dims.end(), x.dims().begin() + b + k, x.dims().end());
  const int64_t slice = product(x.dims(), b + k, x.dims().size());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::gather_slices(x.data<T>(), offsets.data(), static_cast<int64_t>(offsets.size()), slice,
                       y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(unsupported_type(x));
}

Status infer_gather_nd(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs (data, indices)");
  INGOT_RETURN_IF_ERROR(check_index_dtype(ctx, 1));
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(1) || ctx.input_shape(1).empty() ||
      !ctx.input_shape(1).back().is_static()) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& d = ctx.input_shape(0);
  const ir::SymShape& q = ctx.input_shape(1);
  const int64_t b = ctx.node().attr_int("batch_dims", 0);
  const int64_t k = q.back().value;
  const int64_t r = static_cast<int64_t>(d.size());
  if (b < 0 || b >= std::min<int64_t>(r, static_cast<int64_t>(q.size())) || k > r - b) {
    return ctx.fail("indices of shape " + ir::shape_to_string(q) + " with batch_dims " + std::to_string(b) +
                    " do not fit data of shape " + ir::shape_to_string(d));
  }
  ir::SymShape out(q.begin(), q.end() - 1);
  out.insert(out.end(), d.begin() + b + k, d.end());
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_scatter_nd(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& ind = ctx.input(1);
  const Tensor& upd = ctx.input(2);
  if (upd.dtype() != x.dtype()) return ctx.fail("updates and data have different types");
  INGOT_ASSIGN_OR_RETURN(auto r, scatter_reduction(ctx.node()));
  INGOT_ASSIGN_OR_RETURN(auto offsets, nd_offsets(ctx, x, ind, 0));
  const int64_t k = ind.dim(-1);
  Dims want(ind.dims().begin(), ind.dims().end() - 1);
  want.insert(want.end(), x.dims().begin() + k, x.dims().end());
  if (upd.dims() != want) {
    return ctx.fail("updates shape " + dims_to_string(upd.dims()) + " should be " + dims_to_string(want));
  }
  const int64_t slice = product(x.dims(), k, x.dims().size());
  return scatter_into_copy(ctx, r, [&](auto tag, Tensor& y) {
    using T = typename decltype(tag)::type;
    ref::scatter_slices(y.data<T>(), offsets.data(), static_cast<int64_t>(offsets.size()), slice,
                        upd.data<T>(), r);
  });
}

}  // namespace

INGOT_REGISTER_OP(Gather, .infer = infer_gather, .run = run_gather);
INGOT_REGISTER_OP(GatherElements, .infer = infer_gather_elements, .run = run_gather_elements);
INGOT_REGISTER_OP(GatherND, .infer = infer_gather_nd, .run = run_gather_nd);
INGOT_REGISTER_OP(Scatter, .infer = infer_scatter, .run = run_scatter_elements);
INGOT_REGISTER_OP(ScatterElements, .infer = infer_scatter, .run = run_scatter_elements);
INGOT_REGISTER_OP(ScatterND, .infer = infer_scatter, .run = run_scatter_nd);

}  // namespace ingot::ops
