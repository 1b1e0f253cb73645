// Col2Im (opset 18): the inverse of im2col; overlapping window contributions are summed.
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/col2im.h"
#include "ops/conv_pool_common.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// Reads and checks the attributes and, from the concrete sizes, the window counts per dim.
Expected<ref::Col2ImShape> col2im_shape(const ir::Node& node, const Dims& x,
                                        const std::vector<int64_t>& image,
                                        const std::vector<int64_t>& block) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  const size_t r = image.size();
  if (r == 0 || block.size() != r)
    return fail("image_shape and block_shape must have the same, non-zero length");
  if (x.size() != 3) return fail("input must be [N, C * prod(block_shape), L], got " + dims_to_string(x));
  ref::Col2ImShape s;
  s.image = image;
  s.block = block;
  auto ints = [&](const char* name, size_t n, int64_t dflt, int64_t min) -> Expected<std::vector<int64_t>> {
    std::vector<int64_t> v = node.attr_ints(name, std::vector<int64_t>(n, dflt));
    if (v.size() != n) return fail(std::string(name) + " should have " + std::to_string(n) + " values");
    for (int64_t e : v) {
      if (e < min) return fail(std::string(name) + " values must be >= " + std::to_string(min));
    }
    return v;
  };
  INGOT_ASSIGN_OR_RETURN(s.strides, ints("strides", r, 1, 1));
  INGOT_ASSIGN_OR_RETURN(s.dilations, ints("dilations", r, 1, 1));
  INGOT_ASSIGN_OR_RETURN(std::vector<int64_t> pads, ints("pads", 2 * r, 0, 0));
  s.pads_begin.assign(pads.begin(), pads.begin() + r);
  int64_t kernel = 1, count = 1;
  for (size_t d = 0; d < r; ++d) {
    if (image[d] < 0 || block[d] < 1)
      return fail("image_shape must be non-negative and block_shape positive");
    const int64_t span = image[d] + pads[d] + pads[r + d] - s.dilations[d] * (block[d] - 1) - 1;
    if (span < 0) return fail("block_shape does not fit the padded image in dim " + std::to_string(d));
    s.blocks.push_back(span / s.strides[d] + 1);
    kernel *= block[d];
    count *= s.blocks.back();
  }
  if (x[1] % kernel != 0) {
    return fail("input dim 1 (" + std::to_string(x[1]) +
                ") is not a multiple of prod(block_shape) = " + std::to_string(kernel));
  }
  if (x[2] != count) {
    return fail("input dim 2 (" + std::to_string(x[2]) + ") should be the number of blocks, " +
                std::to_string(count));
  }
  s.batch = x[0];
  s.channels = x[1] / kernel;
  return s;
}

Status infer_col2im(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return ctx.fail("expects inputs input, image_shape and block_shape");
  }
  const DType dt = ctx.input_dtype(0);
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  const auto image = const_ints(ctx, 1), block = const_ints(ctx, 2);
  if (!image) {
    if (ctx.input_has_shape(1) && ctx.input_shape(1).size() == 1 && ctx.input_shape(1)[0].is_static()) {
      ctx.set_output(0, dt, ir::SymShape(static_cast<size_t>(2 + ctx.input_shape(1)[0].value)));
    } else {
      ctx.set_output_rank_unknown(0, dt);
    }
    return Status::Ok();
  }
  ir::SymShape out(2 + image->size());
  for (size_t d = 0; d < image->size(); ++d) out[2 + d] = (*image)[d];
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() == 3) {
    const auto& x = ctx.input_shape(0);
    out[0] = x[0];
    if (block && is_static(x)) {
      INGOT_ASSIGN_OR_RETURN(ref::Col2ImShape s, col2im_shape(ctx.node(), ir::to_dims(x), *image, *block));
      out[1] = s.channels;
    }
  } else if (ctx.input_has_shape(0)) {
    return ctx.fail("input must be 3-D, got " + ir::shape_to_string(ctx.input_shape(0)));
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_col2im(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!is_float_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  if (!dtype_is_integer(ctx.input(1).dtype()) || !dtype_is_integer(ctx.input(2).dtype())) {
    return ctx.fail("image_shape and block_shape must be integer tensors");
  }
  INGOT_ASSIGN_OR_RETURN(ref::Col2ImShape s, col2im_shape(ctx.node(), x.dims(), ctx.input(1).to_i64_vector(),
                                                          ctx.input(2).to_i64_vector()));
  Dims out = {s.batch, s.channels};
  out.insert(out.end(), s.image.begin(), s.image.end());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out));
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, ComputeType<T>>) {
      ref::col2im(x.data<T>(), y->data<T>(), s);
    } else {
      const auto xf = widen<T>(x);
      std::vector<float> yf(static_cast<size_t>(y->numel()));
      ref::col2im(xf.data(), yf.data(), s);
      narrow(yf, y->data<T>());
    }
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Col2Im, .infer = infer_col2im, .run = run_col2im);

}  // namespace ingot::ops
