// Control flow: If, Loop, Scan. Bodies are subgraphs run through RunContext::run_subgraph; values of
// enclosing graphs reach them through the interpreter's frames. Inference types the outputs from the
// bodies' declared (or inferred) output types; shapes only where the body and the inputs pin them down.
#include "ops/control_flow.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/sequence_util.h"

namespace ingot::ops {

namespace {
// 10 million: far above any trip count a real model's loop needs, low enough that a runaway loop
// fails in seconds to minutes instead of appearing to hang. INGOT_MAX_LOOP_ITERATIONS (a non-negative
// integer) sets another default, e.g. for slow sanitizer builds.
int64_t default_max_loop_iterations() {
  if (const char* s = std::getenv("INGOT_MAX_LOOP_ITERATIONS"); s && *s) {
    char* end = nullptr;
    const long long v = std::strtoll(s, &end, 10);
    if (*end == '\0' && v >= 0) return v;
  }
  return 10'000'000;
}
std::atomic<int64_t> g_max_loop_iterations{default_max_loop_iterations()};
}  // namespace

int64_t max_loop_iterations() { return g_max_loop_iterations.load(); }
void set_max_loop_iterations(int64_t n) { g_max_loop_iterations.store(std::max<int64_t>(n, 0)); }

namespace {

using Kind = ir::ValueType::Kind;

std::string str(size_t v) { return std::to_string(v); }

// The type an output gets when it may come from either `a` or `b` (If's two branches, a loop-carried
// value before and after an iteration): what both agree on.
Expected<ir::ValueType> join_types(const ir::ValueType& a, const ir::ValueType& b, const std::string& what) {
  if (a.kind == Kind::kUnknown) return b;
  if (b.kind == Kind::kUnknown) return a;
  if (a.kind != b.kind) {
    // An optional on one side and a plain value on the other: `b` wins (for a loop-carried value, the
    // body's output type is the loop's output type, e.g. an empty optional the body fills).
    if (a.kind == Kind::kOptional || b.kind == Kind::kOptional) return b;
    return invalid_argument(what + ": " + a.to_string() + " vs " + b.to_string());
  }
  if (a.kind != Kind::kTensor) return a;
  if (a.dtype != DType::kUndefined && b.dtype != DType::kUndefined && a.dtype != b.dtype) {
    return invalid_argument(what + ": " + dtype_name(a.dtype) + " vs " + dtype_name(b.dtype));
  }
  ir::ValueType out = ir::ValueType::tensor(a.dtype != DType::kUndefined ? a.dtype : b.dtype);
  if (a.has_shape && b.has_shape && a.shape.size() == b.shape.size()) {
    out.has_shape = true;
    out.shape = a.shape;
    for (size_t d = 0; d < a.shape.size(); ++d)
      if (!(a.shape[d] == b.shape[d])) out.shape[d] = ir::Dim();
  }
  return out;
}

// A scan output's type: the body's per-iteration tensor type with `len` inserted at `axis`.
ir::ValueType stacked_type(const ir::ValueType& elem, ir::Dim len, int64_t axis) {
  if (elem.kind != Kind::kTensor || elem.dtype == DType::kUndefined) return ir::ValueType{};
  if (!elem.has_shape) return ir::ValueType::tensor(elem.dtype);
  ir::SymShape s = elem.shape;
  if (axis < 0) axis += static_cast<int64_t>(s.size()) + 1;
  if (axis < 0 || axis > static_cast<int64_t>(s.size())) return ir::ValueType::tensor(elem.dtype);
  s.insert(s.begin() + axis, len);
  return ir::ValueType::tensor(elem.dtype, std::move(s));
}

// A bool (or numeric) one-element tensor as a condition.
Expected<bool> read_condition(const RunContext& ctx, const RtValue& v, const std::string& what) {
  if (!v.is_tensor()) return ctx.fail(what + " must be a tensor, got " + value_kind_name(v));
  const Tensor& t = v.tensor;
  if (t.numel() != 1) return ctx.fail(what + " must have one element, got shape " + dims_to_string(t.dims()));
  if (t.dtype() == DType::kBool) return t.data<bool>()[0];
  if (t.dtype() == DType::kString) return ctx.fail(what + " must be bool, got string");
  return t.get_f64(0) != 0;
}

Tensor bool_scalar(bool b) {
  Tensor t = Tensor::create(DType::kBool, {}).value();
  t.data<bool>()[0] = b;
  return t;
}

// Joins the per-iteration scan outputs along a new `axis`. With no iterations the element shape is
// taken from the body's declared output type where it is static.
Expected<Tensor> stack_scan_output(const RunContext& ctx, const std::vector<Tensor>& items, int64_t axis,
                                   const ir::ValueType& declared, const std::string& what) {
  if (items.empty()) {
    if (declared.kind != Kind::kTensor || declared.dtype == DType::kUndefined) {
      return ctx.fail(what + ": no iterations ran and the body does not declare the output's type");
    }
    Dims dims = {0};
    if (declared.has_shape && ir::is_static(declared.shape)) {
      dims = ir::to_dims(declared.shape);
      if (axis < 0) axis += static_cast<int64_t>(dims.size()) + 1;
      if (axis < 0 || axis > static_cast<int64_t>(dims.size())) return ctx.fail(what + ": axis out of range");
      dims.insert(dims.begin() + axis, 0);
    }
    return Tensor::create(declared.dtype, dims);
  }
  const int64_t rank = items[0].rank() + 1;
  if (axis < -rank || axis >= rank) {
    return ctx.fail(what + ": axis " + std::to_string(axis) + " is out of range for rank " +
                    std::to_string(rank));
  }
  if (axis < 0) axis += rank;
  std::vector<const Tensor*> ptrs;
  ptrs.reserve(items.size());
  for (const Tensor& t : items) ptrs.push_back(&t);
  return join_tensors(ptrs, axis, /*new_axis=*/true, ctx.node().describe() + ": " + what);
}

Expected<std::vector<RtValue>> run_body(const RunContext& ctx, const ir::Graph& body,
                                        const std::vector<RtValue>& feeds, int64_t iteration) {
  auto outs = ctx.run_subgraph(body, feeds);
  if (!outs.ok()) {
    return outs.status().with_context(ctx.node().describe() +
                                      (iteration >= 0 ? " iteration " + std::to_string(iteration) : ""));
  }
  if (outs->size() != body.outputs.size()) return ctx.fail("body returned the wrong number of outputs");
  return outs;
}

// ---- If ----

Status check_if(const ir::Node& node, const ir::Graph*& then_g, const ir::Graph*& else_g) {
  then_g = node.attr_graph("then_branch");
  else_g = node.attr_graph("else_branch");
  const std::string where = node.describe() + ": ";
  if (!then_g || !else_g)
    return invalid_argument(where + "attributes 'then_branch' and 'else_branch' are required");
  if (!then_g->inputs.empty() || !else_g->inputs.empty())
    return invalid_argument(where + "branches take no inputs");
  if (then_g->outputs.size() != node.outputs.size() || else_g->outputs.size() != node.outputs.size()) {
    return invalid_argument(where + "the node has " + str(node.outputs.size()) + " outputs, then_branch " +
                            str(then_g->outputs.size()) + ", else_branch " + str(else_g->outputs.size()));
  }
  return Status::Ok();
}

Status infer_if(InferContext& ctx) {
  const ir::Graph *then_g, *else_g;
  INGOT_RETURN_IF_ERROR(check_if(ctx.node(), then_g, else_g));
  if (!ctx.has_input(0)) return ctx.fail("condition input is missing");
  const ir::ValueType& c = ctx.input_type(0);
  if (c.kind != Kind::kTensor) return ctx.fail("condition must be a tensor");
  if (c.has_shape && ir::is_static(c.shape) && dims_product(ir::to_dims(c.shape), 0, c.shape.size()) != 1) {
    return ctx.fail("condition must have one element, got shape " + ir::shape_to_string(c.shape));
  }
  const Tensor* cv = ctx.input_const(0);
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    const ir::ValueType& a = then_g->outputs[i]->type;
    const ir::ValueType& b = else_g->outputs[i]->type;
    if (cv && cv->numel() == 1) {
      ctx.set_output(i, cv->get_f64(0) != 0 ? a : b);
      continue;
    }
    auto t = join_types(a, b, "output " + str(i) + " differs between the branches");
    if (!t.ok()) return ctx.fail(t.status().message());
    ctx.set_output(i, *t);
  }
  return Status::Ok();
}

Status run_if(RunContext& ctx) {
  const ir::Graph *then_g, *else_g;
  INGOT_RETURN_IF_ERROR(check_if(ctx.node(), then_g, else_g));
  if (!ctx.has_input(0)) return ctx.fail("condition input is missing");
  INGOT_ASSIGN_OR_RETURN(bool cond, read_condition(ctx, ctx.input_value(0), "condition"));
  INGOT_ASSIGN_OR_RETURN(std::vector<RtValue> outs, run_body(ctx, cond ? *then_g : *else_g, {}, -1));
  for (size_t i = 0; i < outs.size() && i < ctx.num_outputs(); ++i) ctx.set_output(i, std::move(outs[i]));
  return Status::Ok();
}

// ---- Loop ----

struct LoopShape {
  size_t n = 0;  // loop-carried values
  size_t k = 0;  // scan outputs
};

Expected<LoopShape> check_loop(const ir::Node& node, const ir::Graph*& body) {
  body = node.attr_graph("body");
  const std::string where = node.describe() + ": ";
  if (!body) return invalid_argument(where + "attribute 'body' is required");
  if (node.inputs.size() < 2)
    return invalid_argument(where + "needs the inputs M and cond (either may be empty)");
  LoopShape s;
  s.n = node.inputs.size() - 2;
  if (body->inputs.size() != s.n + 2) {
    return invalid_argument(where + "body takes " + str(body->inputs.size()) + " inputs, expected " +
                            str(s.n + 2) + " (iteration number, condition and " + str(s.n) +
                            " loop-carried values)");
  }
  if (body->outputs.size() < s.n + 1) {
    return invalid_argument(where + "body has " + str(body->outputs.size()) + " outputs, expected at least " +
                            str(s.n + 1) + " (condition and " + str(s.n) + " loop-carried values)");
  }
  s.k = body->outputs.size() - 1 - s.n;
  if (node.outputs.size() > s.n + s.k) {
    return invalid_argument(where + "has " + str(node.outputs.size()) + " outputs, the body gives " +
                            str(s.n + s.k));
  }
  for (size_t i = 0; i < s.n; ++i)
    if (!node.has_input(i + 2))
      return invalid_argument(where + "loop-carried input " + str(i) + " is missing");
  return s;
}

Status infer_loop(InferContext& ctx) {
  const ir::Graph* body;
  INGOT_ASSIGN_OR_RETURN(LoopShape s, check_loop(ctx.node(), body));
  if (ctx.has_input(0)) {
    const ir::ValueType& m = ctx.input_type(0);
    if (m.kind == Kind::kTensor && m.dtype != DType::kI64 && m.dtype != DType::kUndefined) {
      return ctx.fail(std::string("trip count M must be int64, got ") + dtype_name(m.dtype));
    }
  }
  for (size_t i = 0; i < s.n; ++i) {
    auto t = join_types(ctx.input_type(i + 2), body->outputs[i + 1]->type,
                        "loop-carried value " + str(i) + " changes type in the body");
    if (!t.ok()) return ctx.fail(t.status().message());
    ctx.set_output(i, *t);
  }
  // The number of iterations is known when M is constant and the condition stays true: no initial
  // condition, and the body returns a constant true or passes its condition input through.
  ir::Dim trips;
  if (const Tensor* m = ctx.input_const(0); m && m->numel() == 1 && !ctx.has_input(1)) {
    const ir::Value* c = body->outputs[0];
    if (c == body->inputs[1] || (c->constant && c->constant->numel() == 1 && c->constant->get_f64(0) != 0)) {
      trips = ir::Dim(std::max<int64_t>(m->get_i64(0), 0));
    }
  }
  for (size_t j = 0; j < s.k && s.n + j < ctx.num_outputs(); ++j) {
    ctx.set_output(s.n + j, stacked_type(body->outputs[1 + s.n + j]->type, trips, 0));
  }
  return Status::Ok();
}

Status run_loop(RunContext& ctx) {
  const ir::Graph* body;
  INGOT_ASSIGN_OR_RETURN(LoopShape s, check_loop(ctx.node(), body));
  bool has_trips = false;
  int64_t trips = 0;
  if (ctx.has_input(0)) {
    const RtValue& m = ctx.input_value(0);
    if (!m.is_tensor()) return ctx.fail("trip count M must be a tensor, got " + value_kind_name(m));
    if (m.tensor.numel() != 1 || !dtype_is_integer(m.tensor.dtype())) {
      return ctx.fail("trip count M must be one integer, got a " + std::string(dtype_name(m.tensor.dtype())) +
                      " tensor of shape " + dims_to_string(m.tensor.dims()));
    }
    has_trips = true;
    trips = m.tensor.get_i64(0);
  }
  bool cond = true;
  if (ctx.has_input(1)) {
    INGOT_ASSIGN_OR_RETURN(cond, read_condition(ctx, ctx.input_value(1), "condition"));
  }
  const int64_t limit = max_loop_iterations();
  // Without a condition the trip count is exact: refuse one over the limit before running anything.
  // (With a condition, M is often INT64_MAX, as exporters write while-loops; the limit is checked below.)
  if (has_trips && !ctx.has_input(1) && trips > limit) {
    return ctx.fail("trip count " + std::to_string(trips) + " is over the limit of " + std::to_string(limit) +
                    " iterations (set_max_loop_iterations raises it)");
  }
  std::vector<RtValue> feeds(s.n + 2);
  for (size_t i = 0; i < s.n; ++i) feeds[i + 2] = ctx.input_value(i + 2);
  std::vector<std::vector<Tensor>> scans(s.k);
  int64_t it = 0;
  for (; (!has_trips || it < trips) && cond; ++it) {
    if (it >= limit) {
      return ctx.fail("ran past the limit of " + std::to_string(limit) +
                      " iterations (set_max_loop_iterations raises it); does its condition ever turn false?");
    }
    feeds[0] = RtValue(Tensor::scalar_i64(it));
    feeds[1] = RtValue(bool_scalar(cond));
    INGOT_ASSIGN_OR_RETURN(std::vector<RtValue> outs, run_body(ctx, *body, feeds, it));
    INGOT_ASSIGN_OR_RETURN(cond, read_condition(ctx, outs[0], "the body's condition output"));
    for (size_t i = 0; i < s.n; ++i) feeds[i + 2] = std::move(outs[i + 1]);
    for (size_t j = 0; j < s.k; ++j) {
      RtValue& v = outs[1 + s.n + j];
      if (!v.is_tensor())
        return ctx.fail("scan output " + str(j) + " must be a tensor, got " + value_kind_name(v));
      if (!scans[j].empty() &&
          (v.tensor.dims() != scans[j][0].dims() || v.tensor.dtype() != scans[j][0].dtype())) {
        return ctx.fail("scan output " + str(j) +
                        " changes shape between iterations: " + dims_to_string(scans[j][0].dims()) +
                        " then " + dims_to_string(v.tensor.dims()) + " at iteration " + std::to_string(it));
      }
      // Fail as soon as the stacked output could not be allocated, not after collecting every piece.
      if (static_cast<uint64_t>(v.tensor.nbytes()) * (scans[j].size() + 1) >
          static_cast<uint64_t>(max_tensor_bytes())) {
        return ctx.fail("scan output " + str(j) + " grows past the " +
                        std::to_string(max_tensor_bytes() >> 20) + " MiB tensor cap at iteration " +
                        std::to_string(it));
      }
      scans[j].push_back(std::move(v.tensor));
    }
  }
  for (size_t i = 0; i < s.n && i < ctx.num_outputs(); ++i) ctx.set_output(i, std::move(feeds[i + 2]));
  for (size_t j = 0; j < s.k && s.n + j < ctx.num_outputs(); ++j) {
    if (!ctx.has_output(s.n + j)) continue;
    INGOT_ASSIGN_OR_RETURN(Tensor t, stack_scan_output(ctx, scans[j], 0, body->outputs[1 + s.n + j]->type,
                                                       "scan output " + str(j)));
    ctx.set_output(s.n + j, RtValue(std::move(t)));
  }
  return Status::Ok();
}

// ---- Scan ----

// Scan's layout. Opset 8 has a leading optional sequence_lens input and a batch axis on every input
// and output; opset 9 dropped both and added per-input/output axes and directions.
struct ScanShape {
  size_t first = 0;  // index of the first state input (1 in opset 8, after sequence_lens)
  size_t n = 0;      // state variables
  size_t m = 0;      // scan inputs
  size_t k = 0;      // scan outputs
  std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
};

Expected<ScanShape> check_scan(const ir::Node& node, int opset, const ir::Graph*& body) {
  body = node.attr_graph("body");
  const std::string where = node.describe() + ": ";
  if (!body) return invalid_argument(where + "attribute 'body' is required");
  if (!node.has_attr("num_scan_inputs"))
    return invalid_argument(where + "attribute 'num_scan_inputs' is required");
  const int64_t m = node.attr_int("num_scan_inputs", 0);
  ScanShape s;
  s.first = opset < 9 ? 1 : 0;
  if (node.inputs.size() < s.first || m < 1 || static_cast<size_t>(m) > node.inputs.size() - s.first) {
    return invalid_argument(where + "num_scan_inputs " + std::to_string(m) + " does not fit the " +
                            str(node.inputs.size()) + " inputs");
  }
  s.m = static_cast<size_t>(m);
  s.n = node.inputs.size() - s.first - s.m;
  for (size_t i = s.first; i < node.inputs.size(); ++i)
    if (!node.has_input(i)) return invalid_argument(where + "input " + str(i) + " is missing");
  if (body->inputs.size() != s.n + s.m) {
    return invalid_argument(where + "body takes " + str(body->inputs.size()) + " inputs, expected " +
                            str(s.n + s.m) + " (" + str(s.n) + " state variables and " + str(s.m) +
                            " scan inputs)");
  }
  if (body->outputs.size() < s.n) {
    return invalid_argument(where + "body has " + str(body->outputs.size()) + " outputs, fewer than the " +
                            str(s.n) + " state variables");
  }
  s.k = body->outputs.size() - s.n;
  if (node.outputs.size() > s.n + s.k) {
    return invalid_argument(where + "has " + str(node.outputs.size()) + " outputs, the body gives " +
                            str(s.n + s.k));
  }
  auto list = [&](const char* name, size_t len) -> Expected<std::vector<int64_t>> {
    std::vector<int64_t> v = node.attr_ints(name);
    if (v.empty()) return std::vector<int64_t>(len, 0);
    if (v.size() != len) {
      return invalid_argument(where + "attribute '" + name + "' has " + str(v.size()) +
                              " entries, expected " + str(len));
    }
    return v;
  };
  if (opset < 9) {
    INGOT_ASSIGN_OR_RETURN(s.in_dirs, list("directions", s.m));
    s.in_axes.assign(s.m, 0);
    s.out_axes.assign(s.k, 0);
    s.out_dirs.assign(s.k, 0);
  } else {
    INGOT_ASSIGN_OR_RETURN(s.in_axes, list("scan_input_axes", s.m));
    INGOT_ASSIGN_OR_RETURN(s.in_dirs, list("scan_input_directions", s.m));
    INGOT_ASSIGN_OR_RETURN(s.out_axes, list("scan_output_axes", s.k));
    INGOT_ASSIGN_OR_RETURN(s.out_dirs, list("scan_output_directions", s.k));
  }
  for (int64_t d : s.in_dirs)
    if (d != 0 && d != 1)
      return invalid_argument(where + "a scan direction must be 0 or 1, got " + std::to_string(d));
  for (int64_t d : s.out_dirs)
    if (d != 0 && d != 1)
      return invalid_argument(where + "a scan direction must be 0 or 1, got " + std::to_string(d));
  return s;
}

Status infer_scan(InferContext& ctx) {
  const ir::Graph* body;
  INGOT_ASSIGN_OR_RETURN(ScanShape s, check_scan(ctx.node(), ctx.opset(), body));
  const bool batched = ctx.opset() < 9;
  // The scan length (and, in opset 8, the batch size) from the first scan input's shape.
  ir::Dim len, batch;
  const size_t x0 = s.first + s.n;
  if (ctx.input_has_shape(x0)) {
    const ir::SymShape& xs = ctx.input_shape(x0);
    const int64_t r = static_cast<int64_t>(xs.size());
    int64_t axis = batched ? 1 : s.in_axes[0];
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r)
      return ctx.fail("scan input 0 of rank " + std::to_string(r) + " has no axis " + std::to_string(axis));
    len = xs[axis];
    if (batched) batch = xs[0];
  }
  for (size_t i = 0; i < s.n && i < ctx.num_outputs(); ++i) {
    ir::ValueType body_t = body->outputs[i]->type;
    if (batched && body_t.kind == Kind::kTensor) body_t = stacked_type(body_t, batch, 0);
    auto t = join_types(ctx.input_type(s.first + i), body_t,
                        "state variable " + str(i) + " changes type in the body");
    if (!t.ok()) return ctx.fail(t.status().message());
    ctx.set_output(i, *t);
  }
  for (size_t j = 0; j < s.k && s.n + j < ctx.num_outputs(); ++j) {
    ir::ValueType t = stacked_type(body->outputs[s.n + j]->type, len, s.out_axes[j]);
    if (batched) t = stacked_type(t, batch, 0);
    ctx.set_output(s.n + j, t);
  }
  return Status::Ok();
}

// One scan over `length` steps: states are threaded through, scan inputs are read one slice per step
// along their axis, per-step scan outputs are collected (in iteration order).
Status scan_steps(const RunContext& ctx, const ir::Graph& body, const ScanShape& s,
                  std::vector<RtValue>& states, const std::vector<const Tensor*>& xs,
                  const std::vector<int64_t>& axes, int64_t length, std::vector<std::vector<Tensor>>& outs) {
  std::vector<RtValue> feeds(s.n + s.m);
  for (int64_t t = 0; t < length; ++t) {
    for (size_t i = 0; i < s.n; ++i) feeds[i] = std::move(states[i]);
    for (size_t i = 0; i < s.m; ++i) {
      const int64_t idx = s.in_dirs[i] ? length - 1 - t : t;
      INGOT_ASSIGN_OR_RETURN(Tensor slice, slice_along(*xs[i], axes[i], idx, 1, false));
      feeds[s.n + i] = RtValue(std::move(slice));
    }
    INGOT_ASSIGN_OR_RETURN(std::vector<RtValue> res, run_body(ctx, body, feeds, t));
    for (size_t i = 0; i < s.n; ++i) states[i] = std::move(res[i]);
    for (size_t j = 0; j < s.k; ++j) {
      RtValue& v = res[s.n + j];
      if (!v.is_tensor())
        return ctx.fail("scan output " + str(j) + " must be a tensor, got " + value_kind_name(v));
      if (!outs[j].empty() &&
          (v.tensor.dims() != outs[j][0].dims() || v.tensor.dtype() != outs[j][0].dtype())) {
        return ctx.fail("scan output " + str(j) + " changes shape between iterations: " +
                        dims_to_string(outs[j][0].dims()) + " then " + dims_to_string(v.tensor.dims()));
      }
      outs[j].push_back(std::move(v.tensor));
    }
  }
  return Status::Ok();
}

Status run_scan9(RunContext& ctx, const ir::Graph& body, const ScanShape& s) {
  std::vector<RtValue> states(s.n);
  for (size_t i = 0; i < s.n; ++i) states[i] = ctx.input_value(i);
  std::vector<const Tensor*> xs(s.m);
  std::vector<int64_t> axes(s.m);
  int64_t length = -1;
  for (size_t i = 0; i < s.m; ++i) {
    const RtValue& v = ctx.input_value(s.n + i);
    if (!v.is_tensor())
      return ctx.fail("scan input " + str(i) + " must be a tensor, got " + value_kind_name(v));
    xs[i] = &v.tensor;
    const int64_t r = v.tensor.rank();
    if (s.in_axes[i] < -r || s.in_axes[i] >= r) {
      return ctx.fail("scan input " + str(i) + " of rank " + std::to_string(r) + " has no axis " +
                      std::to_string(s.in_axes[i]));
    }
    axes[i] = s.in_axes[i] < 0 ? s.in_axes[i] + r : s.in_axes[i];
    const int64_t l = v.tensor.dims()[axes[i]];
    if (length >= 0 && l != length) {
      return ctx.fail("scan inputs disagree on the scan length: " + std::to_string(length) + " and " +
                      std::to_string(l));
    }
    length = l;
  }
  std::vector<std::vector<Tensor>> outs(s.k);
  INGOT_RETURN_IF_ERROR(scan_steps(ctx, body, s, states, xs, axes, length, outs));
  for (size_t i = 0; i < s.n && i < ctx.num_outputs(); ++i) ctx.set_output(i, std::move(states[i]));
  for (size_t j = 0; j < s.k && s.n + j < ctx.num_outputs(); ++j) {
    if (!ctx.has_output(s.n + j)) continue;
    if (s.out_dirs[j]) std::reverse(outs[j].begin(), outs[j].end());
    INGOT_ASSIGN_OR_RETURN(Tensor t, stack_scan_output(ctx, outs[j], s.out_axes[j],
                                                       body.outputs[s.n + j]->type, "scan output " + str(j)));
    ctx.set_output(s.n + j, RtValue(std::move(t)));
  }
  return Status::Ok();
}

// Opset 8: every input and output has a leading batch axis; each batch entry is scanned separately over
// its own sequence length (axis 1), and scan outputs shorter than the longest are padded with zeros.
Status run_scan8(RunContext& ctx, const ir::Graph& body, const ScanShape& s) {
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < s.n + s.m; ++i) {
    const RtValue& v = ctx.input_value(s.first + i);
    if (!v.is_tensor())
      return ctx.fail("input " + str(s.first + i) + " must be a tensor, got " + value_kind_name(v));
    inputs.push_back(&v.tensor);
  }
  int64_t batch = -1, max_len = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = *inputs[i];
    const bool is_scan = i >= s.n;
    if (t.rank() < (is_scan ? 2 : 1)) {
      return ctx.fail("input " + str(s.first + i) + " needs a batch axis" +
                      (is_scan ? " and a sequence axis" : ""));
    }
    if (batch >= 0 && t.dims()[0] != batch) return ctx.fail("inputs disagree on the batch size");
    batch = t.dims()[0];
    if (is_scan) {
      if (max_len >= 0 && t.dims()[1] != max_len)
        return ctx.fail("scan inputs disagree on the sequence length");
      max_len = t.dims()[1];
    }
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), max_len);
  if (ctx.has_input(0)) {
    const RtValue& v = ctx.input_value(0);
    if (!v.is_tensor() || (v.tensor.dtype() != DType::kI32 && v.tensor.dtype() != DType::kI64) ||
        v.tensor.numel() != batch) {
      return ctx.fail("sequence_lens must be an int32/int64 tensor of " + std::to_string(batch) + " entries");
    }
    lens = v.tensor.to_i64_vector();
    for (int64_t l : lens)
      if (l < 0 || l > max_len) {
        return ctx.fail("sequence length " + std::to_string(l) + " is outside [0, " +
                        std::to_string(max_len) + "]");
      }
  }
  std::vector<std::vector<Tensor>> final_states(s.n), scan_outs(s.k);
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<RtValue> states(s.n);
    std::vector<Tensor> xs_b(s.m);
    std::vector<const Tensor*> xs(s.m);
    for (size_t i = 0; i < s.n; ++i) {
      INGOT_ASSIGN_OR_RETURN(Tensor st, slice_along(*inputs[i], 0, b, 1, false));
      states[i] = RtValue(std::move(st));
    }
    for (size_t i = 0; i < s.m; ++i) {
      INGOT_ASSIGN_OR_RETURN(xs_b[i], slice_along(*inputs[s.n + i], 0, b, 1, false));
      // Only the first lens[b] steps are real; the reverse direction starts from the last real one.
      INGOT_ASSIGN_OR_RETURN(xs_b[i], slice_along(xs_b[i], 0, 0, lens[b], true));
      xs[i] = &xs_b[i];
    }
    std::vector<std::vector<Tensor>> outs(s.k);
    INGOT_RETURN_IF_ERROR(scan_steps(ctx, body, s, states, xs, std::vector<int64_t>(s.m, 0), lens[b], outs));
    for (size_t i = 0; i < s.n; ++i) {
      if (!states[i].is_tensor()) return ctx.fail("state variable " + str(i) + " must be a tensor");
      final_states[i].push_back(std::move(states[i].tensor));
    }
    for (size_t j = 0; j < s.k; ++j) {
      INGOT_ASSIGN_OR_RETURN(
          Tensor y, stack_scan_output(ctx, outs[j], 0, body.outputs[s.n + j]->type, "scan output " + str(j)));
      if (lens[b] < max_len) {
        Dims padded = y.dims();
        padded[0] = max_len;
        INGOT_ASSIGN_OR_RETURN(Tensor p, Tensor::create(y.dtype(), padded));
        std::vector<const Tensor*> parts = {&y};
        Dims rest = padded;
        rest[0] = max_len - lens[b];
        INGOT_ASSIGN_OR_RETURN(Tensor zeros, Tensor::create(y.dtype(), rest));
        parts.push_back(&zeros);
        INGOT_ASSIGN_OR_RETURN(y, join_tensors(parts, 0, false, ctx.node().describe()));
      }
      scan_outs[j].push_back(std::move(y));
    }
  }
  auto stack_batch = [&](std::vector<Tensor>& items, const ir::ValueType& declared, size_t out,
                         const std::string& what) -> Status {
    if (!ctx.has_output(out)) return Status::Ok();
    INGOT_ASSIGN_OR_RETURN(Tensor t, stack_scan_output(ctx, items, 0, declared, what));
    ctx.set_output(out, RtValue(std::move(t)));
    return Status::Ok();
  };
  for (size_t i = 0; i < s.n && i < ctx.num_outputs(); ++i) {
    INGOT_RETURN_IF_ERROR(stack_batch(final_states[i], body.outputs[i]->type, i, "state variable " + str(i)));
  }
  for (size_t j = 0; j < s.k && s.n + j < ctx.num_outputs(); ++j) {
    ir::ValueType declared = stacked_type(body.outputs[s.n + j]->type, ir::Dim(max_len), 0);
    INGOT_RETURN_IF_ERROR(stack_batch(scan_outs[j], declared, s.n + j, "scan output " + str(j)));
  }
  return Status::Ok();
}

Status run_scan(RunContext& ctx) {
  const ir::Graph* body;
  INGOT_ASSIGN_OR_RETURN(ScanShape s, check_scan(ctx.node(), ctx.opset(), body));
  return ctx.opset() < 9 ? run_scan8(ctx, *body, s) : run_scan9(ctx, *body, s);
}

}  // namespace

INGOT_REGISTER_OP(If, .infer = infer_if, .run = run_if);
INGOT_REGISTER_OP(Loop, .infer = infer_loop, .run = run_loop);
INGOT_REGISTER_OP(Scan, .infer = infer_scan, .run = run_scan);

}  // namespace ingot::ops
