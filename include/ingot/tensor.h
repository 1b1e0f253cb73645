// A dense, row-major tensor: dtype, concrete shape and reference-counted 64-byte-aligned storage.
// Copies share storage (like a view); clone() copies the data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ingot/dtype.h"
#include "ingot/status.h"

namespace ingot {

using Dims = std::vector<int64_t>;

// Product of dims; an error when a dim is negative or the product overflows int64.
Expected<int64_t> checked_numel(const Dims& dims);
std::string dims_to_string(const Dims& dims);  // "1x3x224x224"; "scalar" for rank 0

class Tensor {
 public:
  Tensor() = default;

  // Zero-initialised storage; fails on bad dims or when the size is over the tensor byte cap.
  static Expected<Tensor> create(DType dtype, Dims dims);
  // Shares memory the caller keeps alive through `owner`.
  static Tensor wrap(DType dtype, Dims dims, std::shared_ptr<void> owner, void* data);
  template <typename T>
  static Tensor from_vector(Dims dims, const std::vector<T>& values);
  static Tensor scalar_i64(int64_t v);
  static Tensor scalar_f32(float v);

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Dims& dims() const { return dims_; }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t dim(int64_t i) const { return dims_[i < 0 ? i + rank() : i]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }
  // kString tensors keep their elements here.
  std::string* strings() { return static_cast<std::string*>(data_); }
  const std::string* strings() const { return static_cast<const std::string*>(data_); }

  Tensor clone() const;
  // Same storage, new dims with the same element count.
  Expected<Tensor> reshaped(Dims dims) const;

  // Element i converted to double / int64, for shape logic and tests (any numeric dtype).
  double get_f64(int64_t i) const;
  int64_t get_i64(int64_t i) const;
  // All elements as int64 (for shape tensors: Reshape's shape, Slice's starts ...).
  std::vector<int64_t> to_i64_vector() const;

 private:
  DType dtype_ = DType::kUndefined;
  Dims dims_;
  int64_t numel_ = 0;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

// Largest tensor ingot allocates (bytes); a guard against dims read from hostile files.
void set_max_tensor_bytes(int64_t bytes);
int64_t max_tensor_bytes();
// The check Tensor::create makes before it allocates: bad dims, or a size over the cap (kOutOfRange).
Status check_tensor_bytes(DType dtype, const Dims& dims);

template <typename T>
Tensor Tensor::from_vector(Dims dims, const std::vector<T>& values) {
  auto t = create(DTypeOf<T>::value, std::move(dims));
  Tensor out = std::move(t).value();
  T* p = out.data<T>();
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < out.numel(); ++i) p[i] = values[i];
  return out;
}
template <>
Tensor Tensor::from_vector<bool>(Dims dims, const std::vector<bool>& values);

}  // namespace ingot
