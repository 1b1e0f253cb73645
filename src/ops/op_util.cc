#include "ops/op_util.h"

#include <algorithm>

namespace ingot::ops {

Expected<int64_t> normalize_axis(int64_t axis, int64_t rank, const ir::Node& node) {
  if (axis < -rank || axis >= rank || (rank == 0 && axis != 0 && axis != -1)) {
    return invalid_argument(node.describe() + ": axis " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

Expected<Dims> broadcast_dims(const Dims& a, const Dims& b) {
  const size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else return invalid_argument("shapes " + dims_to_string(a) + " and " + dims_to_string(b) + " do not broadcast");
  }
  return out;
}

Expected<ir::SymShape> broadcast_shapes(const ir::SymShape& a, const ir::SymShape& b) {
  const size_t r = std::max(a.size(), b.size());
  ir::SymShape out(r);
  for (size_t i = 0; i < r; ++i) {
    ir::Dim da = i < r - a.size() ? ir::Dim(1) : a[i - (r - a.size())];
    ir::Dim db = i < r - b.size() ? ir::Dim(1) : b[i - (r - b.size())];
    if (da.is_static() && db.is_static()) {
      if (da.value == db.value || db.value == 1) out[i] = da;
      else if (da.value == 1) out[i] = db;
      else return invalid_argument("shapes " + ir::shape_to_string(a) + " and " + ir::shape_to_string(b) +
                                   " do not broadcast");
    } else if (da.is_static() && da.value == 1) {
      out[i] = db;
    } else if (db.is_static() && db.value == 1) {
      out[i] = da;
    } else if (!da.is_static() && !db.is_static() && da.symbol == db.symbol && !da.symbol.empty()) {
      out[i] = da;
    } else if (da.is_static()) {
      out[i] = da;  // the other is unknown: it must be 1 or equal
    } else if (db.is_static()) {
      out[i] = db;
    } else {
      out[i] = ir::Dim();
    }
  }
  return out;
}

std::vector<int64_t> row_major_strides(const Dims& dims) {
  std::vector<int64_t> s(dims.size());
  int64_t acc = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    s[i] = acc;
    acc *= dims[i];
  }
  return s;
}

std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out) {
  std::vector<int64_t> s(out.size(), 0);
  std::vector<int64_t> in_s = row_major_strides(in);
  const size_t off = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) s[off + i] = in[i] == 1 ? 0 : in_s[i];
  return s;
}

Status infer_same_as_input(InferContext& ctx, size_t input, size_t output) {
  if (!ctx.has_input(input)) return ctx.fail("missing input " + std::to_string(input));
  ctx.set_output(output, ctx.input_type(input));
  return Status::Ok();
}

Status infer_broadcast(InferContext& ctx, std::optional<DType> dtype) {
  const DType dt = dtype ? *dtype : ctx.input_dtype(0);
  ir::SymShape shape;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    if (!ctx.input_has_shape(i)) {
      ctx.set_output_rank_unknown(0, dt);
      return Status::Ok();
    }
    auto b = broadcast_shapes(shape, ctx.input_shape(i));
    if (!b.ok()) return ctx.fail(b.status().message());
    shape = *b;
  }
  ctx.set_output(0, dt, shape);
  return Status::Ok();
}

std::optional<std::vector<int64_t>> const_ints(const InferContext& ctx, size_t i) {
  const Tensor* t = ctx.input_const(i);
  if (!t) return std::nullopt;
  return t->to_i64_vector();
}

}  // namespace ingot::ops
