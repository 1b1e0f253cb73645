#include "core/threading.h"

#include <omp.h>

#include <algorithm>

// The parallel region is started through the GNU OpenMP entry point rather than `#pragma omp parallel`:
// the library is compiled without -fopenmp (its compiler's own OpenMP lowering, which clang ties to
// libomp, would not match the libgomp that oneDNN runs on), and libgomp's GOMP_parallel, which LLVM's
// libomp also exports, starts a team on the same pool oneDNN uses.
extern "C" void GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags);

namespace ingot {

void set_num_threads(int n) {
  if (n >= 1) omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

namespace {

struct ParallelJob {
  int64_t n;
  const std::function<void(int64_t, int64_t)>* fn;
};

void run_chunk(void* data) {
  const auto* job = static_cast<const ParallelJob*>(data);
  const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
  const int64_t chunk = job->n / threads, extra = job->n % threads;
  const int64_t begin = t * chunk + std::min(t, extra);
  const int64_t end = begin + chunk + (t < extra ? 1 : 0);
  if (begin < end) (*job->fn)(begin, end);
}

}  // namespace

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t threads = std::min<int64_t>(
      omp_get_max_threads(), (n + std::max<int64_t>(grain, 1) - 1) / std::max<int64_t>(grain, 1));
  if (threads <= 1 || omp_in_parallel()) {
    fn(0, n);
    return;
  }
  ParallelJob job{n, &fn};
  GOMP_parallel(run_chunk, &job, static_cast<unsigned>(threads), 0);
}

}  // namespace ingot
