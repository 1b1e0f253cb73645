// libFuzzer target: calibration cache bytes through parse_calibration_cache. A cache that parses must
// serialize, and parse back to the same method and the same threshold and minimum per tensor.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "quant/calib_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto cache = ingot::quant::parse_calibration_cache(text, "fuzz.cache");
  if (!cache.ok()) return 0;
  auto again = ingot::quant::serialize_calibration_cache(*cache);
  if (!again.ok()) {
    std::fprintf(stderr, "a parsed cache cannot be written back: %s\n", again.status().message().c_str());
    std::abort();
  }
  auto back = ingot::quant::parse_calibration_cache(*again, "round trip");
  if (!back.ok() || back->method != cache->method || back->tensors != cache->tensors) {
    std::fprintf(stderr, "round trip changed the cache: %s\n",
                 back.ok() ? "different method or scales" : back.status().message().c_str());
    std::abort();
  }
  return 0;
}
