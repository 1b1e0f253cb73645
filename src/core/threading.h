// The threads ingot's CPU kernels run on: oneDNN's OpenMP pool (Debian's libdnnl is built on the GNU
// OpenMP runtime), which ingot's own parallel kernels share, so the two never oversubscribe the cores.
#pragma once

#include <cstdint>
#include <functional>

namespace ingot {

// Sets the pool's size for parallel work started from the calling thread (OpenMP's nthreads-var;
// OMP_NUM_THREADS sets the default). n < 1 is ignored.
void set_num_threads(int n);
// The size the next parallel region started from the calling thread gets.
int num_threads();

// Runs fn(begin, end) over [0, n) in contiguous chunks shared out among the threads of the pool (OpenMP's
// team, the one oneDNN's primitives use; a thread may get several), each of at least `grain` items (smaller
// work is not worth waking a thread for): on the calling thread alone when n <= grain, when the pool has one
// thread, or when already inside a parallel region. fn must not throw.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace ingot
