// Sequence ops: SequenceEmpty, SequenceConstruct, SequenceAt, SequenceInsert, SequenceErase,
// SequenceLength, SplitToSequence, ConcatFromSequence, SequenceMap. A sequence is an RtValue holding
// tensors of one dtype; the element type of an empty sequence travels in RtValue::elem_dtype.
#include <cstdint>
#include <string>
#include <vector>

#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/sequence_util.h"

namespace ingot::ops {
namespace {

using Kind = ir::ValueType::Kind;

// The element type of a sequence-typed input, or an unknown type when not known.
ir::ValueType elem_type_of(const InferContext& ctx, size_t i) {
  const ir::ValueType& t = ctx.input_type(i);
  if (t.kind == Kind::kSequence && t.elem) return *t.elem;
  return ir::ValueType{};
}

// Two tensor types joined: the dtype of `a`, the shape where both agree (dims that differ unknown,
// ranks that differ make the rank unknown).
ir::ValueType merge_tensor_types(const ir::ValueType& a, const ir::ValueType& b) {
  ir::ValueType out = ir::ValueType::tensor(a.dtype != DType::kUndefined ? a.dtype : b.dtype);
  if (a.has_shape && b.has_shape && a.shape.size() == b.shape.size()) {
    out.has_shape = true;
    out.shape = a.shape;
    for (size_t d = 0; d < a.shape.size(); ++d)
      if (!(a.shape[d] == b.shape[d])) out.shape[d] = ir::Dim();
  }
  return out;
}

Status require_sequence(const RunContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
  if (!ctx.input_value(i).is_sequence()) {
    return ctx.fail("input " + std::to_string(i) + " must be a sequence, got " +
                    value_kind_name(ctx.input_value(i)));
  }
  return Status::Ok();
}

Status require_tensor(const RunContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
  if (!ctx.input_value(i).is_tensor()) {
    return ctx.fail("input " + std::to_string(i) + " must be a tensor, got " +
                    value_kind_name(ctx.input_value(i)));
  }
  return Status::Ok();
}

// A position input (int32/int64 scalar) resolved against a sequence of `size` elements, accepting
// [-size, size + extra) (extra = 1 where a position may name the end, as SequenceInsert's does).
Expected<int64_t> read_position(const RunContext& ctx, size_t i, int64_t size, int64_t extra) {
  INGOT_RETURN_IF_ERROR(require_tensor(ctx, i));
  const Tensor& p = ctx.input(i);
  if (p.dtype() != DType::kI32 && p.dtype() != DType::kI64) {
    return ctx.fail(std::string("position must be int32 or int64, got ") + dtype_name(p.dtype()));
  }
  if (p.numel() != 1) return ctx.fail("position must be a scalar, got shape " + dims_to_string(p.dims()));
  const int64_t pos = p.get_i64(0);
  if (pos < -size || pos >= size + extra) {
    return ctx.fail("position " + std::to_string(pos) + " is out of range for a sequence of " +
                    std::to_string(size) + " element" + (size == 1 ? "" : "s"));
  }
  return pos < 0 ? pos + size : pos;
}

Status check_position_type(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return Status::Ok();
  const ir::ValueType& t = ctx.input_type(i);
  if (t.kind == Kind::kTensor && t.dtype != DType::kI32 && t.dtype != DType::kI64) {
    return ctx.fail(std::string("position must be int32 or int64, got ") + dtype_name(t.dtype));
  }
  if (t.kind == Kind::kTensor && t.has_shape &&
      !(t.shape.empty() || (t.shape.size() == 1 && t.shape[0] == 1))) {
    return ctx.fail("position must be a scalar, got shape " + ir::shape_to_string(t.shape));
  }
  return Status::Ok();
}

Status check_sequence_input(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
  if (ctx.input_type(i).kind != Kind::kSequence)
    return ctx.fail("input " + std::to_string(i) + " must be a sequence");
  return Status::Ok();
}

// ---- SequenceEmpty ----

Expected<DType> sequence_empty_dtype(const ir::Node& node) {
  const int64_t code = node.attr_int("dtype", static_cast<int64_t>(DType::kF32));
  if (code <= 0 || code > INT32_MAX || !dtype_is_valid(static_cast<int32_t>(code))) {
    return invalid_argument(node.describe() + ": dtype " + std::to_string(code) +
                            " is not a tensor element type");
  }
  return static_cast<DType>(code);
}

Status infer_sequence_empty(InferContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(DType d, sequence_empty_dtype(ctx.node()));
  ctx.set_output(0, sequence_of(d));
  return Status::Ok();
}

Status run_sequence_empty(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(DType d, sequence_empty_dtype(ctx.node()));
  ctx.set_output(0, RtValue::make_sequence({}, d));
  return Status::Ok();
}

// ---- SequenceConstruct ----

Status infer_sequence_construct(InferContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.fail("needs at least one input");
  ir::ValueType elem;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
    const ir::ValueType& t = ctx.input_type(i);
    if (t.kind != Kind::kTensor) return ctx.fail("input " + std::to_string(i) + " must be a tensor");
    if (i == 0) {
      elem = t;
      continue;
    }
    if (t.dtype != elem.dtype) {
      return ctx.fail(std::string("inputs must share one type: input 0 is ") + dtype_name(elem.dtype) +
                      ", input " + std::to_string(i) + " is " + dtype_name(t.dtype));
    }
    elem = merge_tensor_types(elem, t);
  }
  ctx.set_output(0, sequence_type(elem));
  return Status::Ok();
}

Status run_sequence_construct(RunContext& ctx) {
  std::vector<Tensor> items;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    INGOT_RETURN_IF_ERROR(require_tensor(ctx, i));
    if (i > 0 && ctx.input(i).dtype() != ctx.input(0).dtype()) {
      return ctx.fail(std::string("inputs must share one type: input 0 is ") +
                      dtype_name(ctx.input(0).dtype()) + ", input " + std::to_string(i) + " is " +
                      dtype_name(ctx.input(i).dtype()));
    }
    items.push_back(ctx.input(i));
  }
  if (items.empty()) return ctx.fail("needs at least one input");
  const DType d = items[0].dtype();
  ctx.set_output(0, RtValue::make_sequence(std::move(items), d));
  return Status::Ok();
}

// ---- SequenceAt ----

Status infer_sequence_at(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_sequence_input(ctx, 0));
  if (!ctx.has_input(1)) return ctx.fail("position input is missing");
  INGOT_RETURN_IF_ERROR(check_position_type(ctx, 1));
  ctx.set_output(0, elem_type_of(ctx, 0));
  return Status::Ok();
}

Status run_sequence_at(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_sequence(ctx, 0));
  const auto& seq = ctx.input_value(0).sequence;
  INGOT_ASSIGN_OR_RETURN(int64_t pos, read_position(ctx, 1, static_cast<int64_t>(seq.size()), 0));
  ctx.set_output(0, RtValue(seq[static_cast<size_t>(pos)]));
  return Status::Ok();
}

// ---- SequenceInsert ----

Status infer_sequence_insert(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_sequence_input(ctx, 0));
  if (!ctx.has_input(1) || ctx.input_type(1).kind != Kind::kTensor)
    return ctx.fail("input 1 must be a tensor");
  INGOT_RETURN_IF_ERROR(check_position_type(ctx, 2));
  const ir::ValueType elem = elem_type_of(ctx, 0);
  const ir::ValueType& t = ctx.input_type(1);
  if (elem.kind == Kind::kTensor && elem.dtype != DType::kUndefined && elem.dtype != t.dtype) {
    return ctx.fail(std::string("cannot insert a ") + dtype_name(t.dtype) + " tensor into a sequence of " +
                    dtype_name(elem.dtype));
  }
  // An empty sequence's element shape says nothing, so the inserted tensor's shape is not kept.
  ctx.set_output(0, sequence_type(elem.kind == Kind::kTensor ? merge_tensor_types(elem, t)
                                                             : ir::ValueType::tensor(t.dtype)));
  return Status::Ok();
}

Status run_sequence_insert(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_sequence(ctx, 0));
  INGOT_RETURN_IF_ERROR(require_tensor(ctx, 1));
  const RtValue& in = ctx.input_value(0);
  const Tensor& t = ctx.input(1);
  const DType elem = value_elem_dtype(in);
  if (elem != DType::kUndefined && elem != t.dtype()) {
    return ctx.fail(std::string("cannot insert a ") + dtype_name(t.dtype()) + " tensor into a sequence of " +
                    dtype_name(elem));
  }
  std::vector<Tensor> items = in.sequence;
  int64_t pos = static_cast<int64_t>(items.size());
  if (ctx.has_input(2)) {
    INGOT_ASSIGN_OR_RETURN(pos, read_position(ctx, 2, static_cast<int64_t>(items.size()), 1));
  }
  items.insert(items.begin() + pos, t);
  ctx.set_output(0, RtValue::make_sequence(std::move(items), t.dtype()));
  return Status::Ok();
}

// ---- SequenceErase ----

Status infer_sequence_erase(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_sequence_input(ctx, 0));
  INGOT_RETURN_IF_ERROR(check_position_type(ctx, 1));
  ctx.set_output(0, ctx.input_type(0));
  return Status::Ok();
}

Status run_sequence_erase(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_sequence(ctx, 0));
  const RtValue& in = ctx.input_value(0);
  std::vector<Tensor> items = in.sequence;
  if (items.empty()) return ctx.fail("cannot erase from an empty sequence");
  int64_t pos = static_cast<int64_t>(items.size()) - 1;
  if (ctx.has_input(1)) {
    INGOT_ASSIGN_OR_RETURN(pos, read_position(ctx, 1, static_cast<int64_t>(items.size()), 0));
  }
  items.erase(items.begin() + pos);
  ctx.set_output(0, RtValue::make_sequence(std::move(items), value_elem_dtype(in)));
  return Status::Ok();
}

// ---- SequenceLength ----

Status infer_sequence_length(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_sequence_input(ctx, 0));
  ctx.set_output(0, DType::kI64, {});
  return Status::Ok();
}

Status run_sequence_length(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_sequence(ctx, 0));
  ctx.set_output(0, RtValue(Tensor::scalar_i64(static_cast<int64_t>(ctx.input_value(0).sequence.size()))));
  return Status::Ok();
}

// ---- SplitToSequence ----

Status infer_split_to_sequence(InferContext& ctx) {
  if (!ctx.has_input(0) || ctx.input_type(0).kind != Kind::kTensor)
    return ctx.fail("input 0 must be a tensor");
  const bool has_split = ctx.has_input(1);
  if (has_split) {
    const ir::ValueType& s = ctx.input_type(1);
    if (s.kind == Kind::kTensor && s.dtype != DType::kI32 && s.dtype != DType::kI64) {
      return ctx.fail(std::string("split must be int32 or int64, got ") + dtype_name(s.dtype));
    }
    if (s.kind == Kind::kTensor && s.has_shape && s.shape.size() > 1)
      return ctx.fail("split must be a scalar or 1-D");
  }
  const DType dtype = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output(0, sequence_of(dtype));
    return Status::Ok();
  }
  ir::SymShape shape = ctx.input_shape(0);
  if (shape.empty()) return ctx.fail("input must have rank >= 1");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0),
                                                      static_cast<int64_t>(shape.size()), ctx.node()));
  const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
  if (!has_split && !keepdims) {
    shape.erase(shape.begin() + axis);
  } else {
    shape[axis] = has_split ? ir::Dim() : ir::Dim(1);
  }
  ctx.set_output(0, sequence_type(ir::ValueType::tensor(dtype, shape)));
  return Status::Ok();
}

Status run_split_to_sequence(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_tensor(ctx, 0));
  const Tensor& x = ctx.input(0);
  if (x.rank() == 0) return ctx.fail("input must have rank >= 1");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
  const int64_t dim = x.dims()[axis];
  std::vector<int64_t> sizes;
  bool keep_axis = true;
  if (ctx.has_input(1)) {
    INGOT_RETURN_IF_ERROR(require_tensor(ctx, 1));
    const Tensor& s = ctx.input(1);
    if (s.dtype() != DType::kI32 && s.dtype() != DType::kI64) {
      return ctx.fail(std::string("split must be int32 or int64, got ") + dtype_name(s.dtype()));
    }
    if (s.rank() == 0) {
      const int64_t len = s.get_i64(0);
      if (len <= 0) return ctx.fail("split must be positive, got " + std::to_string(len));
      for (int64_t pos = 0; pos < dim; pos += len) sizes.push_back(std::min(len, dim - pos));
    } else if (s.rank() == 1) {
      sizes = s.to_i64_vector();
      int64_t total = 0;
      for (int64_t v : sizes) {
        if (v < 0) return ctx.fail("split sizes must be >= 0, got " + std::to_string(v));
        total += v;
        if (total > dim) break;
      }
      if (total != dim) {
        return ctx.fail("split sizes do not add up to the axis' size " + std::to_string(dim));
      }
    } else {
      return ctx.fail("split must be a scalar or 1-D, got shape " + dims_to_string(s.dims()));
    }
  } else {
    sizes.assign(static_cast<size_t>(dim), 1);
    keep_axis = ctx.node().attr_int("keepdims", 1) != 0;
  }
  std::vector<Tensor> items;
  items.reserve(sizes.size());
  int64_t pos = 0;
  for (int64_t len : sizes) {
    INGOT_ASSIGN_OR_RETURN(Tensor piece, slice_along(x, axis, pos, len, keep_axis));
    items.push_back(std::move(piece));
    pos += len;
  }
  ctx.set_output(0, RtValue::make_sequence(std::move(items), x.dtype()));
  return Status::Ok();
}

// ---- ConcatFromSequence ----

Status infer_concat_from_sequence(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_sequence_input(ctx, 0));
  if (!ctx.node().has_attr("axis")) return ctx.fail("attribute 'axis' is required");
  const ir::ValueType elem = elem_type_of(ctx, 0);
  if (elem.kind != Kind::kTensor || elem.dtype == DType::kUndefined) return Status::Ok();
  const bool new_axis = ctx.node().attr_int("new_axis", 0) != 0;
  if (!elem.has_shape) {
    ctx.set_output_rank_unknown(0, elem.dtype);
    return Status::Ok();
  }
  const int64_t rank = static_cast<int64_t>(elem.shape.size()) + (new_axis ? 1 : 0);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), rank, ctx.node()));
  ir::SymShape shape = elem.shape;
  if (new_axis) {
    shape.insert(shape.begin() + axis, ir::Dim());
  } else {
    shape[axis] = ir::Dim();
  }
  ctx.set_output(0, elem.dtype, shape);
  return Status::Ok();
}

Status run_concat_from_sequence(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_sequence(ctx, 0));
  const auto& seq = ctx.input_value(0).sequence;
  if (!ctx.node().has_attr("axis")) return ctx.fail("attribute 'axis' is required");
  if (seq.empty()) return ctx.fail("cannot concatenate an empty sequence");
  const bool new_axis = ctx.node().attr_int("new_axis", 0) != 0;
  const int64_t rank = seq[0].rank() + (new_axis ? 1 : 0);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), rank, ctx.node()));
  std::vector<const Tensor*> items;
  for (const Tensor& t : seq) items.push_back(&t);
  auto out = join_tensors(items, axis, new_axis, ctx.node().describe());
  if (!out.ok()) return out.status();
  ctx.set_output(0, RtValue(std::move(*out)));
  return Status::Ok();
}

// ---- SequenceMap ----

Status infer_sequence_map(InferContext& ctx) {
  const ir::Graph* body = ctx.node().attr_graph("body");
  if (!body) return ctx.fail("attribute 'body' is required");
  INGOT_RETURN_IF_ERROR(check_sequence_input(ctx, 0));
  if (body->inputs.size() != ctx.num_inputs()) {
    return ctx.fail("body takes " + std::to_string(body->inputs.size()) + " inputs, the node has " +
                    std::to_string(ctx.num_inputs()));
  }
  if (body->outputs.size() != ctx.num_outputs()) {
    return ctx.fail("body has " + std::to_string(body->outputs.size()) + " outputs, the node has " +
                    std::to_string(ctx.num_outputs()));
  }
  for (size_t i = 0; i < ctx.num_outputs(); ++i) {
    const ir::ValueType& t = body->outputs[i]->type;
    if (t.kind == Kind::kTensor) {
      ctx.set_output(i, sequence_type(t));
    } else if (t.kind != Kind::kUnknown) {
      return ctx.fail("body output " + std::to_string(i) + " must be a tensor");
    }
  }
  return Status::Ok();
}

Status run_sequence_map(RunContext& ctx) {
  const ir::Graph* body = ctx.node().attr_graph("body");
  if (!body) return ctx.fail("attribute 'body' is required");
  INGOT_RETURN_IF_ERROR(require_sequence(ctx, 0));
  const size_t n = ctx.input_value(0).sequence.size();
  if (body->inputs.size() != ctx.num_inputs()) {
    return ctx.fail("body takes " + std::to_string(body->inputs.size()) + " inputs, the node has " +
                    std::to_string(ctx.num_inputs()));
  }
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
    const RtValue& v = ctx.input_value(i);
    if (v.is_none()) return ctx.fail("input " + std::to_string(i) + " is an empty optional");
    if (v.is_sequence() && v.sequence.size() != n) {
      return ctx.fail("input sequence " + std::to_string(i) + " has " + std::to_string(v.sequence.size()) +
                      " elements, input 0 has " + std::to_string(n));
    }
  }
  std::vector<std::vector<Tensor>> results(ctx.num_outputs());
  std::vector<RtValue> feeds(ctx.num_inputs());
  for (size_t k = 0; k < n; ++k) {
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const RtValue& v = ctx.input_value(i);
      feeds[i] = v.is_sequence() ? RtValue(v.sequence[k]) : v;
    }
    INGOT_ASSIGN_OR_RETURN(std::vector<RtValue> outs, ctx.run_subgraph(*body, feeds));
    if (outs.size() != results.size()) {
      return ctx.fail("body returned " + std::to_string(outs.size()) + " outputs, the node has " +
                      std::to_string(results.size()));
    }
    for (size_t j = 0; j < outs.size(); ++j) {
      if (!outs[j].is_tensor()) return ctx.fail("body output " + std::to_string(j) + " must be a tensor");
      results[j].push_back(std::move(outs[j].tensor));
    }
  }
  for (size_t j = 0; j < results.size(); ++j) {
    const ir::ValueType& t = body->outputs[j]->type;
    DType elem = !results[j].empty()       ? results[j][0].dtype()
                 : t.kind == Kind::kTensor ? t.dtype
                                           : DType::kUndefined;
    ctx.set_output(j, RtValue::make_sequence(std::move(results[j]), elem));
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(SequenceEmpty, .infer = infer_sequence_empty, .run = run_sequence_empty);
INGOT_REGISTER_OP(SequenceConstruct, .infer = infer_sequence_construct, .run = run_sequence_construct);
INGOT_REGISTER_OP(SequenceAt, .infer = infer_sequence_at, .run = run_sequence_at);
INGOT_REGISTER_OP(SequenceInsert, .infer = infer_sequence_insert, .run = run_sequence_insert);
INGOT_REGISTER_OP(SequenceErase, .infer = infer_sequence_erase, .run = run_sequence_erase);
INGOT_REGISTER_OP(SequenceLength, .infer = infer_sequence_length, .run = run_sequence_length);
INGOT_REGISTER_OP(SplitToSequence, .infer = infer_split_to_sequence, .run = run_split_to_sequence);
INGOT_REGISTER_OP(ConcatFromSequence, .infer = infer_concat_from_sequence, .run = run_concat_from_sequence);
INGOT_REGISTER_OP(SequenceMap, .infer = infer_sequence_map, .run = run_sequence_map);

}  // namespace ingot::ops
