// LabelEncoder: maps each element through a key -> value table, with a default for missing keys.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <unordered_map>

namespace ingot::ref {

// Repeated keys: the last one wins. A NaN key matches every NaN input (NaN never equals itself, so it
// cannot live in the hash map).
template <typename K, typename V>
void label_encode(const K* x, int64_t n, const K* keys, const V* values, int64_t m, const V& fallback,
                  V* out) {
  std::unordered_map<K, const V*> table;
  table.reserve(static_cast<size_t>(m));
  const V* nan_value = nullptr;
  for (int64_t i = 0; i < m; ++i) {
    if constexpr (std::is_floating_point_v<K>) {
      if (std::isnan(keys[i])) {
        nan_value = &values[i];
        continue;
      }
    }
    table.insert_or_assign(keys[i], &values[i]);
  }
  for (int64_t i = 0; i < n; ++i) {
    const V* v = &fallback;
    if constexpr (std::is_floating_point_v<K>) {
      if (std::isnan(x[i])) {
        out[i] = nan_value ? *nan_value : fallback;
        continue;
      }
    }
    auto it = table.find(x[i]);
    if (it != table.end()) v = it->second;
    out[i] = *v;
  }
}

}  // namespace ingot::ref
