#include "core/npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ingot {
namespace {

namespace fs = std::filesystem;

// The bytes numpy 1.26.4 writes for np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3)).
const unsigned char kNumpyArange2x3F32[] = {
    0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72,
    0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27, 0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61,
    0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72, 0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20,
    0x27, 0x73, 0x68, 0x61, 0x70, 0x65, 0x27, 0x3a, 0x20, 0x28, 0x32, 0x2c, 0x20, 0x33, 0x29, 0x2c, 0x20,
    0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f,
    0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40,
};
static_assert(sizeof kNumpyArange2x3F32 == 152);

std::string numpy_arange_bytes() {
  return std::string(reinterpret_cast<const char*>(kNumpyArange2x3F32), sizeof kNumpyArange2x3F32);
}

std::string hex_bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

// A .npy file with the given header text, padded as numpy pads it, then `data`.
std::string make_npy(const std::string& dict, const std::string& data, int major = 1) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((8 + len_bytes + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string make_npy_v(const std::string& descr, const std::string& shape, const std::string& data) {
  return make_npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", data);
}

// A fresh directory under the system temp directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("ingot_npy_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  fs::path path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Random bytes in every element; bools as 0/1. Never all zeros.
Tensor random_tensor(DType dtype, const Dims& dims, uint32_t seed) {
  Tensor t = Tensor::create(dtype, dims).value();
  std::mt19937 rng(seed);
  auto* p = static_cast<unsigned char*>(t.raw());
  bool nonzero = false;
  for (size_t i = 0; i < t.nbytes(); ++i) {
    p[i] = static_cast<unsigned char>(dtype == DType::kBool ? rng() & 1 : rng() & 0xFF);
    nonzero |= p[i] != 0;
  }
  if (!nonzero && t.nbytes()) p[0] = 1;
  return t;
}

void expect_same(const Tensor& a, const Tensor& b) {
  ASSERT_TRUE(b.defined());
  EXPECT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.dims(), b.dims());
  ASSERT_EQ(a.nbytes(), b.nbytes());
  if (a.dtype() == DType::kString) {
    for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.strings()[i], b.strings()[i]) << "element " << i;
  } else if (a.nbytes()) {
    EXPECT_EQ(0, std::memcmp(a.raw(), b.raw(), a.nbytes()));
  }
}

// The error is one line that starts with the label.
void expect_error(const Expected<Tensor>& r, const std::string& label, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << " was accepted";
  const std::string& m = r.status().message();
  EXPECT_EQ(m.rfind(label + ": ", 0), 0u) << what << ": " << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << what << ": " << m;
}

TEST(Npy, RoundTripEveryDtype) {
  const DType types[] = {DType::kF16, DType::kF32, DType::kF64, DType::kC64, DType::kC128,
                         DType::kI8,  DType::kI16, DType::kI32, DType::kI64, DType::kU8,
                         DType::kU16, DType::kU32, DType::kU64, DType::kBool};
  TempDir dir;
  uint32_t seed = 1;
  for (DType dt : types) {
    SCOPED_TRACE(dtype_name(dt));
    Tensor t = random_tensor(dt, {2, 3, 5}, seed++);
    auto parsed = parse_npy(serialize_npy(t), "mem");
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    expect_same(t, *parsed);

    const std::string path = dir.file(std::string(dtype_name(dt)) + ".npy");
    ASSERT_TRUE(write_npy(path, t).ok());
    auto read = read_npy(path);
    ASSERT_TRUE(read.ok()) << read.status().message();
    expect_same(t, *read);
    EXPECT_EQ(read_file(path), serialize_npy(t));
  }
  EXPECT_EQ(dir.entries().size(), std::size(types));  // no temp files left behind
}

TEST(Npy, HeaderIsNumpys) {
  // numpy 1.26: np.save(f, np.float64(3.5)) and np.save(f, np.zeros((3,), np.int32)) headers.
  std::string scalar = serialize_npy(Tensor::from_vector<double>({}, {3.5}));
  ASSERT_EQ(scalar.size(), 128u + 8u);
  EXPECT_EQ(scalar.substr(0, 128), std::string("\x93NUMPY\x01\x00v\x00", 10) +
                                       "{'descr': '<f8', 'fortran_order': False, 'shape': (), }" +
                                       std::string(62, ' ') + "\n");
  std::string vec = serialize_npy(Tensor::from_vector<int32_t>({3}, {7, -8, 9}));
  EXPECT_EQ(vec.substr(0, 128), std::string("\x93NUMPY\x01\x00v\x00", 10) +
                                    "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" +
                                    std::string(60, ' ') + "\n");
  EXPECT_EQ(vec.size() % 4, 0u);
}

TEST(Npy, ReadsNumpyOutput) {
  auto t = parse_npy(numpy_arange_bytes(), "arange.npy");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->dtype(), DType::kF32);
  EXPECT_EQ(t->dims(), (Dims{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t->data<float>()[i], static_cast<float>(i));
  // And ingot writes the same bytes numpy does.
  EXPECT_EQ(serialize_npy(*t), numpy_arange_bytes());

  TempDir dir;
  write_file(dir.file("arange.npy"), numpy_arange_bytes());
  auto r = read_npy(dir.file("arange.npy"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  expect_same(*t, *r);
}

TEST(Npy, Rank0) {
  Tensor t = Tensor::scalar_i64(-1234567890123);
  auto r = parse_npy(serialize_npy(t), "scalar");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rank(), 0);
  EXPECT_EQ(r->numel(), 1);
  EXPECT_EQ(r->data<int64_t>()[0], -1234567890123);
}

TEST(Npy, EmptyTensor) {
  for (const Dims& dims : {Dims{0}, Dims{0, 3}, Dims{4, 0, 2}}) {
    Tensor t = Tensor::create(DType::kI16, dims).value();
    std::string bytes = serialize_npy(t);
    EXPECT_EQ(bytes.size() % 64, 0u);
    auto r = parse_npy(bytes, "empty");
    ASSERT_TRUE(r.ok()) << r.status().message();
    expect_same(t, *r);
  }
  Tensor s = Tensor::create(DType::kString, {0, 2}).value();
  auto r = parse_npy(serialize_npy(s), "empty strings");
  ASSERT_TRUE(r.ok()) << r.status().message();
  expect_same(s, *r);
}

TEST(Npy, StringTensor) {
  Tensor t = Tensor::create(DType::kString, {2, 3}).value();
  const char* values[] = {"ab", "h\xc3\xa9llo", "", "a\xf0\x9f\x98\x80", "tab\there", "with\0nul"};
  for (int i = 0; i < 6; ++i) t.strings()[i] = values[i];
  t.strings()[5] = std::string("with\0nul", 8);  // embedded NUL survives; trailing NULs would not
  std::string bytes = serialize_npy(t);
  EXPECT_NE(bytes.find("'descr': '<U8'"), std::string::npos);
  TempDir dir;
  ASSERT_TRUE(write_npy(dir.file("s.npy"), t).ok());
  auto r = read_npy(dir.file("s.npy"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  expect_same(t, *r);

  // numpy 1.26: np.save(f, np.array(['ab', 'héllo'])).
  std::string numpy_bytes = make_npy_v(
      "<U5", "(2,)",
      hex_bytes("610000006200000000000000000000000000000068000000e90000006c0000006c0000006f000000"));
  EXPECT_EQ(serialize_npy(*parse_npy(numpy_bytes, "u")), numpy_bytes);
  auto u = parse_npy(numpy_bytes, "u");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->strings()[0], "ab");
  EXPECT_EQ(u->strings()[1], "h\xc3\xa9llo");

  // Big-endian UTF-32, byte strings, and an all-empty tensor (written as <U1, like numpy).
  auto be = parse_npy(make_npy_v(">U2", "(1,)", hex_bytes("000000610001f600")), "be");
  ASSERT_TRUE(be.ok()) << be.status().message();
  EXPECT_EQ(be->strings()[0], "a\xf0\x9f\x98\x80");
  auto bs = parse_npy(make_npy_v("|S2", "(2,)", std::string("abc\0", 4)), "bytes");
  ASSERT_TRUE(bs.ok()) << bs.status().message();
  EXPECT_EQ(bs->strings()[0], "ab");
  EXPECT_EQ(bs->strings()[1], "c");
  Tensor empty_strings = Tensor::create(DType::kString, {2}).value();
  EXPECT_NE(serialize_npy(empty_strings).find("'<U1'"), std::string::npos);

  // Invalid UTF-8 is written as U+FFFD.
  Tensor bad = Tensor::create(DType::kString, {}).value();
  bad.strings()[0] = "x\xff";
  auto rb = parse_npy(serialize_npy(bad), "bad utf8");
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->strings()[0], "x\xef\xbf\xbd");
}

TEST(Npy, BFloat16IsWrittenAsFloat32) {
  std::vector<float> values = {1.5f, -0.15625f, 3.0e10f, -7.0f};
  Tensor t = Tensor::create(DType::kBF16, {4}).value();
  for (int i = 0; i < 4; ++i) t.data<BFloat16>()[i] = BFloat16(values[i]);
  std::string bytes = serialize_npy(t);
  EXPECT_NE(bytes.find("'<f4'"), std::string::npos);
  auto r = parse_npy(bytes, "bf16");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->dtype(), DType::kF32);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r->data<float>()[i], static_cast<float>(t.data<BFloat16>()[i]));
}

TEST(Npy, HandBuiltHeaders) {
  const std::string data = hex_bytes("0000c03f000010c1");  // 1.5f, -9.0f
  const std::string headers[] = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
      "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
      "{ \"descr\" :\"<f4\",'fortran_order':False,'shape':( 2 , ) ,}",
      "{'descr': u'<f4', 'fortran_order': False, 'shape': (2L,)}",
      "{'descr': '<f4',\n 'fortran_order': False,\n 'shape': [2]\n}",
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), 'extra': [None, {'a': (1, -2)}]}",
      "{'descr': '=f4', 'fortran_order': 0, 'shape': (1, 2), }",
  };
  for (const std::string& h : headers) {
    SCOPED_TRACE(h);
    auto r = parse_npy(make_npy(h, data), "hand");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->numel(), 2);
    EXPECT_EQ(r->data<float>()[0], 1.5f);
    EXPECT_EQ(r->data<float>()[1], -9.0f);
  }
  // Versions 2.0 (numpy: format.write_array(f, np.arange(3, dtype=np.int32), version=(2, 0))) and 3.0.
  const std::string v2 = std::string("\x93NUMPY\x02\x00t\x00\x00\x00", 12) +
                         "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" + std::string(58, ' ') +
                         "\n" + hex_bytes("000000000100000002000000");
  for (char major : {'\x02', '\x03'}) {
    std::string bytes = v2;
    bytes[6] = major;
    auto r = parse_npy(bytes, "v2");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->dtype(), DType::kI32);
    EXPECT_EQ(r->to_i64_vector(), (std::vector<int64_t>{0, 1, 2}));
  }
  // Trailing bytes after the data are ignored.
  auto trailing = parse_npy(make_npy_v("<f4", "(2,)", data + "garbage"), "trailing");
  ASSERT_TRUE(trailing.ok()) << trailing.status().message();
  EXPECT_EQ(trailing->numel(), 2);
}

TEST(Npy, BigEndianIsConverted) {
  // numpy: np.save(f, np.array([1.5, -2.25, 1e300], dtype='>f8')).
  auto f = parse_npy(make_npy_v(">f8", "(3,)", hex_bytes("3ff8000000000000c0020000000000007e37e43c8800759c")),
                     "be");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->dtype(), DType::kF64);
  EXPECT_EQ(f->data<double>()[0], 1.5);
  EXPECT_EQ(f->data<double>()[1], -2.25);
  EXPECT_EQ(f->data<double>()[2], 1e300);
  auto i = parse_npy(make_npy_v(">i2", "(2,)", hex_bytes("0102fffe")), "be");
  ASSERT_TRUE(i.ok()) << i.status().message();
  EXPECT_EQ(i->data<int16_t>()[0], 0x0102);
  EXPECT_EQ(i->data<int16_t>()[1], -2);
  auto c = parse_npy(make_npy_v(">c8", "(1,)", hex_bytes("3fc00000c0000000")), "be");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->data<float>()[0], 1.5f);
  EXPECT_EQ(c->data<float>()[1], -2.0f);
  auto b = parse_npy(make_npy_v("|b1", "(3,)", hex_bytes("00017f")), "bool");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->to_i64_vector(), (std::vector<int64_t>{0, 1, 1}));
}

TEST(Npy, FortranOrderIsTransposed) {
  // numpy: np.save(f, np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3))).
  const std::string bytes = make_npy("{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }",
                                     hex_bytes("000003000100040002000500"));
  auto r = parse_npy(bytes, "f");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->dims(), (Dims{2, 3}));
  EXPECT_EQ(r->to_i64_vector(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  TempDir dir;
  write_file(dir.file("f.npy"), bytes);
  auto rf = read_npy(dir.file("f.npy"));
  ASSERT_TRUE(rf.ok()) << rf.status().message();
  EXPECT_EQ(rf->to_i64_vector(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));

  // 2x2x2 int8: Fortran element (i, j, k) is at i + 2j + 4k.
  std::string data;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) data += static_cast<char>(100 * i + 10 * j + k);
  auto r3 = parse_npy(make_npy("{'descr': '|i1', 'fortran_order': True, 'shape': (2, 2, 2), }", data), "f3");
  ASSERT_TRUE(r3.ok()) << r3.status().message();
  EXPECT_EQ(r3->to_i64_vector(), (std::vector<int64_t>{0, 1, 10, 11, 100, 101, 110, 111}));

  auto s = parse_npy(make_npy("{'descr': '<U1', 'fortran_order': True, 'shape': (2, 2), }",
                              hex_bytes("61000000630000006200000064000000")),
                     "fs");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->strings()[0] + s->strings()[1] + s->strings()[2] + s->strings()[3], "abcd");
}

TEST(Npy, MalformedFilesAreErrors) {
  const std::string label = "x.npy";
  const std::string f4x2 = hex_bytes("0000c03f000010c1");
  auto with_dict = [&](const std::string& dict) { return make_npy(dict, f4x2); };
  std::string len_past_end = make_npy_v("<f4", "(2,)", f4x2);
  len_past_end[8] = '\xff';
  len_past_end[9] = '\xff';
  std::string v2_huge_len = std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + "{}";
  std::string bad_version = make_npy_v("<f4", "(2,)", f4x2);
  bad_version[6] = '\x04';
  std::string bad_minor = make_npy_v("<f4", "(2,)", f4x2);
  bad_minor[7] = '\x01';
  std::string deep(5000, '(');

  const std::pair<const char*, std::string> cases[] = {
      {"empty file", ""},
      {"bad magic", "PK\x03\x04 this is a zip file"},
      {"bad magic, short", "\x93NUMPX"},
      {"magic only", "\x93NUMPY"},
      {"truncated length", std::string("\x93NUMPY\x01\x00\x10", 9)},
      {"version 4.0", bad_version},
      {"version 1.1", bad_minor},
      {"header length past the end", len_past_end},
      {"v2 header length past the end", v2_huge_len},
      {"not a dict", with_dict("['descr', '<f4']")},
      {"unterminated dict", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)")},
      {"unterminated string", with_dict("{'descr': '<f4")},
      {"missing colon", with_dict("{'descr' '<f4', 'fortran_order': False, 'shape': (2,)}")},
      {"missing comma", with_dict("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}")},
      {"text after dict", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x")},
      {"unknown name", with_dict("{'descr': '<f4', 'fortran_order': false, 'shape': (2,)}")},
      {"float dim", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}")},
      {"deep nesting", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': " + deep + "}")},
      {"missing descr", with_dict("{'fortran_order': False, 'shape': (2,)}")},
      {"missing fortran_order", with_dict("{'descr': '<f4', 'shape': (2,)}")},
      {"missing shape", with_dict("{'descr': '<f4', 'fortran_order': False}")},
      {"unknown descr", with_dict("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,)}")},
      {"object descr", with_dict("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}")},
      {"f3 descr", with_dict("{'descr': '<f3', 'fortran_order': False, 'shape': (2,)}")},
      {"empty descr", with_dict("{'descr': '', 'fortran_order': False, 'shape': (2,)}")},
      {"structured descr", with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}")},
      {"descr not a string", with_dict("{'descr': 4, 'fortran_order': False, 'shape': (2,)}")},
      {"fortran_order not bool", with_dict("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,)}")},
      {"shape not a tuple", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': 2}")},
      {"shape (2) is not a tuple", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}")},
      {"shape of strings", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}")},
      {"negative dim", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2)}")},
      {"dim past int64",
       with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}")},
      {"numel past int64",
       with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}")},
      {"bytes past size_t",
       with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}")},
      {"absurd dim", with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,)}")},
      {"absurd U", with_dict("{'descr': '<U999999999', 'fortran_order': False, 'shape': (999999999999,)}")},
      {"data too short", make_npy_v("<f4", "(2, 3)", std::string(20, '\x01'))},
      {"no data", make_npy_v("<i8", "()", "")},
      {"invalid code point", make_npy_v("<U1", "(1,)", hex_bytes("00001100"))},
  };
  for (const auto& [what, bytes] : cases) expect_error(parse_npy(bytes, label), label, what);

  auto short_data = parse_npy(make_npy_v("<f4", "(2, 3)", std::string(20, '\x01')), label);
  ASSERT_FALSE(short_data.ok());
  EXPECT_NE(short_data.status().message().find("24"), std::string::npos) << short_data.status().message();
  EXPECT_NE(short_data.status().message().find("20"), std::string::npos) << short_data.status().message();
  EXPECT_EQ(parse_npy("nope", label).status().message(), "x.npy: not a .npy file (bad magic)");

  // The same through read_npy, which reads the header and data separately.
  TempDir dir;
  const std::string path = dir.file("x.npy");
  for (const auto& [what, bytes] : cases) {
    write_file(path, bytes);
    expect_error(read_npy(path), path, what);
  }
}

TEST(Npy, TensorCapIsEnforced) {
  const int64_t old_cap = max_tensor_bytes();
  const std::string bytes = serialize_npy(random_tensor(DType::kF32, {512}, 7));
  set_max_tensor_bytes(1024);
  auto r = parse_npy(bytes, "big.npy");
  set_max_tensor_bytes(old_cap);
  expect_error(r, "big.npy", "over the cap");
}

TEST(Npy, EveryTruncationAndCorruptionIsHandled) {
  Tensor s = Tensor::create(DType::kString, {2}).value();
  s.strings()[0] = "abc";
  s.strings()[1] = "\xc3\xa9";
  const std::string files[] = {numpy_arange_bytes(), serialize_npy(s),
                               serialize_npy(random_tensor(DType::kU16, {3, 1}, 3))};
  for (const std::string& good : files) {
    for (size_t n = 0; n < good.size(); ++n)
      expect_error(parse_npy(good.substr(0, n), "cut"), "cut", "truncated");
    // Flipping bytes must never crash (run under ASan/UBSan); errors must stay well formed.
    std::mt19937 rng(42);
    for (int trial = 0; trial < 2000; ++trial) {
      std::string bytes = good;
      for (int k = 0; k < 3; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
      auto r = parse_npy(bytes, "fuzz");
      if (!r.ok()) expect_error(r, "fuzz", "corrupted");
    }
  }
}

TEST(Npy, MissingFile) {
  TempDir dir;
  const std::string path = dir.file("absent.npy");
  auto r = read_npy(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), path + ": no such file");
  expect_error(read_npy(dir.file("")), dir.file(""), "a directory");
}

TEST(Npy, FailedWritesLeaveNoTrace) {
  TempDir dir;
  Tensor t = random_tensor(DType::kF32, {4}, 9);

  // Into a missing directory.
  const std::string missing = dir.file("no_such_dir/out.npy");
  Status st = write_npy(missing, t);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind(missing + ": ", 0), 0u) << st.message();
  EXPECT_TRUE(dir.entries().empty());

  // An existing file survives a refused write.
  const std::string path = dir.file("keep.npy");
  ASSERT_TRUE(write_npy(path, t).ok());
  const std::string before = read_file(path);
  st = write_npy(path, Tensor());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind(path + ": ", 0), 0u) << st.message();
  Tensor f8 = Tensor::create(DType::kF8E4M3FN, {2}).value();
  EXPECT_FALSE(write_npy(path, f8).ok());
  EXPECT_TRUE(serialize_npy(f8).empty());
  EXPECT_TRUE(serialize_npy(Tensor()).empty());
  EXPECT_EQ(read_file(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.npy"});

  // Onto a directory: the rename fails and the temp file is removed.
  fs::create_directory(dir.file("adir"));
  st = write_npy(dir.file("adir"), t);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind(dir.file("adir") + ": ", 0), 0u) << st.message();
  EXPECT_EQ(dir.entries().size(), 2u);

  // A successful write replaces the file.
  Tensor t2 = random_tensor(DType::kI64, {2, 2}, 10);
  ASSERT_TRUE(write_npy(path, t2).ok());
  auto r = read_npy(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  expect_same(t2, *r);
}

// Threads writing one path at the same time each go through their own temporary file: every write
// succeeds, the file left is one whole array, and no temporary file remains.
TEST(Npy, ConcurrentWritesToOnePath) {
  TempDir dir;
  const std::string path = dir.file("shared.npy");
  constexpr int kThreads = 8, kWrites = 25;
  std::vector<Tensor> tensors;
  for (int i = 0; i < kThreads; ++i) tensors.push_back(random_tensor(DType::kF32, {64, 33}, 100 + i));
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kWrites && errors[i].empty(); ++k) {
        Status st = write_npy(path, tensors[i]);
        if (!st.ok()) errors[i] = st.message();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"shared.npy"});
  auto r = read_npy(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  int matches = 0;
  for (const Tensor& t : tensors)
    matches += r->dims() == t.dims() && std::memcmp(r->raw(), t.raw(), t.nbytes()) == 0;
  EXPECT_EQ(matches, 1);
}

}  // namespace
}  // namespace ingot
