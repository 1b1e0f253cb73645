#include "kernels/reference/tree_ensemble.h"

#include <algorithm>
#include <cmath>

namespace ingot::ref {

std::string validate_tree_ensemble(const TreeEnsembleModel& m, int64_t n_features) {
  const size_t nodes = m.modes.size(), leaves = m.leaf_weights.size();
  if (m.splits.size() != nodes || m.featureids.size() != nodes || m.truenodeids.size() != nodes ||
      m.falsenodeids.size() != nodes || m.trueleafs.size() != nodes || m.falseleafs.size() != nodes ||
      m.missing_tracks_true.size() != nodes || m.members.size() != nodes) {
    return "the nodes_* attributes have different lengths";
  }
  if (m.leaf_targetids.size() != leaves) return "leaf_targetids and leaf_weights have different lengths";
  if (m.n_targets < 1) return "n_targets must be positive";
  for (int64_t t : m.leaf_targetids) {
    if (t < 0 || t >= m.n_targets)
      return "leaf target id " + std::to_string(t) + " is outside [0, n_targets)";
  }
  auto child_ok = [&](int64_t id, bool leaf) {
    return id >= 0 && static_cast<size_t>(id) < (leaf ? leaves : nodes);
  };
  for (size_t i = 0; i < nodes; ++i) {
    if (m.featureids[i] < 0 || m.featureids[i] >= n_features) {
      return "node " + std::to_string(i) + " reads feature " + std::to_string(m.featureids[i]) + " of " +
             std::to_string(n_features);
    }
    if (static_cast<uint8_t>(m.modes[i]) > static_cast<uint8_t>(TreeMode::kMember)) {
      return "node " + std::to_string(i) + " has an unknown mode";
    }
    if (!child_ok(m.truenodeids[i], m.trueleafs[i]) || !child_ok(m.falsenodeids[i], m.falseleafs[i])) {
      return "node " + std::to_string(i) + " has a child id out of range";
    }
  }
  for (int64_t r : m.tree_roots) {
    if (r < 0 || static_cast<size_t>(r) >= std::max(nodes, leaves))
      return "tree root " + std::to_string(r) + " out of range";
  }
  return "";
}

namespace {

bool goes_true(const TreeEnsembleModel& m, size_t i, double v) {
  if (std::isnan(v) && m.missing_tracks_true[i]) return true;
  const double s = m.splits[i];
  switch (m.modes[i]) {
    case TreeMode::kLeq:
      return v <= s;
    case TreeMode::kLt:
      return v < s;
    case TreeMode::kGte:
      return v >= s;
    case TreeMode::kGt:
      return v > s;
    case TreeMode::kEq:
      return v == s;
    case TreeMode::kNeq:
      return v != s;
    case TreeMode::kMember:
      return std::find(m.members[i].begin(), m.members[i].end(), v) != m.members[i].end();
  }
  return false;
}

// The leaf a sample reaches from `root`, or -1 when the walk does not end (a cycle).
int64_t find_leaf(const TreeEnsembleModel& m, int64_t root, const double* x) {
  const size_t nodes = m.modes.size();
  // A root whose two children are the same leaf is that tree's only leaf, named by the root's id.
  if (static_cast<size_t>(root) >= nodes ||
      (m.trueleafs[root] && m.falseleafs[root] && m.truenodeids[root] == m.falsenodeids[root])) {
    return root < static_cast<int64_t>(m.leaf_weights.size()) ? root : -1;
  }
  int64_t i = root;
  for (size_t steps = 0; steps <= nodes; ++steps) {
    const bool t = goes_true(m, static_cast<size_t>(i), x[m.featureids[i]]);
    const int64_t next = t ? m.truenodeids[i] : m.falsenodeids[i];
    if (t ? m.trueleafs[i] : m.falseleafs[i]) return next;
    i = next;
  }
  return -1;
}

}  // namespace

void tree_ensemble(const TreeEnsembleModel& m, const double* x, int64_t n, int64_t n_features,
                   double max_value, double* y) {
  const int64_t T = m.n_targets;
  const double trees = static_cast<double>(m.tree_roots.size());
  for (int64_t s = 0; s < n; ++s) {
    double* out = y + s * T;
    const double init = m.aggregate == TreeAggregate::kMin   ? max_value
                        : m.aggregate == TreeAggregate::kMax ? -max_value
                                                             : 0.0;
    std::fill(out, out + T, init);
    const double* xs = x + s * n_features;
    for (int64_t root : m.tree_roots) {
      const int64_t leaf = find_leaf(m, root, xs);
      if (leaf < 0) continue;
      const double w = m.leaf_weights[leaf];
      double& o = out[m.leaf_targetids[leaf]];
      switch (m.aggregate) {
        case TreeAggregate::kSum:
          o += w;
          break;
        case TreeAggregate::kAverage:
          o += w / trees;
          break;
        case TreeAggregate::kMin:
          o = std::min(o, w);
          break;
        case TreeAggregate::kMax:
          o = std::max(o, w);
          break;
      }
    }
    switch (m.post_transform) {
      case TreePostTransform::kNone:
        break;
      case TreePostTransform::kLogistic:
        for (int64_t t = 0; t < T; ++t) out[t] = 1.0 / (1.0 + std::exp(-out[t]));
        break;
      case TreePostTransform::kSoftmax:
      case TreePostTransform::kSoftmaxZero: {
        // SOFTMAX_ZERO leaves exact zeros at zero and normalises over the others.
        const bool zero = m.post_transform == TreePostTransform::kSoftmaxZero;
        double mx = -INFINITY, sum = 0;
        for (int64_t t = 0; t < T; ++t)
          if (!zero || out[t] != 0) mx = std::max(mx, out[t]);
        for (int64_t t = 0; t < T; ++t) {
          if (zero && out[t] == 0) continue;
          out[t] = std::exp(out[t] - mx);
          sum += out[t];
        }
        for (int64_t t = 0; t < T; ++t)
          if (!zero || out[t] != 0) out[t] /= sum;
        break;
      }
      case TreePostTransform::kProbit:
        // probit(p) = sqrt(2) * erfinv(2p - 1), by Newton steps on erf from a rational first guess.
        for (int64_t t = 0; t < T; ++t) {
          const double z = 2 * out[t] - 1;
          if (z <= -1 || z >= 1) {
            out[t] = z <= -1 ? -INFINITY : INFINITY;
            continue;
          }
          const double a = 0.147, l = std::log(1 - z * z), b = 2 / (M_PI * a) + l / 2;
          double r = std::copysign(std::sqrt(std::sqrt(b * b - l / a) - b), z);
          for (int it = 0; it < 3; ++it) r -= (std::erf(r) - z) / (2 / std::sqrt(M_PI) * std::exp(-r * r));
          out[t] = std::sqrt(2.0) * r;
        }
        break;
    }
  }
}

}  // namespace ingot::ref
