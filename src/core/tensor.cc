#include "ingot/tensor.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>

#include "core/dispatch.h"

namespace ingot {
namespace {

std::atomic<int64_t> g_max_tensor_bytes{int64_t{16} << 30};  // 16 GiB

constexpr size_t kAlignment = 64;

struct StringArray {
  explicit StringArray(size_t n) : items(n) {}
  std::vector<std::string> items;
};

}  // namespace

void set_max_tensor_bytes(int64_t bytes) { g_max_tensor_bytes = bytes; }
int64_t max_tensor_bytes() { return g_max_tensor_bytes; }

Expected<int64_t> checked_numel(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return invalid_argument("negative dimension " + std::to_string(d) + " in shape " +
                              dims_to_string(dims));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      return out_of_range("shape " + dims_to_string(dims) + " has more elements than int64 can count");
    }
    n *= d;
  }
  return n;
}

std::string dims_to_string(const Dims& dims) {
  if (dims.empty()) return "scalar";
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

Status check_tensor_bytes(DType dtype, const Dims& dims) {
  if (dtype == DType::kUndefined) return invalid_argument("tensor of undefined element type");
  INGOT_ASSIGN_OR_RETURN(int64_t n, checked_numel(dims));
  const int64_t cap = g_max_tensor_bytes.load();
  if (n > 0 &&
      static_cast<uint64_t>(n) > static_cast<uint64_t>(std::max<int64_t>(cap, 0)) / dtype_size(dtype)) {
    return out_of_range("tensor of shape " + dims_to_string(dims) + " (" + dtype_name(dtype) +
                        ") is larger than the " + std::to_string(cap >> 20) + " MiB tensor cap");
  }
  return Status::Ok();
}

Expected<Tensor> Tensor::create(DType dtype, Dims dims) {
  INGOT_RETURN_IF_ERROR(check_tensor_bytes(dtype, dims));
  const int64_t n = checked_numel(dims).value();
  const size_t elem = dtype_size(dtype);
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.numel_ = n;
  if (dtype == DType::kString) {
    auto arr = std::make_shared<StringArray>(static_cast<size_t>(n));
    t.data_ = arr->items.data();
    t.storage_ = std::move(arr);
    return t;
  }
  size_t bytes = static_cast<size_t>(n) * elem;
  size_t alloc = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (alloc == 0) alloc = kAlignment;
  void* p = std::aligned_alloc(kAlignment, alloc);
  if (!p) return out_of_range("out of memory allocating " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, alloc);
  t.storage_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  t.data_ = p;
  return t;
}

Tensor Tensor::wrap(DType dtype, Dims dims, std::shared_ptr<void> owner, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = checked_numel(dims).ok() ? *checked_numel(dims) : 0;
  t.dims_ = std::move(dims);
  t.storage_ = std::move(owner);
  t.data_ = data;
  return t;
}

template <>
Tensor Tensor::from_vector<bool>(Dims dims, const std::vector<bool>& values) {
  Tensor out = create(DType::kBool, std::move(dims)).value();
  bool* p = out.data<bool>();
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < out.numel(); ++i) p[i] = values[i];
  return out;
}

Tensor Tensor::scalar_i64(int64_t v) { return from_vector<int64_t>({}, {v}); }
Tensor Tensor::scalar_f32(float v) { return from_vector<float>({}, {v}); }

Tensor Tensor::clone() const {
  if (!defined()) return {};
  Tensor out = create(dtype_, dims_).value();
  if (dtype_ == DType::kString) {
    for (int64_t i = 0; i < numel_; ++i) out.strings()[i] = strings()[i];
  } else if (nbytes()) {
    std::memcpy(out.data_, data_, nbytes());
  }
  return out;
}

Expected<Tensor> Tensor::reshaped(Dims dims) const {
  INGOT_ASSIGN_OR_RETURN(int64_t n, checked_numel(dims));
  if (n != numel_) {
    return invalid_argument("cannot reshape " + dims_to_string(dims_) + " to " + dims_to_string(dims));
  }
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

double Tensor::get_f64(int64_t i) const {
  double r = 0;
  dispatch_numeric(dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    r = static_cast<double>(static_cast<const T*>(data_)[i]);
  });
  return r;
}

int64_t Tensor::get_i64(int64_t i) const {
  int64_t r = 0;
  dispatch_numeric(dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    r = static_cast<int64_t>(static_cast<const T*>(data_)[i]);
  });
  return r;
}

std::vector<int64_t> Tensor::to_i64_vector() const {
  std::vector<int64_t> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[i] = get_i64(i);
  return v;
}

}  // namespace ingot
