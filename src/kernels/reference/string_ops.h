// String kernels for StringSplit and StringNormalizer: plain functions over std::string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ingot::ref {

// Python's str.split: with a non-empty `delim`, every occurrence splits ("a,,b" -> a, "", b; "" -> "");
// with an empty one, runs of ASCII whitespace split and leading/trailing whitespace is dropped
// ("" -> nothing). At most `maxsplit` splits when maxsplit >= 0; the rest stays in the last piece.
std::vector<std::string> split_string(const std::string& s, const std::string& delim, int64_t maxsplit);

// ASCII case mapping (bytes >= 0x80, i.e. UTF-8 multibyte sequences, are left as they are).
std::string ascii_lower(std::string s);
std::string ascii_upper(std::string s);

}  // namespace ingot::ref
