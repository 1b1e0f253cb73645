// Plain Unique over the slices of a tensor viewed as [outer, n, inner]: slice k is every x[o, k, i].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

namespace ingot::ref {

struct UniqueResult {
  std::vector<int64_t> first;    // per unique slice: index of its first occurrence
  std::vector<int64_t> inverse;  // per input slice: index of its unique slice
  std::vector<int64_t> counts;   // per unique slice: occurrences
};

namespace detail {
// Total order for sorting: NaN after every number and equal to itself (numpy's sort / unique).
template <typename T>
int three_way(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>) {
    const bool an = std::isnan(a), bn = std::isnan(b);
    if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  }
  return a < b ? -1 : (b < a ? 1 : 0);
}
}  // namespace detail

// Unique slices in ascending lexicographic order (`sorted`) or in order of first occurrence.
// `V` is a comparable view of the element type (float for half types).
template <typename V, typename T>
UniqueResult unique_slices(const T* x, int64_t outer, int64_t n, int64_t inner, bool sorted) {
  auto at = [&](int64_t k, int64_t e) {
    return static_cast<V>(x[(e / inner) * n * inner + k * inner + e % inner]);
  };
  const int64_t len = outer * inner;
  auto cmp = [&](int64_t a, int64_t b) {
    for (int64_t e = 0; e < len; ++e) {
      const int c = detail::three_way<V>(at(a, e), at(b, e));
      if (c != 0) return c;
    }
    return 0;
  };
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
  // Groups of equal slices in sorted order; stable sort puts each group's first occurrence first.
  std::vector<int64_t> group_of(n);
  UniqueResult r;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || cmp(order[i - 1], order[i]) != 0) {
      r.first.push_back(order[i]);
      r.counts.push_back(0);
    }
    group_of[order[i]] = static_cast<int64_t>(r.first.size()) - 1;
    ++r.counts.back();
  }
  std::vector<int64_t> rank(r.first.size());
  std::iota(rank.begin(), rank.end(), 0);
  if (!sorted) {
    std::vector<int64_t> by_first(r.first.size());
    std::iota(by_first.begin(), by_first.end(), 0);
    std::sort(by_first.begin(), by_first.end(),
              [&](int64_t a, int64_t b) { return r.first[a] < r.first[b]; });
    UniqueResult u;
    for (size_t j = 0; j < by_first.size(); ++j) {
      rank[by_first[j]] = static_cast<int64_t>(j);
      u.first.push_back(r.first[by_first[j]]);
      u.counts.push_back(r.counts[by_first[j]]);
    }
    r.first = std::move(u.first);
    r.counts = std::move(u.counts);
  }
  r.inverse.resize(n);
  for (int64_t k = 0; k < n; ++k) r.inverse[k] = rank[group_of[k]];
  return r;
}

// y[o, j, i] = x[o, first[j], i].
template <typename T>
void gather_slices(const T* x, int64_t outer, int64_t n, int64_t inner, const std::vector<int64_t>& pick,
                   T* y) {
  const int64_t u = static_cast<int64_t>(pick.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < u; ++j)
      for (int64_t i = 0; i < inner; ++i) y[(o * u + j) * inner + i] = x[(o * n + pick[j]) * inner + i];
}

}  // namespace ingot::ref
