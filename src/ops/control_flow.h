// Limits of the control-flow ops (If, Loop, Scan).
#pragma once

#include <cstdint>

namespace ingot::ops {

// The most iterations one Loop node may run. A Loop whose trip count and condition would take it
// further fails with a clear error instead of hanging (a cond-only loop whose condition never turns
// false is the usual culprit). The default, 10^7, can be set with the environment variable
// INGOT_MAX_LOOP_ITERATIONS.
int64_t max_loop_iterations();
void set_max_loop_iterations(int64_t n);

}  // namespace ingot::ops
