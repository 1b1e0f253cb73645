#include "ops/sequence_util.h"

#include <memory>

#include "kernels/reference/sequence.h"
#include "ops/movement_util.h"

namespace ingot::ops {

int64_t dims_product(const Dims& dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < dims.size(); ++i) p *= dims[i];
  return p;
}

namespace {

// Byte-wise slab copy with the element type picked by size (strings as std::string).
void copy_slabs_any(const Tensor& src, int64_t outer, int64_t src_len, int64_t src_start, Tensor& dst,
                    int64_t dst_len, int64_t dst_start, int64_t count, int64_t inner) {
  dispatch_by_size(src.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::copy_slabs(src.data<T>(), outer, src_len, src_start, dst.data<T>(), dst_len, dst_start, count,
                    inner);
  });
}

}  // namespace

Expected<Tensor> join_tensors(const std::vector<const Tensor*>& items, int64_t axis, bool new_axis,
                              const std::string& what) {
  if (items.empty()) return invalid_argument(what + ": nothing to join");
  const Tensor& first = *items[0];
  const size_t rank = first.dims().size();
  if (axis < 0 || static_cast<size_t>(axis) > rank || (!new_axis && static_cast<size_t>(axis) >= rank)) {
    return invalid_argument(what + ": axis " + std::to_string(axis) + " is out of range for rank " +
                            std::to_string(rank));
  }
  Dims out_dims = first.dims();
  if (new_axis) {
    out_dims.insert(out_dims.begin() + axis, static_cast<int64_t>(items.size()));
  } else {
    out_dims[axis] = 0;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const Tensor& t = *items[i];
    if (t.dtype() != first.dtype()) {
      return invalid_argument(what + ": element " + std::to_string(i) + " is " + dtype_name(t.dtype()) +
                              ", element 0 is " + dtype_name(first.dtype()));
    }
    bool same = t.dims().size() == rank;
    for (size_t d = 0; same && d < rank; ++d)
      if ((new_axis || d != static_cast<size_t>(axis)) && t.dims()[d] != first.dims()[d]) same = false;
    if (!same) {
      return invalid_argument(what + ": element " + std::to_string(i) + " has shape " +
                              dims_to_string(t.dims()) + ", which does not match element 0's " +
                              dims_to_string(first.dims()));
    }
    if (!new_axis) out_dims[axis] += t.dims()[axis];
  }
  INGOT_ASSIGN_OR_RETURN(Tensor out, Tensor::create(first.dtype(), out_dims));
  const int64_t outer = dims_product(out_dims, 0, static_cast<size_t>(axis));
  const int64_t inner = dims_product(out_dims, static_cast<size_t>(axis) + 1, out_dims.size());
  const int64_t out_len = out_dims[axis];
  int64_t pos = 0;
  for (const Tensor* t : items) {
    const int64_t len = new_axis ? 1 : t->dims()[axis];
    copy_slabs_any(*t, outer, len, 0, out, out_len, pos, len, inner);
    pos += len;
  }
  return out;
}

Expected<Tensor> slice_along(const Tensor& t, int64_t axis, int64_t start, int64_t count, bool keep_axis) {
  const Dims& in = t.dims();
  if (axis < 0 || static_cast<size_t>(axis) >= in.size() || start < 0 || count < 0 ||
      start > in[axis] - count) {
    return internal_error("slice_along: range out of bounds");
  }
  Dims out_dims = in;
  if (keep_axis) {
    out_dims[axis] = count;
  } else {
    out_dims.erase(out_dims.begin() + axis);
  }
  INGOT_ASSIGN_OR_RETURN(Tensor out, Tensor::create(t.dtype(), out_dims));
  const int64_t outer = dims_product(in, 0, static_cast<size_t>(axis));
  const int64_t inner = dims_product(in, static_cast<size_t>(axis) + 1, in.size());
  copy_slabs_any(t, outer, in[axis], start, out, count, 0, count, inner);
  return out;
}

DType value_elem_dtype(const RtValue& v) {
  if (v.is_tensor()) return v.tensor.dtype();
  if (v.is_sequence() && !v.sequence.empty()) return v.sequence[0].dtype();
  return v.elem_dtype;
}

std::string value_kind_name(const RtValue& v) {
  if (v.is_tensor()) return "a tensor";
  if (v.is_sequence()) return "a sequence";
  return "an empty optional";
}

ir::ValueType sequence_type(ir::ValueType elem) {
  ir::ValueType t;
  t.kind = ir::ValueType::Kind::kSequence;
  t.elem = std::make_shared<ir::ValueType>(std::move(elem));
  return t;
}

ir::ValueType sequence_of(DType dtype) { return sequence_type(ir::ValueType::tensor(dtype)); }

}  // namespace ingot::ops
