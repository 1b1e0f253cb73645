// Data movement as row copies split over the pool, for any element type but strings:
//   cpu.ingot.transpose  Transpose that keeps the last axis in place (the head split and merge of attention,
//                        [B, S, H, D] <-> [B, H, S, D]): each output row of D elements is one memcpy
//   cpu.ingot.split      Split with static shapes: each outer index copies its slice into every output
// The reference kernels do the same work on one thread, element by element.
#include <cstring>

#include "backends/cpu/onednn_common.h"
#include "core/threading.h"
#include "ops/movement_util.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

// Rows per task below which splitting is not worth waking a thread: about 64 KiB of copying.
int64_t rows_grain(int64_t row_bytes) {
  return std::max<int64_t>(1, (64 << 10) / std::max<int64_t>(row_bytes, 1));
}

std::string copyable(const PlanTensor* t, const char* what) {
  if (!t) return std::string(what) + " is missing";
  if (t->dtype == DType::kString || t->dtype == DType::kUndefined)
    return std::string(what) + " is not numeric";
  if (!t->rank_known) return std::string(what) + " has an unknown rank";
  return "";
}

// ---- Transpose

std::string transpose_supports(const LayerDesc& d) {
  if (!d.layer.domain.empty() || d.layer.op_type != "Transpose") return "not a Transpose";
  std::string why = copyable(d.input(0), "X");
  if (!why.empty()) return why;
  const auto rank = static_cast<int64_t>(d.input(0)->dims.size());
  if (rank < 2) return "rank below 2";
  const LayerNode ln(d.layer, d.tensors);
  auto perm = ops::transpose_perm(ln.node, rank);
  if (!perm.ok()) return perm.status().message();
  if ((*perm)[rank - 1] != rank - 1) return "the last axis moves";
  return "";
}

class TransposeKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t r = x.rank();
    INGOT_ASSIGN_OR_RETURN(std::vector<int64_t> perm, ops::transpose_perm(ctx.node(), r));
    if (r < 2 || perm[r - 1] != r - 1) return ctx.fail("the last axis moves");
    Dims yd(r);
    for (int64_t i = 0; i < r; ++i) yd[i] = x.dim(perm[i]);
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), yd));
    if (y->numel() == 0) return Status::Ok();
    // Input strides in elements; output rows enumerate yd[0 .. r-2] in order.
    std::vector<int64_t> xs(r, 1);
    for (int64_t i = r - 2; i >= 0; --i) xs[i] = xs[i + 1] * x.dim(i + 1);
    const auto esize = static_cast<int64_t>(dtype_size(x.dtype()));
    const int64_t row = yd[r - 1], rows = y->numel() / row, row_bytes = row * esize;
    const auto* src = static_cast<const uint8_t*>(x.raw());
    auto* dst = static_cast<uint8_t*>(y->raw());
    parallel_for(rows, rows_grain(row_bytes), [&](int64_t b, int64_t e) {
      // The output index of row b, then incremented odometer-style.
      std::vector<int64_t> idx(r - 1);
      int64_t rest = b, off = 0;
      for (int64_t i = r - 2; i >= 0; --i) {
        idx[i] = rest % yd[i];
        rest /= yd[i];
        off += idx[i] * xs[perm[i]];
      }
      for (int64_t q = b; q < e; ++q) {
        std::memcpy(dst + q * row_bytes, src + off * esize, static_cast<size_t>(row_bytes));
        for (int64_t i = r - 2; i >= 0; --i) {
          off += xs[perm[i]];
          if (++idx[i] < yd[i]) break;
          off -= idx[i] * xs[perm[i]];
          idx[i] = 0;
        }
      }
    });
    return Status::Ok();
  }
};

// ---- Split

std::string split_supports(const LayerDesc& d) {
  if (!d.layer.domain.empty() || d.layer.op_type != "Split") return "not a Split";
  std::string why = copyable(d.input(0), "X");
  if (!why.empty()) return why;
  if (!dims_static(d.input(0)->dims)) return "X's shape is not static";
  if (d.input(0)->dims.empty()) return "a scalar";
  for (size_t k = 0; k < d.layer.outputs.size(); ++k) {
    const PlanTensor* o = d.output(k);
    if (!o || !dims_static(o->dims) || o->dims.size() != d.input(0)->dims.size())
      return "an output's shape is not static";
  }
  return "";
}

class SplitKernel : public Kernel {
 public:
  // Each output's extent along the axis, from the plan's static shapes.
  SplitKernel(int64_t axis, std::vector<int64_t> sizes) : axis_(axis), sizes_(std::move(sizes)) {}
  bool overwrites_outputs() const override { return true; }
  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    int64_t total = 0;
    for (int64_t s : sizes_) total += s;
    if (axis_ >= x.rank() || x.dim(axis_) != total)
      return ctx.fail("X " + dims_to_string(x.dims()) + " differs from the shape it was built for");
    const auto esize = static_cast<int64_t>(dtype_size(x.dtype()));
    int64_t outer = 1, inner = esize;
    for (int64_t i = 0; i < axis_; ++i) outer *= x.dim(i);
    for (int64_t i = axis_ + 1; i < x.rank(); ++i) inner *= x.dim(i);
    std::vector<uint8_t*> outs;
    for (size_t k = 0; k < sizes_.size(); ++k) {
      Dims yd = x.dims();
      yd[axis_] = sizes_[k];
      INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(k, x.dtype(), yd));
      outs.push_back(static_cast<uint8_t*>(y->raw()));
    }
    const auto* src = static_cast<const uint8_t*>(x.raw());
    const int64_t in_row = total * inner;
    parallel_for(outer, rows_grain(in_row), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t at = 0;
        for (size_t k = 0; k < sizes_.size(); ++k) {
          const int64_t n = sizes_[k] * inner;
          if (n > 0) std::memcpy(outs[k] + o * n, src + o * in_row + at, static_cast<size_t>(n));
          at += n;
        }
      }
    });
    return Status::Ok();
  }

 private:
  int64_t axis_;
  std::vector<int64_t> sizes_;
};

Expected<std::unique_ptr<Kernel>> transpose_prepare(const LayerDesc& d) {
  const std::string why = transpose_supports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  return std::unique_ptr<Kernel>(std::make_unique<TransposeKernel>());
}

Expected<std::unique_ptr<Kernel>> split_prepare(const LayerDesc& d) {
  const std::string why = split_supports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  const Dims& x = d.input(0)->dims;
  // The axis is the one dim where the outputs differ from X (all of them, when there is one output).
  int64_t axis = -1;
  const auto r = static_cast<int64_t>(x.size());
  const LayerNode ln(d.layer, d.tensors);
  int64_t a = ln.node.attr_int("axis", 0);
  if (a < 0) a += r;
  if (a < 0 || a >= r) return unsupported("layer '" + d.layer.name + "': axis out of range");
  axis = a;
  std::vector<int64_t> sizes;
  int64_t total = 0;
  for (size_t k = 0; k < d.layer.outputs.size(); ++k) {
    const Dims& o = d.output(k)->dims;
    for (int64_t i = 0; i < r; ++i)
      if (i != axis && o[i] != x[i])
        return unsupported("layer '" + d.layer.name + "': outputs do not split X");
    sizes.push_back(o[axis]);
    total += o[axis];
  }
  if (total != x[axis]) return unsupported("layer '" + d.layer.name + "': outputs do not add up to X");
  return std::unique_ptr<Kernel>(std::make_unique<SplitKernel>(axis, std::move(sizes)));
}

}  // namespace

INGOT_REGISTER_TACTIC(cpu_ingot_transpose, .id = "cpu.ingot.transpose", .supports = transpose_supports,
                      .prepare = transpose_prepare);
INGOT_REGISTER_TACTIC(cpu_ingot_split, .id = "cpu.ingot.split", .supports = split_supports,
                      .prepare = split_prepare);

}  // namespace ingot::backends::cpu
