#include "ingot/compare.h"

#include <algorithm>
#include <cmath>

namespace ingot {

Expected<ErrorStats> compare_outputs(const std::string& name, const Tensor& got, const Tensor& ref,
                                     double atol, double rtol) {
  if (got.dims() != ref.dims() || !dtype_is_float(got.dtype()) || !dtype_is_float(ref.dtype())) {
    return invalid_argument("output '" + name + "': engine " + dtype_name(got.dtype()) + " " +
                            dims_to_string(got.dims()) + " vs reference " + dtype_name(ref.dtype()) + " " +
                            dims_to_string(ref.dims()) + ": not comparable");
  }
  ErrorStats s;
  const int64_t n = ref.numel();
  double dot = 0, ng = 0, nr = 0, ref_max = 1e-12;
  for (int64_t i = 0; i < n; ++i) ref_max = std::max(ref_max, std::fabs(ref.get_f64(i)));
  for (int64_t i = 0; i < n; ++i) {
    const double g = got.get_f64(i), r = ref.get_f64(i), d = std::fabs(g - r);
    s.max_abs = std::max(s.max_abs, d);
    s.mean_abs += d;
    s.max_rel = std::max(s.max_rel, d / ref_max);
    s.mean_rel += d / ref_max;
    dot += g * r;
    ng += g * g;
    nr += r * r;
    if (atol >= 0 && !(d <= atol + std::max(rtol, 0.0) * std::fabs(r))) ++s.failing;
  }
  if (n > 0) {
    s.mean_abs /= n;
    s.mean_rel /= n;
  }
  s.cosine = ng > 0 && nr > 0 ? dot / std::sqrt(ng * nr) : (ng == nr ? 1 : 0);
  if (ref.rank() >= 1 && ref.dim(-1) > 0) {
    const int64_t k = ref.dim(-1), rows = n / k;
    int64_t agree = 0;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t ag = 0, ar = 0;
      for (int64_t j = 1; j < k; ++j) {
        if (got.get_f64(r * k + j) > got.get_f64(r * k + ag)) ag = j;
        if (ref.get_f64(r * k + j) > ref.get_f64(r * k + ar)) ar = j;
      }
      agree += ag == ar;
    }
    if (rows > 0) s.top1 = static_cast<double>(agree) / rows;
  }
  return s;
}

}  // namespace ingot
