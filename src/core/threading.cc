#include "core/threading.h"

#include <omp.h>

#include <algorithm>
#include <atomic>

// The parallel region is started through the GNU OpenMP entry point rather than `#pragma omp parallel`:
// the library is compiled without -fopenmp (its compiler's own OpenMP lowering, which clang ties to
// libomp, would not match the libgomp that oneDNN runs on), and libgomp's GOMP_parallel, which LLVM's
// libomp also exports, starts a team on the same pool oneDNN uses.
extern "C" void GOMP_parallel(void (*fn)(void*), void* data, unsigned num_threads, unsigned flags);

// libgomp is not built with ThreadSanitizer: the synchronisation of its barriers is invisible to it, and
// every output a team wrote would read as a race. Under TSan, ingot's own kernels run on the calling thread.
#if defined(__SANITIZE_THREAD__)
#define INGOT_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define INGOT_TSAN_BUILD 1
#endif
#endif

namespace ingot {

void set_num_threads(int n) {
  if (n >= 1) omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

namespace {

// The range is dealt out in chunks from a shared counter rather than split once per thread: when another
// process preempts one of the team's threads (a machine busier than its cores), the others take its
// share instead of waiting for it at the region's end.
struct ParallelJob {
  int64_t n, chunk;
  std::atomic<int64_t> next{0};
  const std::function<void(int64_t, int64_t)>* fn;
};

void run_chunks(void* data) {
  auto* job = static_cast<ParallelJob*>(data);
  for (;;) {
    const int64_t begin = job->next.fetch_add(job->chunk, std::memory_order_relaxed);
    if (begin >= job->n) return;
    (*job->fn)(begin, std::min(job->n, begin + job->chunk));
  }
}

}  // namespace

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t threads = std::min<int64_t>(
      omp_get_max_threads(), (n + std::max<int64_t>(grain, 1) - 1) / std::max<int64_t>(grain, 1));
#ifdef INGOT_TSAN_BUILD
  const bool serial = true;
#else
  const bool serial = threads <= 1 || omp_in_parallel();
#endif
  if (serial) {
    fn(0, n);
    return;
  }
  ParallelJob job;
  job.n = n;
  // About four chunks per thread, none smaller than the grain.
  job.chunk = std::max<int64_t>(std::max<int64_t>(grain, 1), (n + 4 * threads - 1) / (4 * threads));
  job.fn = &fn;
  GOMP_parallel(run_chunks, &job, static_cast<unsigned>(threads), 0);
}

}  // namespace ingot
