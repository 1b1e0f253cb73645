// Element type conversion (Cast / CastLike) and the codecs of ONNX's 8- and 4-bit float formats.
#pragma once

#include <cstdint>

#include "ingot/dtype.h"
#include "ingot/status.h"

namespace ingot::ref {

bool is_float8(DType t);  // the four FLOAT8 formats (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ)

// Float8 codecs, rounding to nearest even. With `saturate`, out-of-range values and infinities become
// the largest finite value of the sign; without it they become NaN (or infinity for E5M2), as ONNX's
// Cast table specifies.
uint8_t float_to_float8(float x, DType to, bool saturate);
float float8_to_float(uint8_t bits, DType from);
void float8_to_float(DType from, const uint8_t* x, float* y, int64_t n);

// FLOAT4E2M1 (one code per byte, low nibble): no infinity or NaN, so out-of-range values saturate.
uint8_t float_to_float4e2m1(float x);
float float4e2m1_to_float(uint8_t bits);

// Converts n elements of type `from` at x to type `to` at y, for every pair of dtypes ingot stores
// (numbers, bool, strings as std::string objects, float8, float4, 4-bit integers one per byte).
// Floats to integers truncate toward zero; values past an integer type's range wrap (ONNX leaves them
// undefined); integers to narrower integers wrap. Strings parse as decimal or scientific numbers, with
// "INF", "+INF", "-INF" and "NaN" in any case; numbers print in the shortest form that reads back
// exactly, with "NaN", "INF" and "-INF" for the special values. An unparsable string is an error.
Status cast(DType from, const void* x, DType to, void* y, int64_t n, bool saturate);

}  // namespace ingot::ref
