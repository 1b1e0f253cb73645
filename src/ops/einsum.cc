// Einsum: explicit ("ij,jk->ik") and implicit ("ij,jk", output = labels used once, in ASCII
// order, after the ellipsis dims) forms, "..." broadcast dims, repeated labels (diagonals,
// traces), size-1 broadcasting of a label as numpy allows.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/einsum.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

constexpr int kLetters = 52;  // a-z, A-Z; the ellipsis dims get labels kLetters, kLetters + 1, ...

int letter_label(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

// One term of the equation: its labels, with the ellipsis position (-1 when absent).
struct Term {
  std::vector<int> labels;  // letter labels in order
  int ellipsis_at = -1;     // index in `labels` before which the ellipsis dims sit
};

Expected<Term> parse_term(const std::string& s) {
  Term t;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 3, "...") == 0) {
      if (t.ellipsis_at >= 0) return invalid_argument("term '" + s + "' has more than one ellipsis");
      t.ellipsis_at = static_cast<int>(t.labels.size());
      i += 2;
      continue;
    }
    const int l = letter_label(s[i]);
    if (l < 0) return invalid_argument(std::string("invalid character '") + s[i] + "' in equation");
    t.labels.push_back(l);
  }
  return t;
}

struct Equation {
  std::vector<Term> inputs;
  Term output;
  bool explicit_output = false;
};

Expected<Equation> parse_equation(std::string eq, size_t n_inputs) {
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  Equation e;
  std::string lhs = eq;
  const size_t arrow = eq.find("->");
  if (arrow != std::string::npos) {
    lhs = eq.substr(0, arrow);
    INGOT_ASSIGN_OR_RETURN(e.output, parse_term(eq.substr(arrow + 2)));
    e.explicit_output = true;
  }
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    INGOT_ASSIGN_OR_RETURN(Term t,
                           parse_term(lhs.substr(start, comma == std::string::npos ? comma : comma - start)));
    e.inputs.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (e.inputs.size() != n_inputs) {
    return invalid_argument("equation has " + std::to_string(e.inputs.size()) +
                            " input terms but the node has " + std::to_string(n_inputs) + " inputs");
  }
  return e;
}

// The resolved contraction: label sizes (output labels first) and each operand's label strides.
struct Plan {
  std::vector<int64_t> sizes;
  size_t n_out = 0;
  std::vector<std::vector<int64_t>> strides;
  Dims out_dims;
};

// Per operand: the global label of each axis (rank known), given the ellipsis rank E.
Expected<std::vector<int>> axis_labels(const Term& t, size_t rank, int E) {
  const size_t n = t.labels.size();
  if (t.ellipsis_at < 0 ? rank != n : rank < n) {
    return invalid_argument("term with " + std::to_string(n) + " labels" +
                            (t.ellipsis_at >= 0 ? " and '...'" : "") + " does not match an operand of rank " +
                            std::to_string(rank));
  }
  const int e = static_cast<int>(rank - n);
  std::vector<int> out;
  for (size_t i = 0; i <= n; ++i) {
    if (static_cast<int>(i) == t.ellipsis_at)
      for (int k = 0; k < e; ++k) out.push_back(kLetters + (E - e) + k);
    if (i < n) out.push_back(t.labels[i]);
  }
  return out;
}

// The output's labels, in order: the explicit output term, or (implicit form) the ellipsis dims then
// every label used exactly once, in ASCII order. count[l] is how often label l occurs in the inputs.
Expected<std::vector<int>> output_labels(const Equation& eq, const std::vector<int>& count, int E) {
  std::vector<int> out;
  if (eq.explicit_output) {
    const Term& t = eq.output;
    for (size_t i = 0; i <= t.labels.size(); ++i) {
      if (static_cast<int>(i) == t.ellipsis_at)
        for (int k = 0; k < E; ++k) out.push_back(kLetters + k);
      if (i == t.labels.size()) break;
      const int l = t.labels[i];
      if (count[l] == 0) return invalid_argument("output label is not in any input");
      if (std::find(out.begin(), out.end(), l) != out.end()) return invalid_argument("output label repeats");
      out.push_back(l);
    }
  } else {
    for (int k = 0; k < E; ++k) out.push_back(kLetters + k);
    // ASCII order puts 'A'-'Z' (labels 26..51) before 'a'-'z' (0..25).
    for (int l = 26; l < kLetters; ++l)
      if (count[l] == 1) out.push_back(l);
    for (int l = 0; l < 26; ++l)
      if (count[l] == 1) out.push_back(l);
  }
  return out;
}

Expected<Plan> make_plan(const Equation& eq, const std::vector<Dims>& shapes) {
  int E = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Term& t = eq.inputs[i];
    if (t.ellipsis_at >= 0)
      E = std::max(E, static_cast<int>(shapes[i].size() - std::min(shapes[i].size(), t.labels.size())));
  }
  const int total = kLetters + E;
  std::vector<int64_t> size(total, -1);
  std::vector<int> count(total, 0);
  std::vector<std::vector<int>> labels(shapes.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    INGOT_ASSIGN_OR_RETURN(labels[i], axis_labels(eq.inputs[i], shapes[i].size(), E));
    for (size_t a = 0; a < labels[i].size(); ++a) {
      const int l = labels[i][a];
      const int64_t d = shapes[i][a];
      ++count[l];
      if (size[l] < 0 || size[l] == 1)
        size[l] = d;
      else if (d != size[l] && d != 1) {
        return invalid_argument("operand " + std::to_string(i) + " has size " + std::to_string(d) +
                                " for a label of size " + std::to_string(size[l]));
      }
    }
  }
  INGOT_ASSIGN_OR_RETURN(std::vector<int> out, output_labels(eq, count, E));
  // Label order for the kernel: output labels, then every other used label (summed).
  std::vector<int> order = out;
  for (int l = 0; l < total; ++l)
    if (count[l] > 0 && std::find(out.begin(), out.end(), l) == out.end()) order.push_back(l);
  std::vector<int> pos(total, -1);
  for (size_t k = 0; k < order.size(); ++k) pos[order[k]] = static_cast<int>(k);
  Plan p;
  p.n_out = out.size();
  for (int l : order) p.sizes.push_back(size[l] < 0 ? 1 : size[l]);
  for (int l : out) p.out_dims.push_back(size[l] < 0 ? 1 : size[l]);
  p.strides.assign(shapes.size(), std::vector<int64_t>(order.size(), 0));
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::vector<int64_t> rs = row_major_strides(shapes[i]);
    for (size_t a = 0; a < labels[i].size(); ++a) {
      const int l = labels[i][a];
      if (shapes[i][a] == 1 && size[l] != 1) continue;  // broadcast along this label
      p.strides[i][pos[l]] += rs[a];
    }
  }
  return p;
}

// Output shape from ranks alone (dims may be symbolic): each output label takes a static size other
// than 1 where an input has one (1 broadcasts), else an input's symbolic dim, else 1.
Expected<ir::SymShape> infer_shape(const Equation& eq, const std::vector<const ir::SymShape*>& shapes) {
  int E = 0;
  for (size_t i = 0; i < shapes.size(); ++i) {
    const Term& t = eq.inputs[i];
    if (t.ellipsis_at >= 0 && shapes[i]->size() > t.labels.size()) {
      E = std::max(E, static_cast<int>(shapes[i]->size() - t.labels.size()));
    }
  }
  const int total = kLetters + E;
  std::vector<int> count(total, 0);
  std::vector<ir::Dim> dim(total, ir::Dim(1));
  for (size_t i = 0; i < shapes.size(); ++i) {
    INGOT_ASSIGN_OR_RETURN(std::vector<int> labels, axis_labels(eq.inputs[i], shapes[i]->size(), E));
    for (size_t a = 0; a < labels.size(); ++a) {
      const int l = labels[a];
      const ir::Dim& d = (*shapes[i])[a];
      ++count[l];
      if (d.is_static() && d.value != 1 && dim[l].is_static() && dim[l].value != 1 &&
          d.value != dim[l].value) {
        return invalid_argument("operand " + std::to_string(i) + " has size " + std::to_string(d.value) +
                                " for a label of size " + std::to_string(dim[l].value));
      }
      if (d.is_static() ? d.value != 1 : dim[l].is_static() && dim[l].value == 1) dim[l] = d;
    }
  }
  INGOT_ASSIGN_OR_RETURN(std::vector<int> out, output_labels(eq, count, E));
  ir::SymShape shape;
  for (int l : out) shape.push_back(dim[l]);
  return shape;
}

Status infer_einsum(InferContext& ctx) {
  if (!ctx.node().has_attr("equation")) return ctx.fail("missing attribute equation");
  if (ctx.num_inputs() == 0) return ctx.fail("expects at least one input");
  const DType dt = ctx.input_dtype(0);
  if (!dtype_is_float(dt) && !dtype_is_integer(dt))
    return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  std::vector<const ir::SymShape*> shapes;
  bool ranks_known = true;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.fail("missing input " + std::to_string(i));
    if (ctx.input_dtype(i) != dt) return ctx.fail("input types differ");
    if (!ctx.input_has_shape(i))
      ranks_known = false;
    else
      shapes.push_back(&ctx.input_shape(i));
  }
  auto eq = parse_equation(ctx.node().attr_string("equation", ""), ctx.num_inputs());
  if (!eq.ok()) return ctx.fail(eq.status().message());
  if (!ranks_known) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  auto shape = infer_shape(*eq, shapes);
  if (!shape.ok()) return ctx.fail(shape.status().message());
  ctx.set_output(0, dt, *shape);
  return Status::Ok();
}

Status run_einsum(RunContext& ctx) {
  const size_t n = ctx.num_inputs();
  if (n == 0) return ctx.fail("expects at least one input");
  std::vector<Dims> shapes;
  for (size_t i = 0; i < n; ++i) {
    if (!ctx.has_input(i)) return ctx.fail("missing input " + std::to_string(i));
    if (ctx.input(i).dtype() != ctx.input(0).dtype()) return ctx.fail("input types differ");
    shapes.push_back(ctx.input(i).dims());
  }
  auto eq = parse_equation(ctx.node().attr_string("equation", ""), n);
  if (!eq.ok()) return ctx.fail(eq.status().message());
  auto plan = make_plan(*eq, shapes);
  if (!plan.ok()) return ctx.fail(plan.status().message());
  const DType dt = ctx.input(0).dtype();
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, dt, plan->out_dims));
  bool ok = dispatch_arith(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<const T*> ops;
    for (size_t i = 0; i < n; ++i) ops.push_back(ctx.input(i).data<T>());
    ref::einsum<T>(ops, plan->strides, plan->sizes, plan->n_out, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(dt));
}

}  // namespace

INGOT_REGISTER_OP(Einsum, .infer = infer_einsum, .run = run_einsum);

}  // namespace ingot::ops
