#include "onnx/tensor_proto.h"

#include <filesystem>
#include <fstream>

namespace ingot::onnx_import {
namespace fs = std::filesystem;
namespace {

bool is_packed_4bit(DType t) { return t == DType::kU4 || t == DType::kI4 || t == DType::kF4E2M1; }

// Number of stored bytes for n elements.
int64_t stored_bytes(DType t, int64_t n) {
  return is_packed_4bit(t) ? (n + 1) / 2 : n * static_cast<int64_t>(dtype_size(t));
}

// Copies stored (packed) bytes into the tensor, unpacking 4-bit types to one element per byte.
void unpack_into(Tensor& out, const uint8_t* src) {
  const int64_t n = out.numel();
  if (out.dtype() == DType::kBool) {  // any non-zero byte is true; a bool object must hold 0 or 1
    for (int64_t i = 0; i < n; ++i) out.data<bool>()[i] = src[i] != 0;
    return;
  }
  if (!is_packed_4bit(out.dtype())) {
    std::memcpy(out.raw(), src, out.nbytes());
    return;
  }
  auto* dst = out.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    uint8_t nib = (src[i / 2] >> ((i % 2) * 4)) & 0xF;
    if (out.dtype() == DType::kI4 && (nib & 0x8)) nib |= 0xF0;  // sign-extend
    dst[i] = nib;
  }
}

Expected<std::string> read_external(const onnx::TensorProto& tp, const std::string& base_dir,
                                    const std::string& label, int64_t expected) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : tp.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::strtoll(kv.value().c_str(), nullptr, 10);
    else if (kv.key() == "length")
      length = std::strtoll(kv.value().c_str(), nullptr, 10);
  }
  const std::string what = label + ": tensor '" + tp.name() + "'";
  if (base_dir.empty()) return invalid_argument(what + " uses external data, which is not allowed here");
  if (location.empty()) return invalid_argument(what + ": external data has no location");
  fs::path rel(location);
  if (rel.is_absolute())
    return invalid_argument(what + ": external data path '" + location +
                            "' is absolute; only paths inside the model's folder are allowed");
  for (const auto& part : rel)
    if (part == "..")
      return invalid_argument(what + ": external data path '" + location + "' leaves the model's folder");
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::path(base_dir), ec);
  fs::path full = fs::weakly_canonical(fs::path(base_dir) / rel, ec);
  if (ec || !fs::exists(full)) return not_found(what + ": external data file '" + location + "' not found");
  auto d = dir.native(), f = full.native();
  if (f.size() <= d.size() || f.compare(0, d.size(), d) != 0 || f[d.size()] != '/') {
    return invalid_argument(what + ": external data path '" + location +
                            "' resolves outside the model's folder");
  }
  if (!fs::is_regular_file(full))
    return invalid_argument(what + ": external data '" + location + "' is not a regular file");
  const auto size = static_cast<int64_t>(fs::file_size(full, ec));
  if (length < 0) length = expected;
  if (offset < 0 || length != expected || offset > size || length > size - offset) {
    return invalid_argument(what + ": external data '" + location + "' holds " + std::to_string(size) +
                            " bytes, but offset " + std::to_string(offset) + " + length " +
                            std::to_string(length) + " (needed " + std::to_string(expected) +
                            ") does not fit");
  }
  std::ifstream in(full, std::ios::binary);
  std::string buf(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(buf.data(), length);
  if (!in) return invalid_argument(what + ": cannot read external data '" + location + "'");
  return buf;
}

template <typename Src, typename Dst>
void convert_field(const Src& field, Dst* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<Dst>(field.Get(static_cast<int>(i)));
}

}  // namespace

Expected<Tensor> tensor_from_proto(const onnx::TensorProto& tp, const std::string& base_dir,
                                   const std::string& label) {
  const std::string what = label + ": tensor '" + tp.name() + "'";
  if (!dtype_is_valid(tp.data_type())) {
    return unsupported(what + " has data type " + std::to_string(tp.data_type()) +
                       ", which ingot does not know");
  }
  const auto dtype = static_cast<DType>(tp.data_type());
  if (dtype == DType::kC64 || dtype == DType::kC128)
    return unsupported(what + " is complex, which ingot does not support");
  Dims dims(tp.dims().begin(), tp.dims().end());
  auto numel = checked_numel(dims);
  if (!numel.ok()) return Status(numel.status().code(), what + ": " + numel.status().message());
  if (tp.has_segment()) return unsupported(what + " is segmented");
  const int64_t n = *numel;
  // Every size is checked before the tensor is allocated: a few bytes of a hostile file must not make
  // ingot allocate gigabytes.
  if (Status st = check_tensor_bytes(dtype, dims); !st.ok())
    return Status(st.code(), what + ": " + st.message());
  const int64_t need = stored_bytes(dtype, n);
  auto short_data = [&](int64_t want, int64_t have, const char* unit) {
    return invalid_argument(what + " of shape " + dims_to_string(dims) + " needs " + std::to_string(want) +
                            " " + unit + " of data but has " + std::to_string(have));
  };
  auto make = [&]() -> Expected<Tensor> {
    auto created = Tensor::create(dtype, dims);
    if (!created.ok()) return Status(created.status().code(), what + ": " + created.status().message());
    return created;
  };

  if (tp.data_location() == onnx::TensorProto::EXTERNAL) {
    if (dtype == DType::kString) return invalid_argument(what + ": external string data is not supported");
    INGOT_ASSIGN_OR_RETURN(std::string buf, read_external(tp, base_dir, label, need));
    INGOT_ASSIGN_OR_RETURN(Tensor t, make());
    unpack_into(t, reinterpret_cast<const uint8_t*>(buf.data()));
    return t;
  }
  if (dtype == DType::kString) {
    if (tp.string_data_size() != n) return short_data(n, tp.string_data_size(), "strings");
    INGOT_ASSIGN_OR_RETURN(Tensor t, make());
    for (int64_t i = 0; i < n; ++i) t.strings()[i] = tp.string_data(static_cast<int>(i));
    return t;
  }
  if (tp.has_raw_data()) {
    if (static_cast<int64_t>(tp.raw_data().size()) != need) {
      return short_data(need, static_cast<int64_t>(tp.raw_data().size()), "bytes");
    }
    INGOT_ASSIGN_OR_RETURN(Tensor t, make());
    unpack_into(t, reinterpret_cast<const uint8_t*>(tp.raw_data().data()));
    return t;
  }
  // The typed field each dtype keeps its values in, and how many it must hold.
  int64_t have = -1, want = n;
  switch (dtype) {
    case DType::kF32:
      have = tp.float_data_size();
      break;
    case DType::kF64:
      have = tp.double_data_size();
      break;
    case DType::kI64:
      have = tp.int64_data_size();
      break;
    case DType::kU32:
    case DType::kU64:
      have = tp.uint64_data_size();
      break;
    case DType::kU4:
    case DType::kI4:
    case DType::kF4E2M1:
      have = tp.int32_data_size();
      want = (n + 1) / 2;
      break;
    case DType::kI32:
    case DType::kI16:
    case DType::kU16:
    case DType::kF16:
    case DType::kBF16:
    case DType::kI8:
    case DType::kU8:
    case DType::kBool:
    case DType::kF8E4M3FN:
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
      have = tp.int32_data_size();
      break;
    default:
      return unsupported(what + ": data type " + dtype_name(dtype) + " is not supported");
  }
  if (have != want) return short_data(want, have, "values");
  INGOT_ASSIGN_OR_RETURN(Tensor t, make());
  switch (dtype) {
    case DType::kF32:
      convert_field(tp.float_data(), t.data<float>(), n);
      break;
    case DType::kF64:
      convert_field(tp.double_data(), t.data<double>(), n);
      break;
    case DType::kI64:
      convert_field(tp.int64_data(), t.data<int64_t>(), n);
      break;
    case DType::kU32:
      convert_field(tp.uint64_data(), t.data<uint32_t>(), n);
      break;
    case DType::kU64:
      convert_field(tp.uint64_data(), t.data<uint64_t>(), n);
      break;
    case DType::kI32:
      convert_field(tp.int32_data(), t.data<int32_t>(), n);
      break;
    case DType::kI16:
    case DType::kU16:
    case DType::kF16:
    case DType::kBF16:
      convert_field(tp.int32_data(), t.data<uint16_t>(), n);
      break;
    case DType::kBool:
      for (int64_t i = 0; i < n; ++i) t.data<bool>()[i] = tp.int32_data(static_cast<int>(i)) != 0;
      break;
    case DType::kI8:
    case DType::kU8:
    case DType::kF8E4M3FN:
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
      convert_field(tp.int32_data(), t.data<uint8_t>(), n);
      break;
    case DType::kU4:
    case DType::kI4:
    case DType::kF4E2M1: {
      std::vector<uint8_t> packed((n + 1) / 2);
      for (size_t i = 0; i < packed.size(); ++i)
        packed[i] = static_cast<uint8_t>(tp.int32_data(static_cast<int>(i)));
      unpack_into(t, packed.data());
      break;
    }
    default:
      return unsupported(what + ": data type " + dtype_name(dtype) + " is not supported");
  }
  return t;
}

void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* tp) {
  tp->set_name(name);
  tp->set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.dims()) tp->add_dims(d);
  if (t.dtype() == DType::kString) {
    for (int64_t i = 0; i < t.numel(); ++i) tp->add_string_data(t.strings()[i]);
    return;
  }
  if (is_packed_4bit(t.dtype())) {
    std::string packed(static_cast<size_t>((t.numel() + 1) / 2), '\0');
    for (int64_t i = 0; i < t.numel(); ++i)
      packed[i / 2] |= static_cast<char>((t.data<uint8_t>()[i] & 0xF) << ((i % 2) * 4));
    tp->set_raw_data(packed);
    return;
  }
  tp->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

}  // namespace ingot::onnx_import
