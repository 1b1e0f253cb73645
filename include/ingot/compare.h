// How far one output is from its reference, as `ingot compare` (and Polygraphy) report it.
#pragma once

#include "ingot/status.h"
#include "ingot/tensor.h"

namespace ingot {

struct ErrorStats {
  // Relative errors are |got - ref| / max |ref| per element (as the model tests measure), so that values
  // near zero do not blow them up.
  double max_abs = 0, mean_abs = 0, max_rel = 0, mean_rel = 0;
  double cosine = 1;
  double top1 = -1;     // rows of the last axis whose argmax agrees; -1 for a scalar
  int64_t failing = 0;  // elements outside atol + rtol * |ref| (0 unless atol >= 0)
};

// Fails (naming `name`) when the two are not floating-point tensors of the same shape.
Expected<ErrorStats> compare_outputs(const std::string& name, const Tensor& got, const Tensor& ref,
                                     double atol = -1, double rtol = -1);

}  // namespace ingot
