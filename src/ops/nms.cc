// NonMaxSuppression: greedy per-class box selection by IoU; output [num_selected, 3] int64 triples
// (batch, class, box).
#include <string>

#include "kernels/reference/nms.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_nms(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs 'boxes' and 'scores'");
  if (ctx.input_dtype(0) != DType::kF32 || ctx.input_dtype(1) != DType::kF32) {
    return ctx.fail("'boxes' and 'scores' must be float32");
  }
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() != 3) return ctx.fail("'boxes' must have rank 3");
  if (ctx.input_has_shape(1) && ctx.input_shape(1).size() != 3) return ctx.fail("'scores' must have rank 3");
  ctx.set_output(0, DType::kI64, {ir::Dim(), ir::Dim(3)});
  return Status::Ok();
}

Status run_nms(RunContext& ctx) {
  const Tensor& boxes = ctx.input(0);
  const Tensor& scores = ctx.input(1);
  if (boxes.dtype() != DType::kF32 || scores.dtype() != DType::kF32) {
    return ctx.fail("'boxes' and 'scores' must be float32");
  }
  if (boxes.rank() != 3 || boxes.dim(2) != 4) {
    return ctx.fail("'boxes' must be [batches, boxes, 4], got " + dims_to_string(boxes.dims()));
  }
  if (scores.rank() != 3 || scores.dim(0) != boxes.dim(0) || scores.dim(2) != boxes.dim(1)) {
    return ctx.fail("'scores' must be [batches, classes, boxes] matching 'boxes' " +
                    dims_to_string(boxes.dims()) + ", got " + dims_to_string(scores.dims()));
  }
  ref::NmsParams p;
  p.batches = boxes.dim(0);
  p.boxes = boxes.dim(1);
  p.classes = scores.dim(1);
  const int64_t cpb = ctx.node().attr_int("center_point_box", 0);
  if (cpb != 0 && cpb != 1) return ctx.fail("center_point_box must be 0 or 1");
  p.center_point_box = cpb == 1;
  // Optional scalar inputs; an empty tensor is the same as none.
  auto scalar = [&](size_t i) -> const Tensor* {
    return ctx.has_input(i) && ctx.input(i).numel() > 0 ? &ctx.input(i) : nullptr;
  };
  if (const Tensor* t = scalar(2)) p.max_output_per_class = std::max<int64_t>(t->get_i64(0), 0);
  if (const Tensor* t = scalar(3)) p.iou_threshold = static_cast<float>(t->get_f64(0));
  if (const Tensor* t = scalar(4)) {
    p.has_score_threshold = true;
    p.score_threshold = static_cast<float>(t->get_f64(0));
  }
  const auto sel = ref::non_max_suppression(boxes.data<float>(), scores.data<float>(), p);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kI64, {static_cast<int64_t>(sel.size()), 3}));
  int64_t* d = y->data<int64_t>();
  for (const auto& s : sel)
    for (int64_t v : s) *d++ = v;
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(NonMaxSuppression, .infer = infer_nms, .run = run_nms);

}  // namespace ingot::ops
