// The engine file: a fixed header (magic, format version, ingot version, platform fingerprint, sizes,
// checksum), the plan as a FlatBuffer (plan.fbs), then the weights, each 64-byte aligned so the loader
// maps them instead of copying.
//
//   offset 0    header (512 bytes, little-endian)
//   512         plan (FlatBuffer)
//   aligned 64  weights
#pragma once

#include <memory>
#include <string>

#include "engine/plan.h"
#include "ingot/status.h"

namespace ingot::engine {

inline constexpr char kEngineMagic[8] = {'I', 'N', 'G', 'O', 'T', 'E', 'N', 'G'};
inline constexpr uint32_t kEngineFormatVersion = 1;
inline constexpr size_t kHeaderBytes = 512;

struct HeaderInfo {
  uint32_t format_version = 0;
  std::string ingot_version;
  std::string fingerprint;
  uint64_t file_bytes = 0, plan_bytes = 0, weights_bytes = 0;
  uint64_t checksum = 0;
};

// Serializes the plan and its weights (fails on layers that cannot be saved, e.g. If/Loop/Scan bodies).
Expected<std::string> serialize_plan(const Plan& plan);
Status write_engine_file(const Plan& plan, const std::string& path);

struct ReadOptions {
  bool check_platform = true;  // refuse engines built for another platform or ingot version
  bool check_checksum = true;
};

// Reads and validates an engine. `data` must stay alive while the plan is used (its weights point into
// it); `owner` is kept in plan.keep_alive. `label` names the file in errors.
Expected<Plan> read_engine(const void* data, size_t size, std::shared_ptr<const void> owner,
                           const std::string& label, const ReadOptions& options = {},
                           HeaderInfo* header = nullptr);
// Maps `path` read-only and reads it.
Expected<Plan> read_engine_file(const std::string& path, HeaderInfo* header = nullptr);
// True when the file starts with the engine magic.
bool looks_like_engine(const std::string& path);

}  // namespace ingot::engine
