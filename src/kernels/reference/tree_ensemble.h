// ai.onnx.ml TreeEnsemble (opset 5): evaluation of a forest of binary decision trees.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ingot::ref {

enum class TreeMode : uint8_t { kLeq = 0, kLt = 1, kGte = 2, kGt = 3, kEq = 4, kNeq = 5, kMember = 6 };
enum class TreeAggregate { kAverage = 0, kSum = 1, kMin = 2, kMax = 3 };
enum class TreePostTransform { kNone = 0, kSoftmax = 1, kLogistic = 2, kSoftmaxZero = 3, kProbit = 4 };

// The forest, flattened as ONNX writes it: interior node i compares feature featureids[i] with
// splits[i] (or, for kMember, with members[i]) and continues to true / false child ids that name a
// leaf when the matching *_leafs flag is set, else another interior node.
struct TreeEnsembleModel {
  std::vector<double> splits;
  std::vector<int64_t> featureids;
  std::vector<TreeMode> modes;
  std::vector<int64_t> truenodeids, falsenodeids;
  std::vector<bool> trueleafs, falseleafs, missing_tracks_true;
  std::vector<std::vector<double>> members;  // per node; only kMember nodes use theirs
  std::vector<int64_t> leaf_targetids;
  std::vector<double> leaf_weights;
  std::vector<int64_t> tree_roots;
  int64_t n_targets = 1;
  TreeAggregate aggregate = TreeAggregate::kSum;
  TreePostTransform post_transform = TreePostTransform::kNone;
};

// Checks ids, flags and list lengths; returns an empty string when the model is usable, else why not.
std::string validate_tree_ensemble(const TreeEnsembleModel& m, int64_t n_features);

// y[n, n_targets] from x[n, n_features]; MIN / MAX aggregation starts from max_value / -max_value (the
// largest finite value of the output type), which a target no leaf names keeps.
void tree_ensemble(const TreeEnsembleModel& m, const double* x, int64_t n, int64_t n_features,
                   double max_value, double* y);

}  // namespace ingot::ref
