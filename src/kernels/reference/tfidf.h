// TfIdfVectorizer: counts the pool's n-grams (with skips) in each row of tokens and weighs the counts.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

namespace ingot::ref {

enum class TfIdfMode { kTf, kIdf, kTfIdf };

struct TfIdfParams {
  int64_t min_gram = 1, max_gram = 1, max_skip = 0;
  int64_t out_size = 0;
  TfIdfMode mode = TfIdfMode::kTf;
  const float* weights = nullptr;  // out_size values, or nullptr for weight 1
};

// x [rows, cols] tokens; ngrams maps each pool n-gram to its output column. out [rows, out_size].
// An n-gram of n tokens at skip s takes x[i], x[i + s + 1], ... (s from 0 to max_skip). Unigrams have no
// skips, so they are counted once, with the first skip only.
template <typename K>
void tfidf(const K* x, int64_t rows, int64_t cols, const std::map<std::vector<K>, int64_t>& ngrams,
           const TfIdfParams& p, float* out) {
  std::vector<int64_t> counts(static_cast<size_t>(p.out_size));
  std::vector<K> gram;
  for (int64_t r = 0; r < rows; ++r) {
    const K* row = x + r * cols;
    std::fill(counts.begin(), counts.end(), 0);
    int64_t first_size = p.min_gram;
    for (int64_t step = 1; step <= p.max_skip + 1; ++step) {
      for (int64_t start = 0; start + step * (first_size - 1) < cols; ++start) {
        gram.clear();
        for (int64_t n = 1, i = start; n <= p.max_gram && i < cols; ++n, i += step) {
          gram.push_back(row[i]);
          if (n < first_size) continue;
          auto it = ngrams.find(gram);
          if (it != ngrams.end()) ++counts[it->second];
        }
      }
      if (first_size == 1) {
        first_size = 2;
        if (first_size > p.max_gram) break;
      }
    }
    float* o = out + r * p.out_size;
    for (int64_t j = 0; j < p.out_size; ++j) {
      const float w = p.weights ? p.weights[j] : 1.0f;
      switch (p.mode) {
        case TfIdfMode::kTf:
          o[j] = static_cast<float>(counts[j]);
          break;
        case TfIdfMode::kIdf:
          o[j] = counts[j] > 0 ? w : 0.0f;
          break;
        case TfIdfMode::kTfIdf:
          o[j] = w * static_cast<float>(counts[j]);
          break;
      }
    }
  }
}

}  // namespace ingot::ref
