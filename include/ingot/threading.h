// The threads ingot's CPU kernels run on: oneDNN's OpenMP pool (Debian's libdnnl is built on the GNU
// OpenMP runtime), which ingot's own parallel kernels share, so the two never oversubscribe the cores.
#pragma once

namespace ingot {

// Sets the pool's size for parallel work started from the calling thread (OpenMP's nthreads-var;
// OMP_NUM_THREADS sets the default). n < 1 is ignored.
void set_num_threads(int n);
// The size the next parallel region started from the calling thread gets.
int num_threads();

}  // namespace ingot
