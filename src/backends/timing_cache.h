// The timing cache (DESIGN.md, "Key abstractions"): per layer signature (op, attributes, tensor types and
// shapes, which inputs are weights, the candidate tactics, the thread count) and CPU fingerprint, the
// tactic the tuner chose and its median time. Kept in a JSON file (`ingot build --timing-cache FILE`)
// that a rebuild reads to skip timing, written whole or not at all. A file that cannot be read or parsed
// is ignored with a warning (and rewritten), never a failed build.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "backends/tactic.h"

namespace ingot::backends {

class TimingCache {
 public:
  struct Entry {
    std::string tactic;
    double ms = 0;
    std::string layer;  // the layer it was measured on, for people reading the file
  };

  // An empty cache when `path` does not exist; a warning on stderr (and an empty cache) when it cannot
  // be read or is not a timing cache of this format.
  static TimingCache load(const std::string& path);
  // Writes the file atomically (core/atomic_file.h).
  Status save(const std::string& path) const;

  // The key of `desc` tuned among `candidates` at `threads` threads on this CPU.
  static std::string key(const LayerDesc& desc, const std::vector<const Tactic*>& candidates, int threads);
  const Entry* find(const std::string& key) const;
  void put(const std::string& key, Entry e);
  size_t size() const { return entries_.size(); }
  // The warning load() gave, "" when none.
  const std::string& warning() const { return warning_; }

 private:
  std::map<std::string, Entry> entries_;
  std::string warning_;
};

}  // namespace ingot::backends
