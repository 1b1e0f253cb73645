// libFuzzer target: engine file bytes through the validating reader, then the runtime's preparation of
// every layer, with the platform and checksum checks off so the fuzzer reaches the plan itself. Whatever
// the bytes, the result is an engine or an error: never a crash, a read outside the file or a hang.
#include <cstdint>
#include <string>

#include "engine/engine_file.h"
#include "ingot/tensor.h"
#include "runtime/engine_internal.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ingot::set_max_tensor_bytes(int64_t{64} << 20);  // well under libFuzzer's -rss_limit_mb
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy the plan's weights may point into, kept alive by the plan like a mapped file.
  auto owner = std::make_shared<std::string>(reinterpret_cast<const char*>(data), size);
  ingot::engine::ReadOptions options;
  options.check_platform = false;
  options.check_checksum = false;
  auto plan = ingot::engine::read_engine(owner->data(), owner->size(), owner, "fuzz.ingot", options);
  if (!plan.ok()) return 0;
  auto engine = ingot::runtime::engine_from_plan(std::move(*plan));
  if (!engine.ok()) return 0;
  (void)(*engine)->layers();
  (void)(*engine)->memory();
  (void)(*engine)->create_context();
  return 0;
}
