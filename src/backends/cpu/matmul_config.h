// What the matmul tactics (oneDNN's, ingot's packed SIMD one) read from a MatMul, Gemm or
// ingot.FusedMatMul layer: the product's geometry and the epilogue the layer asks for.
#pragma once

#include <vector>

#include "backends/tactic.h"

namespace ingot::backends::cpu {

struct SimdKernels;

enum class Kind { kMatMul, kGemm, kFusedMatMul };

// One product's shapes in oneDNN's terms: src [batch..., M, K], weights [batch..., K, N], dst [batch...,
// M, N], all of one rank; `out` is the ONNX output shape (the same elements).
struct MatMulGeometry {
  Dims src, wei, dst, out;
  bool ta = false, tb = false;  // Gemm: A stored [K, M], B stored [N, K]
  int64_t M = 0, N = 0, K = 0;
};

Expected<MatMulGeometry> matmul_geometry(const Dims& a, const Dims& b, bool gemm, bool ta, bool tb);

// What the layer asks besides the product, fixed for the layer (shapes aside).
struct MatMulConfig {
  Kind kind = Kind::kMatMul;
  bool ta = false, tb = false;
  float alpha = 1.f;
  bool b_const = false;
  std::vector<float> row_bias;  // Gemm: beta * C for a constant C that broadcasts along rows, N values
  int bias_input = -1;          // FusedMatMul: the bias, one value per column
  int sum_input = -1;           // FusedMatMul's Z, or Gemm's C of the output's shape
  float sum_scale = 1.f;
  const SimdKernels* simd_gelu = nullptr;  // set: the activation (GELU) runs here, not as a post-op
};

// The layer's configuration, or why a matmul tactic cannot run it.
Expected<MatMulConfig> matmul_config(const LayerDesc& d);

// Products with an empty operand are the reference's: oneDNN 2.6 divides by zero (SIGFPE) creating such a
// matmul on AVX-512 CPUs.
inline constexpr const char* kEmptyMatMul =
    "an empty operand (oneDNN 2.6 divides by zero creating such a matmul)";

}  // namespace ingot::backends::cpu
