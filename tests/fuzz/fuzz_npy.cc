// libFuzzer target: .npy bytes through parse_npy. Every numeric array that parses must serialize and
// parse back to the same dtype, shape and bytes (strings are left out: S<n> arrays may hold bytes
// that are not UTF-8, which the writer replaces).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/npy.h"
#include "ingot/tensor.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ingot::set_max_tensor_bytes(int64_t{64} << 20);  // well under libFuzzer's -rss_limit_mb
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto t = ingot::parse_npy(bytes, "fuzz.npy");
  if (!t.ok() || t->dtype() == ingot::DType::kString) return 0;
  const std::string again = ingot::serialize_npy(*t);
  if (again.empty()) {
    std::fprintf(stderr, "a parsed %s tensor cannot be written back\n", ingot::dtype_name(t->dtype()));
    std::abort();
  }
  auto back = ingot::parse_npy(again, "round trip");
  if (!back.ok() || back->dtype() != t->dtype() || back->dims() != t->dims() ||
      std::memcmp(back->raw(), t->raw(), t->nbytes()) != 0) {
    std::fprintf(stderr, "round trip changed the array: %s\n",
                 back.ok() ? "different dtype, shape or data" : back.status().message().c_str());
    std::abort();
  }
  return 0;
}
