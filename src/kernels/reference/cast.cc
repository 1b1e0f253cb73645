#include "kernels/reference/cast.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/unary_math.h"

namespace ingot::ref {
namespace {

// A small binary float format: sign bit, exponent, `mant_bits` of mantissa, subnormals at exponent 0.
struct MiniFloat {
  int mant_bits;
  int bias;
  uint8_t sign_bit;
  double max;        // largest finite value
  uint8_t max_code;  // its code, without the sign
};

MiniFloat format_of(DType t) {
  switch (t) {
    case DType::kF8E4M3FN:
      return {3, 7, 0x80, 448.0, 0x7E};
    case DType::kF8E4M3FNUZ:
      return {3, 8, 0x80, 240.0, 0x7F};
    case DType::kF8E5M2:
      return {2, 15, 0x80, 57344.0, 0x7B};
    case DType::kF8E5M2FNUZ:
      return {2, 16, 0x80, 57344.0, 0x7F};
    default:
      return {1, 1, 0x08, 6.0, 0x07};  // kF4E2M1
  }
}

bool is_fnuz(DType t) { return t == DType::kF8E4M3FNUZ || t == DType::kF8E5M2FNUZ; }

// The code of a NaN, or (without saturation) of an overflow, for each format; the FNUZ formats have
// a single NaN (the "negative zero" code) and no signed zero.
uint8_t nan_code(DType t, bool negative) {
  if (is_fnuz(t)) return 0x80;
  const uint8_t sign = negative ? 0x80 : 0;
  return t == DType::kF8E5M2 ? (sign | 0x7E) : (sign | 0x7F);
}

uint8_t overflow_code(DType t, const MiniFloat& f, bool negative, bool saturate) {
  const uint8_t sign = negative ? f.sign_bit : 0;
  if (saturate || t == DType::kF4E2M1) return sign | f.max_code;
  if (t == DType::kF8E5M2) return sign | 0x7C;  // infinity
  return nan_code(t, negative);
}

uint8_t encode_minifloat(float x, DType t, bool saturate) {
  const MiniFloat f = format_of(t);
  const bool negative = std::signbit(x);
  if (std::isnan(x)) {
    // FLOAT4E2M1 has no NaN; ONNX's reference (ml_dtypes) gives the -0 code for +NaN and +0 for -NaN.
    if (t == DType::kF4E2M1) return negative ? 0 : 0x08;
    return nan_code(t, negative);
  }
  const uint8_t sign = negative ? f.sign_bit : 0;
  const double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a)) return overflow_code(t, f, negative, saturate);
  const bool unsigned_zero = is_fnuz(t);
  if (a == 0) return unsigned_zero ? 0 : sign;
  const int emin = 1 - f.bias;
  int e2 = 0;
  std::frexp(a, &e2);  // a = m * 2^e2, m in [0.5, 1)
  int e = std::max(e2 - 1, emin);
  const double one = std::ldexp(1.0, f.mant_bits);            // the implicit leading bit, in mantissa units
  double r = std::nearbyint(std::ldexp(a, f.mant_bits - e));  // exact scaling, then round half to even
  if (r >= 2 * one) {
    r /= 2;
    ++e;
  }
  if (std::ldexp(r, e - f.mant_bits) > f.max) return overflow_code(t, f, negative, saturate);
  if (r == 0) return unsigned_zero ? 0 : sign;
  uint32_t code = r < one
                      ? static_cast<uint32_t>(r)  // subnormal: exponent field 0
                      : (static_cast<uint32_t>(e + f.bias) << f.mant_bits) | static_cast<uint32_t>(r - one);
  return static_cast<uint8_t>(sign | code);
}

float decode_minifloat(uint8_t bits, DType t) {
  const MiniFloat f = format_of(t);
  const uint8_t code = bits & static_cast<uint8_t>(f.sign_bit - 1);
  const bool negative = (bits & f.sign_bit) != 0;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  if (is_fnuz(t) && bits == 0x80) return nan;
  if (t == DType::kF8E4M3FN && code == 0x7F) return nan;
  if (t == DType::kF8E5M2 && (code >> 2) == 0x1F) {
    if (code & 3) return nan;
    return negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  }
  const int exp = code >> f.mant_bits;
  const int mant = code & ((1 << f.mant_bits) - 1);
  const float v = exp == 0
                      ? std::ldexp(static_cast<float>(mant), 1 - f.bias - f.mant_bits)
                      : std::ldexp(static_cast<float>(mant + (1 << f.mant_bits)), exp - f.bias - f.mant_bits);
  return negative ? -v : v;
}

bool is_minifloat(DType t) { return is_float8(t) || t == DType::kF4E2M1; }

// Truncates toward zero; NaN gives 0 and values past the int64/uint64 range clamp to it before the
// wrap into To (ONNX leaves out-of-range float-to-integer casts undefined; this keeps them defined).
template <typename To>
To float_to_int(double d) {
  if (std::isnan(d)) return To(0);
  d = std::trunc(d);
  if (d >= 0x1p63) return static_cast<To>(d < 0x1p64 ? static_cast<uint64_t>(d) : ~uint64_t{0});
  if (d < -0x1p63) return static_cast<To>(std::numeric_limits<int64_t>::min());
  return static_cast<To>(static_cast<int64_t>(d));
}

template <typename To, typename From>
To convert(From v) {
  using W = MathType<From>;
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<W>(v) != W(0);  // -0.0 is false, NaN is true
  } else if constexpr (kIsHalfFloat<To>) {
    return To(static_cast<float>(static_cast<W>(v)));
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(static_cast<W>(v));
  } else if constexpr (std::is_integral_v<From>) {
    return static_cast<To>(v);  // wraps modulo 2^bits (bool gives 0 / 1)
  } else {
    return float_to_int<To>(static_cast<double>(static_cast<W>(v)));
  }
}

std::string format_float(double v, bool single) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "INF" : "-INF";
  // The shortest digits that read back exactly, laid out as numpy's repr does: positional in
  // [1e-4, 1e16) with a ".0" on whole numbers, scientific outside.
  char buf[64];
  auto res = single
                 ? std::to_chars(buf, buf + sizeof(buf), static_cast<float>(v), std::chars_format::scientific)
                 : std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  const std::string sci(buf, res.ptr);
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-4 || a >= 1e16)) return sci;
  const size_t e_pos = sci.find('e');
  const int exp10 = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (size_t i = 0; i < e_pos; ++i)
    if (std::isdigit(static_cast<unsigned char>(sci[i]))) digits += sci[i];
  std::string out = std::signbit(v) ? "-" : "";
  if (exp10 < 0) {
    out += "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
  } else {
    const size_t int_digits = static_cast<size_t>(exp10) + 1;
    if (digits.size() <= int_digits) {
      out += digits + std::string(int_digits - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
    }
  }
  return out;
}

template <typename From>
std::string to_string_of(From v) {
  if constexpr (std::is_same_v<From, bool>) {
    return v ? "1" : "0";
  } else if constexpr (std::is_integral_v<From>) {
    return std::to_string(v);
  } else {
    return format_float(static_cast<double>(static_cast<MathType<From>>(v)), !std::is_same_v<From, double>);
  }
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

template <typename N>
bool parse_whole(std::string_view s, N* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return false;
  auto res = std::from_chars(s.data(), s.data() + s.size(), *out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

// Parses a decimal / scientific number or one of the special literals ("INF", "+INF", "-INF", "NaN",
// any case; from_chars also takes "infinity").
bool parse_double(std::string_view s, double* out) {
  s = trim(s);
  if (parse_whole(s, out)) return true;
  if (iequals(s, "-nan")) {
    *out = -std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return false;
}

// Parses `s` into To; false when it is not a number.
template <typename To>
bool parse_into(const std::string& str, To* out) {
  std::string_view s = trim(str);
  if constexpr (std::is_same_v<To, bool>) {
    if (iequals(s, "true") || iequals(s, "false")) {
      *out = iequals(s, "true");
      return true;
    }
  }
  if constexpr (std::is_integral_v<To>) {
    // Integers parse exactly (an int64 through a double would lose digits) before falling back to a
    // float literal ("2.5", "1e3"), which truncates.
    int64_t i = 0;
    uint64_t u = 0;
    if (parse_whole(s, &i)) {
      *out = convert<To>(i);
      return true;
    }
    if (parse_whole(s, &u)) {
      *out = convert<To>(u);
      return true;
    }
  }
  double d = 0;
  if (!parse_double(s, &d)) return false;
  *out = convert<To>(d);
  return true;
}

}  // namespace

bool is_float8(DType t) {
  return t == DType::kF8E4M3FN || t == DType::kF8E4M3FNUZ || t == DType::kF8E5M2 || t == DType::kF8E5M2FNUZ;
}

uint8_t float_to_float8(float x, DType to, bool saturate) { return encode_minifloat(x, to, saturate); }
float float8_to_float(uint8_t bits, DType from) { return decode_minifloat(bits, from); }
void float8_to_float(DType from, const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = decode_minifloat(x[i], from);
}
uint8_t float_to_float4e2m1(float x) { return encode_minifloat(x, DType::kF4E2M1, true); }
float float4e2m1_to_float(uint8_t bits) { return decode_minifloat(bits & 0x0F, DType::kF4E2M1); }

Status cast(DType from, const void* x, DType to, void* y, int64_t n, bool saturate) {
  if (n <= 0) return Status::Ok();
  // 4-bit integers are stored one per byte (int4 sign-extended), so they read as int8 / uint8.
  if (from == DType::kI4) from = DType::kI8;
  if (from == DType::kU4) from = DType::kU8;

  if (is_minifloat(from)) {
    std::vector<float> wide(static_cast<size_t>(n));
    const auto* p = static_cast<const uint8_t*>(x);
    for (int64_t i = 0; i < n; ++i)
      wide[i] = decode_minifloat(from == DType::kF4E2M1 ? (p[i] & 0x0F) : p[i], from);
    return cast(DType::kF32, wide.data(), to, y, n, saturate);
  }
  if (is_minifloat(to)) {
    std::vector<float> wide;
    const float* f = static_cast<const float*>(x);
    if (from != DType::kF32) {
      wide.resize(static_cast<size_t>(n));
      INGOT_RETURN_IF_ERROR(cast(from, x, DType::kF32, wide.data(), n, saturate));
      f = wide.data();
    }
    auto* out = static_cast<uint8_t*>(y);
    for (int64_t i = 0; i < n; ++i) out[i] = encode_minifloat(f[i], to, saturate);
    return Status::Ok();
  }
  if (to == DType::kI4 || to == DType::kU4) {
    std::vector<int64_t> wide(static_cast<size_t>(n));
    INGOT_RETURN_IF_ERROR(cast(from, x, DType::kI64, wide.data(), n, saturate));
    auto* out = static_cast<uint8_t*>(y);
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t nib = static_cast<uint8_t>(wide[i] & 0x0F);
      out[i] = to == DType::kI4 && (nib & 0x08) ? static_cast<uint8_t>(nib | 0xF0) : nib;
    }
    return Status::Ok();
  }

  if (from == DType::kString && to == DType::kString) {
    std::copy_n(static_cast<const std::string*>(x), n, static_cast<std::string*>(y));
    return Status::Ok();
  }
  if (from == DType::kString) {
    const auto* in = static_cast<const std::string*>(x);
    Status st;
    bool ok = dispatch_numeric(to, [&](auto tag) {
      using To = typename decltype(tag)::type;
      To* out = static_cast<To*>(y);
      for (int64_t i = 0; i < n; ++i) {
        if (!parse_into(in[i], &out[i])) {
          st = invalid_argument("cannot cast string \"" + in[i].substr(0, 64) + "\" to " + dtype_name(to));
          return;
        }
      }
    });
    if (!ok) return unsupported(std::string("cast from string to ") + dtype_name(to));
    return st;
  }
  if (to == DType::kString) {
    auto* out = static_cast<std::string*>(y);
    bool ok = dispatch_numeric(from, [&](auto tag) {
      using From = typename decltype(tag)::type;
      const From* in = static_cast<const From*>(x);
      for (int64_t i = 0; i < n; ++i) out[i] = to_string_of(in[i]);
    });
    if (!ok) return unsupported(std::string("cast from ") + dtype_name(from) + " to string");
    return Status::Ok();
  }

  bool ok = false;
  dispatch_numeric(from, [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    ok = dispatch_numeric(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      const From* in = static_cast<const From*>(x);
      To* out = static_cast<To*>(y);
      for (int64_t i = 0; i < n; ++i) out[i] = convert<To>(in[i]);
    });
  });
  if (!ok) return unsupported(std::string("cast from ") + dtype_name(from) + " to " + dtype_name(to));
  return Status::Ok();
}

}  // namespace ingot::ref
