#include "core/npy.h"

#include "core/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace ingot {
namespace {

static_assert(std::endian::native == std::endian::little, "npy.cc assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr size_t kArrayAlign = 64;           // numpy 1.26's ARRAY_ALIGN
constexpr size_t kGrowthAxisMaxDigits = 21;  // numpy 1.26's GROWTH_AXIS_MAX_DIGITS
constexpr size_t kMaxHeaderLen = 1 << 20;    // numpy itself refuses headers over 10000 bytes by default
constexpr int kMaxNesting = 32;
constexpr char32_t kReplacement = 0xFFFD;

Status bad(const std::string& label, const std::string& msg) { return invalid_argument(label + ": " + msg); }

// Text from a file, made safe to put in a one-line message.
std::string printable(std::string_view s, size_t max_len = 60) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string errno_text(int err) { return err ? std::strerror(err) : "unknown error"; }

// ---------------------------------------------------------------------------------------------
// A small parser for the Python literal in the header: a dict of strings, ints, bools, None,
// tuples, lists and dicts. It is linear in the header size and bounds its recursion.

struct PyValue {
  enum Kind { kNone, kBool, kInt, kStr, kSeq, kDict } kind = kNone;
  bool b = false;
  int64_t i = 0;
  std::string str;
  std::vector<PyValue> items;  // kSeq: the elements; kDict: key, value, key, value, ...
};

class LiteralParser {
 public:
  explicit LiteralParser(std::string_view s) : s_(s) {}

  bool parse(PyValue* out) {
    if (!parse_value(out, 0)) return false;
    // numpy pads with spaces and a final newline; tolerate NUL padding from other writers too.
    while (!at_end() && (is_space(s_[pos_]) || s_[pos_] == '\0')) ++pos_;
    if (!at_end()) return fail("unexpected " + describe() + " after the dict");
    return true;
  }
  const std::string& error() const { return err_; }

 private:
  static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || is_digit(c);
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_ws() {
    while (!at_end() && is_space(s_[pos_])) ++pos_;
  }
  std::string describe() const {
    if (at_end()) return "end of header";
    return "'" + printable(s_.substr(pos_, 1)) + "'";
  }
  bool fail(const std::string& msg) {
    if (err_.empty()) err_ = msg + " at offset " + std::to_string(pos_);
    return false;
  }

  bool parse_value(PyValue* v, int depth) {
    if (depth > kMaxNesting) return fail("nesting too deep");
    skip_ws();
    if (at_end()) return fail("unexpected end of header");
    char c = s_[pos_];
    if (c == '\'' || c == '"') return parse_string(v);
    if (c == '(' || c == '[') return parse_sequence(v, depth);
    if (c == '{') return parse_dict(v, depth);
    if (c == '-' || c == '+' || is_digit(c)) return parse_integer(v);
    if (is_name_char(c)) return parse_name(v);
    return fail("unexpected " + describe());
  }

  bool parse_string(PyValue* v) {
    const char quote = s_[pos_++];
    v->kind = PyValue::kStr;
    v->str.clear();
    for (;;) {
      if (at_end()) return fail("unterminated string");
      char c = s_[pos_++];
      if (c == quote) return true;
      if (c == '\\') {
        if (at_end()) return fail("unterminated string");
        c = s_[pos_++];  // escapes never occur in the strings numpy writes; keep the character
      }
      v->str += c;
    }
  }

  bool parse_integer(PyValue* v) {
    bool negative = false;
    if (s_[pos_] == '-' || s_[pos_] == '+') negative = s_[pos_++] == '-';
    skip_ws();
    if (!is_digit(peek())) return fail("expected a digit, found " + describe());
    uint64_t n = 0;
    constexpr uint64_t kLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    while (is_digit(peek())) {
      uint64_t d = static_cast<uint64_t>(s_[pos_++] - '0');
      if (n > (kLimit - d) / 10) return fail("integer too large");
      n = n * 10 + d;
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long suffix
    if (is_name_char(peek()) || peek() == '.') return fail("expected an integer, found " + describe());
    v->kind = PyValue::kInt;
    v->i = negative ? -static_cast<int64_t>(n) : static_cast<int64_t>(n);
    return true;
  }

  bool parse_name(PyValue* v) {
    size_t start = pos_;
    while (is_name_char(peek())) ++pos_;
    std::string_view word = s_.substr(start, pos_ - start);
    if ((peek() == '\'' || peek() == '"') && word.size() == 1 && std::strchr("uUbBrR", word[0])) {
      return parse_string(v);  // u'...', b'...', r'...'
    }
    if (word == "True" || word == "False") {
      v->kind = PyValue::kBool;
      v->b = word == "True";
      return true;
    }
    if (word == "None") {
      v->kind = PyValue::kNone;
      return true;
    }
    pos_ = start;
    return fail("unknown name '" + printable(word, 20) + "'");
  }

  bool parse_sequence(PyValue* v, int depth) {
    const char open = s_[pos_++];
    const char close = open == '(' ? ')' : ']';
    std::vector<PyValue> items;
    bool comma = false;
    for (;;) {
      skip_ws();
      if (peek() == close) {
        ++pos_;
        break;
      }
      items.emplace_back();
      if (!parse_value(&items.back(), depth + 1)) return false;
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        comma = true;
        continue;
      }
      if (peek() == close) {
        ++pos_;
        break;
      }
      return fail(std::string("expected ',' or '") + close + "', found " + describe());
    }
    if (open == '(' && items.size() == 1 && !comma) {  // (x) is x, not a tuple
      *v = std::move(items[0]);
      return true;
    }
    v->kind = PyValue::kSeq;
    v->items = std::move(items);
    return true;
  }

  bool parse_dict(PyValue* v, int depth) {
    ++pos_;
    v->kind = PyValue::kDict;
    v->items.clear();
    for (;;) {
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      PyValue key, val;
      if (!parse_value(&key, depth + 1)) return false;
      skip_ws();
      if (peek() != ':') return fail("expected ':', found " + describe());
      ++pos_;
      if (!parse_value(&val, depth + 1)) return false;
      v->items.push_back(std::move(key));
      v->items.push_back(std::move(val));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}', found " + describe());
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string err_;
};

// ---------------------------------------------------------------------------------------------
// Header

struct Preamble {
  size_t header_start = 0;  // offset of the header text
  size_t header_len = 0;
};

// `p` holds the first `n` bytes of a source of `total` bytes (n >= min(total, 12)).
Expected<Preamble> parse_preamble(const char* p, size_t n, size_t total, const std::string& label) {
  if (total == 0) return bad(label, "not a .npy file (empty)");
  if (std::memcmp(p, kMagic, std::min(n, kMagicLen)) != 0) return bad(label, "not a .npy file (bad magic)");
  if (n < kMagicLen + 2)
    return bad(label, "truncated header (file has only " + std::to_string(total) + " bytes)");
  const int major = static_cast<unsigned char>(p[6]);
  const int minor = static_cast<unsigned char>(p[7]);
  if (minor != 0 || major < 1 || major > 3) {
    return bad(label,
               "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  Preamble pre;
  pre.header_start = kMagicLen + 2 + len_bytes;
  if (n < pre.header_start) {
    return bad(label, "truncated header (file has only " + std::to_string(total) + " bytes)");
  }
  for (size_t i = 0; i < len_bytes; ++i) {
    pre.header_len |= static_cast<size_t>(static_cast<unsigned char>(p[8 + i])) << (8 * i);
  }
  if (pre.header_len > total - pre.header_start) {
    return bad(label, "header length " + std::to_string(pre.header_len) + " runs past the end of the file (" +
                          std::to_string(total) + " bytes)");
  }
  if (pre.header_len > kMaxHeaderLen) {
    return bad(label, "header length " + std::to_string(pre.header_len) + " is over the limit of " +
                          std::to_string(kMaxHeaderLen) + " bytes");
  }
  return pre;
}

struct NpyHeader {
  DType dtype = DType::kUndefined;
  char kind = 0;          // f c i u b U S
  size_t item_size = 0;   // bytes per element in the file
  size_t swap_width = 0;  // bytes per unit to reverse (big-endian data), 0 when none
  bool fortran = false;
  Dims shape;
  int64_t numel = 0;
  size_t data_bytes = 0;
  std::string descr;
};

Status parse_descr(const std::string& descr, NpyHeader* h, const std::string& label) {
  auto unsupported_descr = [&] {
    return bad(label, "unsupported dtype '" + printable(descr) +
                          "' (supported: f2 f4 f8 c8 c16 i1 i2 i4 i8 u1 u2 u4 u8 b1 U<n> S<n>)");
  };
  std::string_view d = descr;
  char order = '=';
  if (!d.empty() && std::strchr("<>|=", d[0]) && d[0] != '\0') {
    order = d[0];
    d.remove_prefix(1);
  }
  if (d.size() < 2 || d.size() > 10) return unsupported_descr();
  const char kind = d[0];
  size_t n = 0;
  for (char c : d.substr(1)) {
    if (c < '0' || c > '9') return unsupported_descr();
    n = n * 10 + static_cast<size_t>(c - '0');  // at most 9 digits: no overflow
  }
  DType t = DType::kUndefined;
  switch (kind) {
    case 'f':
      t = n == 2 ? DType::kF16 : n == 4 ? DType::kF32 : n == 8 ? DType::kF64 : DType::kUndefined;
      break;
    case 'c':
      t = n == 8 ? DType::kC64 : n == 16 ? DType::kC128 : DType::kUndefined;
      break;
    case 'i':
      t = n == 1   ? DType::kI8
          : n == 2 ? DType::kI16
          : n == 4 ? DType::kI32
          : n == 8 ? DType::kI64
                   : DType::kUndefined;
      break;
    case 'u':
      t = n == 1   ? DType::kU8
          : n == 2 ? DType::kU16
          : n == 4 ? DType::kU32
          : n == 8 ? DType::kU64
                   : DType::kUndefined;
      break;
    case 'b':
      t = n == 1 ? DType::kBool : DType::kUndefined;
      break;
    case 'U':
    case 'S':
    case 'a':
      t = DType::kString;
      break;
    default:
      break;
  }
  if (t == DType::kUndefined) return unsupported_descr();
  h->dtype = t;
  h->kind = kind == 'a' ? 'S' : kind;
  h->descr = descr;
  if (kind == 'U') {
    h->item_size = n * 4;
    h->swap_width = order == '>' ? 4 : 0;
  } else if (t == DType::kString) {
    h->item_size = n;
  } else {
    h->item_size = n;
    size_t width = kind == 'c' ? n / 2 : n;
    h->swap_width = order == '>' && width > 1 ? width : 0;
  }
  return Status::Ok();
}

Expected<NpyHeader> parse_header(std::string_view text, const std::string& label) {
  PyValue dict;
  LiteralParser parser(text);
  if (!parser.parse(&dict)) return bad(label, "unparsable header: " + parser.error());
  if (dict.kind != PyValue::kDict) return bad(label, "unparsable header: not a dict");
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PyValue& key = dict.items[i];
    if (key.kind != PyValue::kStr) continue;  // numpy never writes such keys; ignore them
    const PyValue* val = &dict.items[i + 1];
    if (key.str == "descr") descr = val;
    if (key.str == "fortran_order") fortran = val;
    if (key.str == "shape") shape = val;
  }
  if (!descr) return bad(label, "header has no 'descr' key");
  if (!fortran) return bad(label, "header has no 'fortran_order' key");
  if (!shape) return bad(label, "header has no 'shape' key");

  NpyHeader h;
  if (descr->kind == PyValue::kSeq) return bad(label, "structured dtypes are not supported");
  if (descr->kind != PyValue::kStr) return bad(label, "header 'descr' is not a string");
  INGOT_RETURN_IF_ERROR(parse_descr(descr->str, &h, label));

  if (fortran->kind == PyValue::kBool) {
    h.fortran = fortran->b;
  } else if (fortran->kind == PyValue::kInt && (fortran->i == 0 || fortran->i == 1)) {
    h.fortran = fortran->i == 1;
  } else {
    return bad(label, "header 'fortran_order' is not True or False");
  }

  if (shape->kind != PyValue::kSeq) return bad(label, "header 'shape' is not a tuple");
  for (const PyValue& d : shape->items) {
    if (d.kind != PyValue::kInt) return bad(label, "header 'shape' holds a value that is not an integer");
    h.shape.push_back(d.i);
  }
  auto numel = checked_numel(h.shape);
  if (!numel.ok()) return numel.status().with_context(label);
  h.numel = *numel;
  if (h.numel > 0 && h.item_size > std::numeric_limits<size_t>::max() / static_cast<uint64_t>(h.numel)) {
    return bad(label, "shape " + dims_to_string(h.shape) + " of '" + printable(h.descr) + "' is too large");
  }
  h.data_bytes = static_cast<size_t>(h.numel) * h.item_size;
  return h;
}

Status check_data_size(const NpyHeader& h, size_t available, const std::string& label) {
  if (available >= h.data_bytes) return Status::Ok();
  return bad(label, "data is truncated: shape " + dims_to_string(h.shape) + " of '" + printable(h.descr) +
                        "' needs " + std::to_string(h.data_bytes) + " bytes, the file has " +
                        std::to_string(available) + " after the header");
}

Expected<Tensor> make_tensor(const NpyHeader& h, const std::string& label) {
  auto t = Tensor::create(h.dtype, h.shape);
  if (!t.ok()) return t.status().with_context(label);
  return std::move(t).value();
}

// ---------------------------------------------------------------------------------------------
// Data

// Copies `numel` elements of `elem` bytes from Fortran order at `src` to C order at `dst`.
void fortran_to_c(const char* src, char* dst, const Dims& dims, int64_t numel, size_t elem) {
  if (numel == 0) return;
  const size_t rank = dims.size();
  std::vector<int64_t> idx(rank, 0), stride(rank);
  int64_t s = 1;
  for (size_t k = 0; k < rank; ++k) {
    stride[k] = s;
    s *= dims[k];
  }
  int64_t off = 0;
  for (int64_t i = 0; i < numel; ++i) {
    std::memcpy(dst + static_cast<size_t>(i) * elem, src + static_cast<size_t>(off) * elem, elem);
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < dims[k]) {
        off += stride[k];
        break;
      }
      idx[k] = 0;
      off -= stride[k] * (dims[k] - 1);
    }
  }
}

void byteswap_units(char* p, size_t bytes, size_t width) {
  if (width < 2) return;
  for (size_t i = 0; i + width <= bytes; i += width) std::reverse(p + i, p + i + width);
}

// Fix-ups after numeric data is in place in the tensor: byte order, and bools as 0/1.
void finish_numeric(const NpyHeader& h, Tensor* t) {
  char* p = static_cast<char*>(t->raw());
  if (h.data_bytes == 0) return;
  byteswap_units(p, h.data_bytes, h.swap_width);
  if (h.dtype == DType::kBool) {
    for (size_t i = 0; i < h.data_bytes; ++i) p[i] = p[i] != 0 ? 1 : 0;
  }
}

void append_utf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the code point at s[*i], advancing *i; invalid UTF-8 yields U+FFFD and advances one byte.
char32_t next_code_point(std::string_view s, size_t* i) {
  const unsigned char c = static_cast<unsigned char>(s[*i]);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  size_t extra;
  char32_t cp, min;
  if ((c & 0xE0) == 0xC0) {
    extra = 1, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3, cp = c & 0x07, min = 0x10000;
  } else {
    ++*i;
    return kReplacement;
  }
  if (s.size() - *i <= extra) {
    ++*i;
    return kReplacement;
  }
  for (size_t k = 1; k <= extra; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++*i;
      return kReplacement;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kReplacement;
  }
  *i += extra + 1;
  return cp;
}

// Decodes U<n> / S<n> elements at `src` (already in C order) into the string tensor `t`.
Status fill_strings(const NpyHeader& h, const char* src, Tensor* t, const std::string& label) {
  std::string* out = t->strings();
  const size_t item = h.item_size;
  for (int64_t e = 0; e < h.numel; ++e) {
    const char* p = src + static_cast<size_t>(e) * item;
    std::string& s = out[e];
    if (h.kind == 'S') {
      size_t len = item;
      while (len > 0 && p[len - 1] == '\0') --len;
      s.assign(p, len);
      continue;
    }
    const size_t units = item / 4;
    auto unit = [&](size_t k) {
      unsigned char b[4];
      std::memcpy(b, p + 4 * k, 4);
      if (h.swap_width) std::swap(b[0], b[3]), std::swap(b[1], b[2]);
      return static_cast<char32_t>(b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24));
    };
    size_t len = units;
    while (len > 0 && unit(len - 1) == 0) --len;
    s.clear();
    for (size_t k = 0; k < len; ++k) {
      char32_t cp = unit(k);
      if (cp > 0x10FFFF) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%X", static_cast<unsigned>(cp));
        return bad(label,
                   "string element " + std::to_string(e) + " holds " + hex + ", which is not a code point");
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = kReplacement;
      append_utf8(&s, cp);
    }
  }
  return Status::Ok();
}

// Fills `t` from `data_bytes` bytes at `src` laid out as the header says.
Status fill_tensor(const NpyHeader& h, const char* src, Tensor* t, const std::string& label) {
  std::vector<char> reordered;
  if (h.fortran && h.shape.size() > 1 && h.data_bytes > 0) {
    if (h.dtype == DType::kString) {
      reordered.resize(h.data_bytes);
      fortran_to_c(src, reordered.data(), h.shape, h.numel, h.item_size);
      src = reordered.data();
    } else {
      fortran_to_c(src, static_cast<char*>(t->raw()), h.shape, h.numel, h.item_size);
      finish_numeric(h, t);
      return Status::Ok();
    }
  }
  if (h.dtype == DType::kString) return fill_strings(h, src, t, label);
  if (h.data_bytes) std::memcpy(t->raw(), src, h.data_bytes);
  finish_numeric(h, t);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Writing

struct WriteSpec {
  enum Conv { kRaw, kBf16ToF32, kString } conv = kRaw;
  std::string descr;
  size_t max_len = 0;  // kString: code points per element
};

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) next_code_point(s, &i);
  return n;
}

Expected<WriteSpec> write_spec(const Tensor& t, const std::string& label) {
  WriteSpec w;
  switch (t.dtype()) {
    case DType::kUndefined:
      return bad(label, "cannot write an undefined tensor");
    case DType::kF16:
      w.descr = "<f2";
      break;
    case DType::kF32:
      w.descr = "<f4";
      break;
    case DType::kF64:
      w.descr = "<f8";
      break;
    case DType::kBF16:
      w.descr = "<f4", w.conv = WriteSpec::kBf16ToF32;
      break;
    case DType::kC64:
      w.descr = "<c8";
      break;
    case DType::kC128:
      w.descr = "<c16";
      break;
    case DType::kI8:
    case DType::kI4:
      w.descr = "|i1";
      break;
    case DType::kI16:
      w.descr = "<i2";
      break;
    case DType::kI32:
      w.descr = "<i4";
      break;
    case DType::kI64:
      w.descr = "<i8";
      break;
    case DType::kU8:
    case DType::kU4:
      w.descr = "|u1";
      break;
    case DType::kU16:
      w.descr = "<u2";
      break;
    case DType::kU32:
      w.descr = "<u4";
      break;
    case DType::kU64:
      w.descr = "<u8";
      break;
    case DType::kBool:
      w.descr = "|b1";
      break;
    case DType::kString: {
      w.conv = WriteSpec::kString;
      w.max_len = 1;  // numpy's dtype for [''] is <U1
      for (int64_t i = 0; i < t.numel(); ++i) w.max_len = std::max(w.max_len, utf8_length(t.strings()[i]));
      const uint64_t cap = static_cast<uint64_t>(std::max<int64_t>(max_tensor_bytes(), 0));
      if (t.numel() > 0 && w.max_len * 4 > cap / static_cast<uint64_t>(t.numel())) {
        return bad(label, "string tensor of shape " + dims_to_string(t.dims()) + " would need more than " +
                              std::to_string(cap >> 20) + " MiB as <U" + std::to_string(w.max_len));
      }
      w.descr = "<U" + std::to_string(w.max_len);
      break;
    }
    default:
      return bad(label, std::string("cannot write a ") + dtype_name(t.dtype()) +
                            " tensor to .npy (numpy has no such type)");
  }
  return w;
}

// The magic, version, header length and padded header dict, as numpy 1.26 writes them.
std::string make_header(const std::string& descr, const Dims& dims) {
  std::string shape = "(";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) shape += ", ";
    shape += std::to_string(dims[i]);
  }
  if (dims.size() == 1) shape += ",";
  shape += ")";
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  if (!dims.empty()) {  // numpy leaves room to grow the first axis in place
    const size_t digits = std::to_string(dims[0]).size();
    if (digits < kGrowthAxisMaxDigits) dict.append(kGrowthAxisMaxDigits - digits, ' ');
  }
  const size_t hlen = dict.size() + 1;  // + '\n'
  int major = 1;
  size_t len_bytes = 2;
  size_t pad = kArrayAlign - ((kMagicLen + 2 + len_bytes + hlen) % kArrayAlign);
  if (hlen + pad > 0xFFFF) {
    major = 2;
    len_bytes = 4;
    pad = kArrayAlign - ((kMagicLen + 2 + len_bytes + hlen) % kArrayAlign);
  }
  const size_t total_len = hlen + pad;
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((total_len >> (8 * i)) & 0xFF);
  out += dict;
  out.append(pad, ' ');
  out += '\n';
  return out;
}

size_t data_size(const Tensor& t, const WriteSpec& w) {
  const size_t n = static_cast<size_t>(t.numel());
  switch (w.conv) {
    case WriteSpec::kRaw:
      return t.nbytes();
    case WriteSpec::kBf16ToF32:
      return n * 4;
    case WriteSpec::kString:
      return n * w.max_len * 4;
  }
  return 0;
}

// Streams the data bytes to `sink(const char*, size_t) -> bool`; false when the sink fails.
template <typename Sink>
bool emit_data(const Tensor& t, const WriteSpec& w, Sink&& sink) {
  constexpr size_t kChunk = 64 << 10;
  const size_t n = static_cast<size_t>(t.numel());
  switch (w.conv) {
    case WriteSpec::kRaw:
      return t.nbytes() == 0 || sink(static_cast<const char*>(t.raw()), t.nbytes());
    case WriteSpec::kBf16ToF32: {
      std::vector<float> buf(std::min(n, kChunk / 4));
      const uint16_t* src = static_cast<const uint16_t*>(t.raw());
      for (size_t i = 0; i < n; i += buf.size()) {
        const size_t m = std::min(buf.size(), n - i);
        for (size_t k = 0; k < m; ++k) buf[k] = bf16_to_float(src[i + k]);
        if (!sink(reinterpret_cast<const char*>(buf.data()), m * 4)) return false;
      }
      return true;
    }
    case WriteSpec::kString: {
      std::string buf;
      for (size_t e = 0; e < n; ++e) {
        const std::string& s = t.strings()[e];
        size_t units = 0;
        for (size_t i = 0; i < s.size(); ++units) {
          const uint32_t cp = next_code_point(s, &i);
          for (int b = 0; b < 4; ++b) buf += static_cast<char>((cp >> (8 * b)) & 0xFF);
        }
        buf.append((w.max_len - units) * 4, '\0');
        if (buf.size() >= kChunk) {
          if (!sink(buf.data(), buf.size())) return false;
          buf.clear();
        }
      }
      return buf.empty() || sink(buf.data(), buf.size());
    }
  }
  return false;
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

// Reads exactly n bytes; on failure returns the reason.
Status read_exact(FILE* f, void* dst, size_t n, const std::string& label) {
  if (n == 0 || std::fread(dst, 1, n, f) == n) return Status::Ok();
  if (std::feof(f)) return bad(label, "file ended early (was it changed while being read?)");
  return bad(label, "read error: " + errno_text(errno));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Expected<Tensor> parse_npy(const std::string& bytes, const std::string& label) {
  INGOT_ASSIGN_OR_RETURN(Preamble pre, parse_preamble(bytes.data(), bytes.size(), bytes.size(), label));
  INGOT_ASSIGN_OR_RETURN(
      NpyHeader h, parse_header(std::string_view(bytes).substr(pre.header_start, pre.header_len), label));
  const size_t offset = pre.header_start + pre.header_len;
  INGOT_RETURN_IF_ERROR(check_data_size(h, bytes.size() - offset, label));
  INGOT_ASSIGN_OR_RETURN(Tensor t, make_tensor(h, label));
  INGOT_RETURN_IF_ERROR(fill_tensor(h, bytes.data() + offset, &t, label));
  return t;
}

Expected<Tensor> read_npy(const std::string& path) {
  errno = 0;
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return not_found(path + ": no such file");
    return bad(path, "cannot open: " + errno_text(err));
  }
  struct stat st;
  if (fstat(fileno(f.get()), &st) != 0) return bad(path, "cannot stat: " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) return bad(path, "is a directory, not a .npy file");

  if (!S_ISREG(st.st_mode)) {  // a pipe or device: read it all, up to a limit
    const uint64_t limit =
        static_cast<uint64_t>(std::max<int64_t>(max_tensor_bytes(), 0)) + kMaxHeaderLen + 64;
    std::string all;
    char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
      all.append(buf, got);
      if (all.size() > limit) return bad(path, "stream is larger than the tensor cap");
    }
    if (std::ferror(f.get())) return bad(path, "read error: " + errno_text(errno));
    return parse_npy(all, path);
  }

  const size_t total = static_cast<size_t>(st.st_size);
  char head[12] = {};
  const size_t head_len = std::min(total, sizeof head);
  INGOT_RETURN_IF_ERROR(read_exact(f.get(), head, head_len, path));
  INGOT_ASSIGN_OR_RETURN(Preamble pre, parse_preamble(head, head_len, total, path));

  std::string header(pre.header_len, '\0');
  if (std::fseek(f.get(), static_cast<long>(pre.header_start), SEEK_SET) != 0) {
    return bad(path, "seek error: " + errno_text(errno));
  }
  INGOT_RETURN_IF_ERROR(read_exact(f.get(), header.data(), header.size(), path));
  INGOT_ASSIGN_OR_RETURN(NpyHeader h, parse_header(header, path));
  INGOT_RETURN_IF_ERROR(check_data_size(h, total - pre.header_start - pre.header_len, path));
  INGOT_ASSIGN_OR_RETURN(Tensor t, make_tensor(h, path));

  if (h.dtype != DType::kString && !(h.fortran && h.shape.size() > 1)) {  // straight into the tensor
    INGOT_RETURN_IF_ERROR(read_exact(f.get(), t.raw(), h.data_bytes, path));
    finish_numeric(h, &t);
    return t;
  }
  std::vector<char> data(h.data_bytes);
  INGOT_RETURN_IF_ERROR(read_exact(f.get(), data.data(), data.size(), path));
  INGOT_RETURN_IF_ERROR(fill_tensor(h, data.data(), &t, path));
  return t;
}

std::string serialize_npy(const Tensor& t) {
  auto spec = write_spec(t, "tensor");
  if (!spec.ok()) return {};
  std::string out = make_header(spec->descr, t.dims());
  out.reserve(out.size() + data_size(t, *spec));
  emit_data(t, *spec, [&](const char* p, size_t n) {
    out.append(p, n);
    return true;
  });
  return out;
}

Status write_npy(const std::string& path, const Tensor& t) {
  INGOT_ASSIGN_OR_RETURN(WriteSpec spec, write_spec(t, path));
  const std::string header = make_header(spec.descr, t.dims());
  return write_file_atomically(path, [&](const WriteSink& sink) {
    return sink(header.data(), header.size()) && emit_data(t, spec, sink);
  });
}

}  // namespace ingot
