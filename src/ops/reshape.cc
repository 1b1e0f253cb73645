// Reshape, Flatten, Squeeze, Unsqueeze: new dims over the same storage (no copy).
#include <algorithm>
#include <functional>
#include <limits>
#include <set>

#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// Product of dims [b, e): static when all are, the one symbolic dim when the rest are 1, else unknown.
ir::Dim sym_product(const ir::SymShape& s, size_t b, size_t e) {
  int64_t p = 1;
  const ir::Dim* sym = nullptr;
  int unknown = 0;
  for (size_t i = b; i < e; ++i) {
    if (s[i].is_static()) {
      p *= s[i].value;
    } else {
      ++unknown;
      sym = &s[i];
    }
  }
  if (unknown == 0) return p;
  if (unknown == 1 && p == 1) return *sym;
  return ir::Dim();
}

Status reshape_set_output(RunContext& ctx, Dims dims) {
  auto r = ctx.input(0).reshaped(std::move(dims));
  if (!r.ok()) return ctx.fail(r.status().message());
  ctx.set_output(0, RtValue(std::move(*r)));
  return Status::Ok();
}

// ---- Reshape ----

Status check_reshape_spec(const std::vector<int64_t>& spec, bool allowzero,
                          const std::function<Status(const std::string&)>& fail) {
  int neg = 0;
  bool zero = false;
  for (int64_t s : spec) {
    if (s < -1) return fail("shape value " + std::to_string(s) + " is invalid (must be >= -1)");
    if (s == -1) ++neg;
    if (s == 0) zero = true;
  }
  if (neg > 1) return fail("shape has more than one -1");
  if (allowzero && zero && neg) return fail("shape has both 0 and -1 while allowzero=1");
  return Status::Ok();
}

Status run_reshape(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!ctx.has_input(1)) return ctx.fail("missing shape input");
  INGOT_ASSIGN_OR_RETURN(auto spec, int_input(ctx, 1, "shape"));
  const bool allowzero = ctx.node().attr_int("allowzero", 0) != 0;
  INGOT_RETURN_IF_ERROR(
      check_reshape_spec(spec, allowzero, [&](const std::string& m) { return ctx.fail(m); }));
  Dims out(spec.size());
  int64_t known = 1;
  int64_t infer_at = -1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t s = spec[i];
    if (s == 0 && !allowzero) {
      if (static_cast<int64_t>(i) >= x.rank()) {
        return ctx.fail("shape value 0 at position " + std::to_string(i) +
                        " copies a dim the input of rank " + std::to_string(x.rank()) + " does not have");
      }
      s = x.dim(static_cast<int64_t>(i));
    }
    if (s == -1) {
      infer_at = static_cast<int64_t>(i);
      continue;
    }
    out[i] = s;
    if (s != 0 && known > std::numeric_limits<int64_t>::max() / s) return ctx.fail("shape overflows int64");
    known *= s;
  }
  if (infer_at >= 0) {
    if (known == 0 || x.numel() % known != 0) {
      return ctx.fail("cannot reshape " + dims_to_string(x.dims()) + " (" + std::to_string(x.numel()) +
                      " elements) with -1 in shape " + dims_to_string(spec));
    }
    out[infer_at] = x.numel() / known;
  }
  if (known * (infer_at >= 0 ? out[infer_at] : 1) != x.numel()) {
    return ctx.fail("cannot reshape " + dims_to_string(x.dims()) + " to " + dims_to_string(out));
  }
  return reshape_set_output(ctx, std::move(out));
}

Status infer_reshape(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs (data, shape)");
  const DType dt = ctx.input_dtype(0);
  auto spec = const_ints(ctx, 1);
  if (!spec) {
    if (ctx.input_has_shape(1) && ctx.input_shape(1).size() == 1 && ctx.input_shape(1)[0].is_static()) {
      ctx.set_output(0, dt, unknown_shape(static_cast<size_t>(ctx.input_shape(1)[0].value)));
    } else {
      ctx.set_output_rank_unknown(0, dt);
    }
    return Status::Ok();
  }
  const bool allowzero = ctx.node().attr_int("allowzero", 0) != 0;
  INGOT_RETURN_IF_ERROR(
      check_reshape_spec(*spec, allowzero, [&](const std::string& m) { return ctx.fail(m); }));
  const bool in_known = ctx.input_has_shape(0);
  const ir::SymShape in = in_known ? ctx.input_shape(0) : ir::SymShape{};
  ir::SymShape out(spec->size());
  int64_t infer_at = -1;
  for (size_t i = 0; i < spec->size(); ++i) {
    int64_t s = (*spec)[i];
    if (s == 0 && !allowzero) {
      if (!in_known) continue;  // unknown dim
      if (i >= in.size())
        return ctx.fail("shape value 0 at position " + std::to_string(i) + " is past the input rank");
      out[i] = in[i];
    } else if (s == -1) {
      infer_at = static_cast<int64_t>(i);
    } else {
      out[i] = s;
    }
  }
  if (infer_at >= 0 && in_known) {
    // -1 = numel(in) / numel(out without it). Symbols that appear on both sides cancel (dims copied
    // through 0, e.g. [batch, seq, 768] -> [0, 0, 12, 64]); what is left must be static.
    std::multiset<std::string> syms;
    int64_t pin = 1, pout = 1;
    bool ok = true;
    for (const ir::Dim& d : in) {
      if (d.is_static())
        pin *= d.value;
      else if (!d.symbol.empty())
        syms.insert(d.symbol);
      else
        ok = false;
    }
    for (size_t i = 0; i < out.size() && ok; ++i) {
      if (static_cast<int64_t>(i) == infer_at) continue;
      const ir::Dim& d = out[i];
      if (d.is_static()) {
        pout *= d.value;
      } else {
        auto it = d.symbol.empty() ? syms.end() : syms.find(d.symbol);
        if (it == syms.end())
          ok = false;
        else
          syms.erase(it);
      }
    }
    if (ok && syms.empty()) {
      if (pout == 0 || pin % pout != 0) {
        return ctx.fail("cannot reshape " + ir::shape_to_string(in) + " with -1 in shape " +
                        dims_to_string(*spec));
      }
      out[infer_at] = pin / pout;
    }
  }
  if (in_known && ir::is_static(in) && ir::is_static(out)) {
    auto a = checked_numel(ir::to_dims(in));
    auto b = checked_numel(ir::to_dims(out));
    if (!a.ok() || !b.ok() || *a != *b) {
      return ctx.fail("cannot reshape " + ir::shape_to_string(in) + " to " + ir::shape_to_string(out));
    }
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status normalize_reshape(NormalizeContext& ctx) {
  // Reshape-1 had the target shape as an attribute.
  if (ctx.opset() < 5) ctx.move_attr_to_input("shape", 1, DType::kI64);
  return Status::Ok();
}

// ---- Flatten ----

Expected<int64_t> flatten_axis(const ir::Node& node, int64_t rank) {
  int64_t axis = node.attr_int("axis", 1);
  if (axis < -rank || axis > rank) {
    return invalid_argument(node.describe() + ": axis " + std::to_string(axis) +
                            " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

Status run_flatten(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, flatten_axis(ctx.node(), x.rank()));
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.dim(i);
  int64_t inner = 1;
  for (int64_t i = axis; i < x.rank(); ++i) inner *= x.dim(i);
  return reshape_set_output(ctx, {outer, inner});
}

Status infer_flatten(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output(0, dt, unknown_shape(2));
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, flatten_axis(ctx.node(), static_cast<int64_t>(in.size())));
  ctx.set_output(0, dt, {sym_product(in, 0, axis), sym_product(in, axis, in.size())});
  return Status::Ok();
}

// ---- Squeeze / Unsqueeze ----

Status normalize_axes_attr(NormalizeContext& ctx) {
  if (ctx.opset() < 13) ctx.move_attr_to_input("axes", 1, DType::kI64);
  return Status::Ok();
}

// Sorted, unique axes in [0, rank); an error naming the node otherwise.
Expected<std::vector<int64_t>> unique_axes(std::vector<int64_t> axes, int64_t rank, const ir::Node& node) {
  for (int64_t& a : axes) {
    INGOT_ASSIGN_OR_RETURN(a, normalize_axis(a, rank, node));
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) {
    return invalid_argument(node.describe() + ": axes contain a duplicate");
  }
  return axes;
}

Status run_squeeze(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  Dims out;
  if (ctx.has_input(1)) {
    INGOT_ASSIGN_OR_RETURN(auto raw, int_input(ctx, 1, "axes"));
    INGOT_ASSIGN_OR_RETURN(auto axes, unique_axes(raw, x.rank(), ctx.node()));
    size_t k = 0;
    for (int64_t i = 0; i < x.rank(); ++i) {
      if (k < axes.size() && axes[k] == i) {
        if (x.dim(i) != 1) {
          return ctx.fail("cannot squeeze axis " + std::to_string(i) + " of size " +
                          std::to_string(x.dim(i)));
        }
        ++k;
        continue;
      }
      out.push_back(x.dim(i));
    }
  } else {
    for (int64_t d : x.dims())
      if (d != 1) out.push_back(d);
  }
  return reshape_set_output(ctx, std::move(out));
}

Status infer_squeeze(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  ir::SymShape out;
  if (ctx.has_input(1)) {
    auto raw = const_ints(ctx, 1);
    if (!raw) {
      ctx.set_output_rank_unknown(0, dt);
      return Status::Ok();
    }
    INGOT_ASSIGN_OR_RETURN(auto axes, unique_axes(*raw, static_cast<int64_t>(in.size()), ctx.node()));
    size_t k = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      if (k < axes.size() && axes[k] == static_cast<int64_t>(i)) {
        if (in[i].is_static() && in[i].value != 1) {
          return ctx.fail("cannot squeeze axis " + std::to_string(i) + " of size " +
                          std::to_string(in[i].value));
        }
        ++k;
        continue;
      }
      out.push_back(in[i]);
    }
  } else {
    for (const ir::Dim& d : in) {
      if (!d.is_static()) {  // might be 1: the rank depends on data
        ctx.set_output_rank_unknown(0, dt);
        return Status::Ok();
      }
      if (d.value != 1) out.push_back(d);
    }
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_unsqueeze(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!ctx.has_input(1)) return ctx.fail("missing axes input");
  INGOT_ASSIGN_OR_RETURN(auto raw, int_input(ctx, 1, "axes"));
  const int64_t r = x.rank() + static_cast<int64_t>(raw.size());
  INGOT_ASSIGN_OR_RETURN(auto axes, unique_axes(raw, r, ctx.node()));
  Dims out(r);
  size_t k = 0, j = 0;
  for (int64_t i = 0; i < r; ++i) {
    if (k < axes.size() && axes[k] == i) {
      out[i] = 1;
      ++k;
    } else {
      out[i] = x.dims()[j++];
    }
  }
  return reshape_set_output(ctx, std::move(out));
}

Status infer_unsqueeze(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs (data, axes)");
  const DType dt = ctx.input_dtype(0);
  auto raw = const_ints(ctx, 1);
  if (!ctx.input_has_shape(0) || !raw) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  const int64_t r = static_cast<int64_t>(in.size() + raw->size());
  INGOT_ASSIGN_OR_RETURN(auto axes, unique_axes(*raw, r, ctx.node()));
  ir::SymShape out(r);
  size_t k = 0, j = 0;
  for (int64_t i = 0; i < r; ++i) {
    if (k < axes.size() && axes[k] == i) {
      out[i] = 1;
      ++k;
    } else {
      out[i] = in[j++];
    }
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Reshape, .infer = infer_reshape, .run = run_reshape, .normalize = normalize_reshape);
INGOT_REGISTER_OP(Flatten, .infer = infer_flatten, .run = run_flatten);
INGOT_REGISTER_OP(Squeeze, .infer = infer_squeeze, .run = run_squeeze, .normalize = normalize_axes_attr);
INGOT_REGISTER_OP(Unsqueeze, .infer = infer_unsqueeze, .run = run_unsqueeze,
                  .normalize = normalize_axes_attr);

}  // namespace ingot::ops
