// Reading and writing numpy's .npy files (one array per file).
//
// Reading accepts format versions 1.0, 2.0 and 3.0 and these descriptors, in little-endian ('<'),
// big-endian ('>', converted on read), native ('=') or byte-order-free ('|') form:
//   f2 f4 f8 c8 c16  i1 i2 i4 i8  u1 u2 u4 u8  b1  U<n>  S<n>
// U<n> (UTF-32 code units) and S<n> (raw bytes) become DType::kString tensors of UTF-8 strings, with
// trailing NULs stripped as numpy does. A UTF-16 surrogate code point in a U<n> array (which Python can
// hold but UTF-8 cannot) reads as U+FFFD; a code point past U+10FFFF is an error. Bool bytes other
// than 0 read as true. `fortran_order: True` arrays are transposed into ingot's row-major layout.
// Structured and object dtypes are refused. A malformed file is an error, never a crash; every
// error message is one line that starts with the path (or label). Bytes after the data are ignored.
//
// Writing produces the header numpy 1.26 writes (format 1.0, or 2.0 if the header would not fit
// in 1.0), byte for byte, followed by the little-endian data. Type mapping:
//   bfloat16 -> '<f4' (numpy has no bfloat16; the values convert exactly, the dtype is not kept)
//   uint4 / int4 (one element per byte in ingot) -> '|u1' / '|i1'
//   string -> '<U<n>' with n the longest element in code points (at least 1); invalid UTF-8 bytes
//             are written as U+FFFD, and trailing NULs do not survive a round trip
//   float8 / float4 types and undefined tensors cannot be written.
#pragma once

#include <string>

#include "ingot/status.h"
#include "ingot/tensor.h"

namespace ingot {

// Reads a .npy file. A missing file is kNotFound ("<path>: no such file").
Expected<Tensor> read_npy(const std::string& path);

// Parses the bytes of a .npy file; `label` names the source at the start of error messages.
Expected<Tensor> parse_npy(const std::string& bytes, const std::string& label);

// The .npy bytes of `t`. Empty when `t` cannot be written (undefined, or a dtype listed above as
// not writable); write_npy reports those cases as errors.
std::string serialize_npy(const Tensor& t);

// Writes `t` to `path` through a temporary file unique to the call (core/atomic_file.h) and a rename,
// so readers never see a partial file and concurrent writers never share one. On failure the
// temporary file is removed and an existing file at `path` is left untouched.
Status write_npy(const std::string& path, const Tensor& t);

}  // namespace ingot
