// Run-time choice of the SIMD kernel table from the CPU's features (core/platform.h).
#include <cstring>

#include "backends/cpu/simd_f16_kernels.h"
#include "backends/cpu/simd_tactic.h"
#include "core/platform.h"

namespace ingot::backends::cpu {

const SimdKernels* simd_kernels_for(const char* isa) {
  const CpuFeatures& f = cpu_features();
  if (std::strcmp(isa, "avx512") == 0)
    return f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl && f.fma ? &simd_kernels_avx512() : nullptr;
  if (std::strcmp(isa, "avx2") == 0) return f.avx2 && f.fma ? &simd_kernels_avx2() : nullptr;
  return nullptr;
}

const F16Kernels* f16_kernels_for_this_cpu() {
  const CpuFeatures& f = cpu_features();
  return f.avx512fp16 && f.avx512bw && f.avx512vl && f.avx512dq && f.fma ? f16_kernels_avx512fp16() : nullptr;
}

std::string simd_isa_supported(const char* isa) {
  return simd_kernels_for(isa) ? "" : std::string("this CPU does not run ") + isa;
}

}  // namespace ingot::backends::cpu
