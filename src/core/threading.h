// Internal spelling of the public thread-pool API (include/ingot/threading.h).
#pragma once

#include <cstdint>
#include <functional>

#include "ingot/threading.h"

namespace ingot {

// Runs fn(begin, end) over [0, n) in contiguous chunks shared out among the threads of the pool (OpenMP's
// team, the one oneDNN's primitives use; a thread may get several), each of at least `grain` items (smaller
// work is not worth waking a thread for): on the calling thread alone when n <= grain, when the pool has one
// thread, or when already inside a parallel region. fn must not throw.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace ingot
